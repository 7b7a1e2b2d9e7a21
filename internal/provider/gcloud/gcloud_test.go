package gcloud

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sqladmin "google.golang.org/api/sqladmin/v1"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/provider/providertest"
	fake "github.com/cloudark/cld/test/fake/gcloud"
)

// The conformance suite against the stateful fake, reached through the real
// Google clients by endpoint override and authenticated with a
// service-account key whose token the fake's token endpoint issues.

// Network, firewall rule, and a Cloud SQL instance with its database, user
// and authorized networks (a policy: no cluster here).
func TestConformanceNetworkAndCloudSQL(t *testing.T) {
	srv := newFake(t, fake.Options{})
	s := testSettings(t, srv)
	run := runID("c")
	base := run + "-1700000000"
	providertest.Run(t, providertest.Suite{
		New:          func() provider.Target { return New() },
		ReadyTimeout: 20 * time.Second,
		Owner:        map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelEnv: run},
		Elements: func(t *testing.T) []*provider.Element {
			inst := base + "-cloudsql"
			child := provider.MustSpec(sqlChildSpec{Settings: s, Instance: inst, Engine: "postgres"})
			return []*provider.Element{
				{Key: "network", Kind: KindNetwork, Target: TargetName, Name: base, Labels: labelsFor(run, "network"),
					Spec: provider.MustSpec(networkSpec{Settings: s})},
				{Key: "firewall", Kind: KindFirewall, Target: TargetName, Name: base + "-internal", Deps: []string{"network"}, Labels: labelsFor(run, "firewall"),
					Spec: provider.MustSpec(firewallSpec{Settings: s, Network: base, SourceRanges: []string{autoModeRange}})},
				{Key: "db", Kind: KindSQLInstance, Target: TargetName, Name: inst, Labels: labelsFor(run, "db"), BindType: "CLOUDSQL",
					Spec: provider.MustSpec(sqlInstanceSpec{Settings: s, Engine: "postgres", Version: "POSTGRES_16", Tier: DefaultTier,
						DBName: "app", Username: "app", Connect: "direct"}),
					Inputs: map[string]string{"password": "pw-1", "root_password": "pw-0"}},
				{Key: "db/database", Kind: KindSQLDatabase, Target: TargetName, Name: "app", Deps: []string{"db"}, Labels: labelsFor(run, "db/database"), Spec: child},
				{Key: "db/user", Kind: KindSQLUser, Target: TargetName, Name: "app", Deps: []string{"db/database"}, Labels: labelsFor(run, "db/user"), Spec: child,
					Inputs: map[string]string{"password": "pw-1"}},
				{Key: "db/authorization", Kind: KindSQLAuthorization, Target: TargetName, Name: inst, Deps: []string{"db/user"}, Labels: labelsFor(run, "db/authorization"),
					Spec: provider.MustSpec(sqlAuthorizationSpec{Settings: s, Instance: inst, Policy: "203.0.113.0/24"})},
			}
		},
	})
	assertEmpty(t, srv)
	if got, _ := srv.SQLUserPassword(testProject, base+"-cloudsql", "app"); got != "" {
		t.Errorf("user still there with password %q", got)
	}
}

// A GKE cluster on its network and the kubeconfig cld writes for it.
func TestConformanceGKE(t *testing.T) {
	srv := newFake(t, fake.Options{})
	s := testSettings(t, srv)
	run := runID("g")
	base := run + "-1700000000"
	dir := t.TempDir()
	ctxName := "gke_" + testProject + "_" + testZone + "_" + base
	providertest.Run(t, providertest.Suite{
		New:          func() provider.Target { return New() },
		ReadyTimeout: 20 * time.Second,
		Owner:        map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelEnv: run},
		Elements: func(t *testing.T) []*provider.Element {
			return []*provider.Element{
				{Key: "network", Kind: KindNetwork, Target: TargetName, Name: base, Labels: labelsFor(run, "network"),
					Spec: provider.MustSpec(networkSpec{Settings: s})},
				{Key: "cluster", Kind: KindCluster, Target: TargetName, Name: base, Deps: []string{"network"}, Labels: labelsFor(run, "cluster"),
					Spec: provider.MustSpec(clusterSpec{Settings: s, Network: base, Size: 2, MachineType: "e2-small"})},
			}
		},
	})
	assertEmpty(t, srv)

	// the kubeconfig: endpoint and CA of the cluster, the token in a file
	tg := New()
	ctx := context.Background()
	net := &provider.Element{Key: "network", Kind: KindNetwork, Target: TargetName, Name: base + "-k", Labels: labelsFor(run, "network"), Spec: provider.MustSpec(networkSpec{Settings: s})}
	cl := &provider.Element{Key: "cluster", Kind: KindCluster, Target: TargetName, Name: base + "-k", Labels: labelsFor(run, "cluster"),
		Spec: provider.MustSpec(clusterSpec{Settings: s, Network: base + "-k", Size: 1, MachineType: "e2-small"})}
	kc := &provider.Element{Key: "kubeconfig", Kind: KindKubeconfig, Target: TargetName, Name: ctxName,
		Spec: provider.MustSpec(kubeconfigSpec{Settings: s, Cluster: base + "-k", Dir: dir})}
	for _, el := range []*provider.Element{net, cl, kc} {
		createReady(t, tg, el)
	}
	b, err := os.ReadFile(filepath.Join(dir, kubeconfigFile))
	if err != nil || !strings.Contains(string(b), "server: https://192.0.2.") || !strings.Contains(string(b), "tokenFile: "+filepath.Join(dir, tokenFile)) {
		t.Fatalf("kubeconfig: %v\n%s", err, b)
	}
	if tok, _ := os.ReadFile(filepath.Join(dir, tokenFile)); string(tok) != srv.AccessToken() {
		t.Fatalf("token file holds %q", tok)
	}
	if st, _ := os.Stat(filepath.Join(dir, tokenFile)); st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", st.Mode())
	}
	h, _ := tg.Handler(KindKubeconfig)
	if err := h.Delete(ctx, &provider.Request{Element: kc}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, tokenFile)); !os.IsNotExist(err) {
		t.Fatalf("token file left: %v", err)
	}
	removed, err := tg.Sweep(ctx, map[string]string{provider.LabelEnv: run})
	if err != nil || len(removed) != 2 {
		t.Fatalf("sweep: %v %v", removed, err)
	}
	assertEmpty(t, srv)
}

// Cloud SQL's authorized networks are the cluster nodes' external
// addresses, plus what a policy opens on purpose; a user's own entries stay.
func TestAuthorizedNetworks(t *testing.T) {
	srv := newFake(t, fake.Options{})
	s := testSettings(t, srv)
	run := runID("a")
	base := run + "-1700000000"
	tg := New()
	ctx := context.Background()
	net := &provider.Element{Key: "network", Kind: KindNetwork, Target: TargetName, Name: base, Labels: labelsFor(run, "network"), Spec: provider.MustSpec(networkSpec{Settings: s})}
	cl := &provider.Element{Key: "cluster", Kind: KindCluster, Target: TargetName, Name: base, Labels: labelsFor(run, "cluster"),
		Spec: provider.MustSpec(clusterSpec{Settings: s, Network: base, Size: 3, MachineType: "e2-small"})}
	inst := &provider.Element{Key: "db", Kind: KindSQLInstance, Target: TargetName, Name: base + "-cloudsql", Labels: labelsFor(run, "db"),
		Spec:   provider.MustSpec(sqlInstanceSpec{Settings: s, Engine: "mysql", Version: "MYSQL_8_0", Tier: DefaultTier, DBName: "app", Username: "app", Connect: "direct"}),
		Inputs: map[string]string{"password": "x"}}
	for _, el := range []*provider.Element{net, cl, inst} {
		createReady(t, tg, el)
	}
	c, err := tg.api(s)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := c.nodeAddresses(ctx, s, base)
	if err != nil || len(nodes) != 3 {
		t.Fatalf("node addresses %v %v", nodes, err)
	}
	// a user's own entry, which cld must keep
	_, err = c.sql.Instances.Patch(testProject, inst.Name, &sqladmin.DatabaseInstance{Settings: &sqladmin.Settings{IpConfiguration: &sqladmin.IpConfiguration{
		Ipv4Enabled: true, AuthorizedNetworks: []*sqladmin.AclEntry{{Name: "office", Value: "198.51.100.7/32"}}}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return slices.Equal(authorized(t, c, inst.Name), []string{"198.51.100.7/32"}) })

	for _, tc := range []struct {
		policy string
		extra  []string
	}{
		{"", nil},
		{"open", []string{"0.0.0.0/0"}},
		{"203.0.113.0/24", []string{"203.0.113.0/24"}},
	} {
		auth := &provider.Element{Key: "db/authorization", Kind: KindSQLAuthorization, Target: TargetName, Name: inst.Name, Labels: labelsFor(run, "db/authorization"),
			Spec: provider.MustSpec(sqlAuthorizationSpec{Settings: s, Instance: inst.Name, Cluster: base, Policy: tc.policy})}
		createReady(t, tg, auth)
		want := []string{"198.51.100.7/32"}
		for _, ip := range nodes {
			want = append(want, ip+"/32")
		}
		want = append(want, tc.extra...)
		slices.Sort(want)
		if got := authorized(t, c, inst.Name); !slices.Equal(got, want) {
			t.Fatalf("policy %q: authorized %v, want %v", tc.policy, got, want)
		}
		h, _ := tg.Handler(KindSQLAuthorization)
		if err := h.Delete(ctx, &provider.Request{Element: auth}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return slices.Equal(authorized(t, c, inst.Name), []string{"198.51.100.7/32"}) })
	}
	if _, err := tg.Sweep(ctx, map[string]string{provider.LabelEnv: run}); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, srv)
}

func authorized(t *testing.T, c *apiClients, instance string) []string {
	t.Helper()
	in, err := c.sql.Instances.Get(testProject, instance).Do()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range in.Settings.IpConfiguration.AuthorizedNetworks {
		out = append(out, e.Value)
	}
	slices.Sort(out)
	return out
}

// createReady creates an element and waits until it is ready, as the engine does.
func createReady(t *testing.T, tg provider.Target, el *provider.Element) provider.Observation {
	t.Helper()
	ctx := context.Background()
	h, ok := tg.Handler(el.Kind)
	if !ok {
		t.Fatalf("no handler for %s", el.Kind)
	}
	req := &provider.Request{Element: el, Progress: func(m string) { t.Logf("%s: %s", el.Key, m) }}
	obs, err := h.Observe(ctx, req)
	if err != nil {
		t.Fatalf("%s: observe: %v", el.Key, err)
	}
	if !obs.Exists || obs.Incomplete {
		if err := h.Create(ctx, req); err != nil {
			t.Fatalf("%s: create: %v", el.Key, err)
		}
	}
	var last provider.Observation
	waitFor(t, func() bool {
		obs, err := h.Observe(ctx, req)
		if err != nil {
			t.Logf("%s: %v", el.Key, err)
			return false
		}
		if obs.Failed != "" {
			t.Fatalf("%s: %s", el.Key, obs.Failed)
		}
		last = obs
		return obs.Exists && obs.Ready
	})
	el.Ref, el.Outputs, el.Secrets = last.Ref, last.Outputs, last.Secrets
	return last
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertEmpty checks the fake holds nothing (what GKE and Cloud SQL make
// for themselves goes with its owner).
func assertEmpty(t *testing.T, srv *fake.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []string
		for _, r := range srv.Inventory() {
			left = append(left, r.Type+" "+r.Name+" "+r.Status)
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
