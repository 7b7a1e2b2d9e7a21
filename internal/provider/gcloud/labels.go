package gcloud

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/cloudark/cld/internal/provider"
)

// Google labels: keys and values of lower-case letters, digits, '-' and '_',
// at most 63 characters (keys start with a letter). cld's element label
// "env/dev/database/cloudsql" becomes "env_dev_database_cloudsql".
func labelPart(v string) string {
	v = strings.ToLower(v)
	var b strings.Builder
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 63 {
		sum := sha256.Sum256([]byte(v))
		s = s[:54] + "-" + hex.EncodeToString(sum[:])[:8]
	}
	return s
}

// googleLabels converts cld's ownership labels for Google resources.
func googleLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		out[labelPart(k)] = labelPart(v)
	}
	return out
}

// observedLabels turns the Google labels of an object found under an
// element's name into cld's form for provider.Foreign: a label that equals
// the converted form of the element's own is given the element's value, any
// other keeps Google's (so another owner's differs). nil (nothing known)
// when the object has no labels at all.
func observedLabels(have, own map[string]string) map[string]string {
	if len(have) == 0 {
		return nil
	}
	out := make(map[string]string, len(have))
	for k, v := range have {
		out[k] = v
	}
	for k, v := range own {
		if got, ok := have[labelPart(k)]; ok {
			if got == labelPart(v) {
				got = v
			}
			out[k] = got
		}
	}
	return out
}

// matches reports whether Google labels carry every one of want (cld form).
func matches(have, want map[string]string) bool {
	if have[provider.LabelManagedBy] != provider.ManagedByValue {
		return false
	}
	for k, v := range want {
		if have[labelPart(k)] != labelPart(v) {
			return false
		}
	}
	return true
}

// Networks and firewall rules take no labels: cld writes them in the
// description, after this marker, and reads them back from there.
const marker = "cld-labels:"

func describe(what string, l map[string]string) string {
	gl := googleLabels(l)
	keys := make([]string, 0, len(gl))
	for k := range gl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + gl[k]
	}
	return what + " " + marker + " " + strings.Join(parts, ",")
}

// describedLabels reads the labels of a description describe wrote.
func describedLabels(desc string) map[string]string {
	i := strings.Index(desc, marker)
	if i < 0 {
		return nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSpace(desc[i+len(marker):]), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// shortName fits name into max characters, keeping it unique with a hash.
func shortName(name string, max int) string {
	if len(name) <= max {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:max-9], "-") + "-" + hex.EncodeToString(sum[:])[:8]
}
