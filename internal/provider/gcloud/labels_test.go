package gcloud

import (
	"strings"
	"testing"

	"github.com/cloudark/cld/internal/provider"
)

// Google's label form loses characters ("/" in cld-element), so ownership
// is judged against the converted form of the element's own labels.
func TestObservedLabelsTellWhoseItIs(t *testing.T) {
	own := map[string]string{provider.LabelManagedBy: "cld", provider.LabelElement: "env/dev/cloudsql/cloudsql", provider.LabelInstall: "a1b2c3"}
	other := map[string]string{provider.LabelManagedBy: "cld", provider.LabelElement: "env/dev/cloudsql/cloudsql", provider.LabelInstall: "ffff00"}
	for _, tc := range []struct {
		name string
		have map[string]string
		want string // substring of the reason; "" = ours
	}{
		{"ours", googleLabels(own), ""},
		{"another installation's", googleLabels(other), "cld-install=ffff00"},
		{"made by hand", map[string]string{"team": "data"}, "not made by cld"},
		{"no labels: nothing known", nil, ""},
		// networks and firewall rules carry them in their description
		{"our network", describedLabels(describe("cld network", own)), ""},
		{"another installation's network", describedLabels(describe("cld network", other)), "cld-install=ffff00"},
		{"a network without cld's description", describedLabels("made by hand"), ""},
	} {
		got := provider.Foreign(observedLabels(tc.have, own), own)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: Foreign = %q, want %q", tc.name, got, tc.want)
		}
	}
}
