package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gcfake "github.com/cloudark/cld/test/fake/gcloud"
	"github.com/cloudark/cld/test/kubeharness"
)

// The Google Cloud world of the gcloud e2e tests: the stateful Google fake
// (started in-process, reached by the cld server through the real Google
// clients by CLOUDSDK_API_ENDPOINT_OVERRIDES_*), whose GKE clusters'
// endpoint is a real Kubernetes control plane (test/kubeharness) accepting
// the OAuth access token the fake's token endpoint issues, and whose
// Artifact Registry repositories live in a real docker registry.

const (
	gcProject = "cld-e2e"
	gcZone    = "us-central1-a"
)

type gcWorld struct {
	t        *testing.T
	fake     *gcfake.Server
	cluster  *kubeharness.Cluster
	registry string // host:port of the docker registry ("" without)
	env      []string
}

// gcHarness starts the control plane shared by a test's subtests.
func gcHarness(t *testing.T, token string) *kubeharness.Cluster {
	t.Helper()
	kubeharness.RequireBinaries(t)
	c := kubeharness.StartT(t, kubeharness.Options{ContextName: "gke-e2e", BearerToken: token, Nodes: 2})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go gcLoadBalancers(ctx, c, done)
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// gcLoadBalancers plays GKE's load-balancer controller: every LoadBalancer
// Service gets an external address (no traffic goes there: nothing routes).
func gcLoadBalancers(ctx context.Context, c *kubeharness.Cluster, done chan struct{}) {
	defer close(done)
	n := 0
	for ctx.Err() == nil {
		svcs, err := c.Client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range svcs.Items {
				s := &svcs.Items[i]
				if s.Spec.Type != corev1.ServiceTypeLoadBalancer || len(s.Status.LoadBalancer.Ingress) > 0 {
					continue
				}
				n++
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: fmt.Sprintf("34.120.%d.%d", n/250, n%250+1)}}
				_, _ = c.Client.CoreV1().Services(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{})
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// gcStart starts a fake whose clusters are c, with authentication required.
func gcStart(t *testing.T, c *kubeharness.Cluster, token, registry string, o gcfake.Options) *gcWorld {
	t.Helper()
	o.KubeEndpoint = strings.TrimPrefix(c.Server, "https://")
	o.KubeCA = c.Config.TLSClientConfig.CAData
	o.RegistryHost = registry
	o.AccessToken = token
	o.RequireAuth = true
	srv, err := gcfake.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	w := &gcWorld{t: t, fake: srv, cluster: c, registry: registry}
	dir := t.TempDir()
	w.env = append(srv.Env(),
		"GOOGLE_APPLICATION_CREDENTIALS="+gcServiceAccount(t, dir, srv.TokenURL()),
		"CLOUDSDK_CONFIG="+dir, // not the machine's gcloud configuration
		"CLOUDSDK_CORE_PROJECT="+gcProject,
		"CLOUDSDK_COMPUTE_ZONE="+gcZone,
	)
	return w
}

// gcDurations are the fake's durations for most tests: short, but long
// enough that every element goes through its in-progress states.
func gcDurations() gcfake.Options {
	return gcfake.Options{
		OperationDuration: 50 * time.Millisecond, ClusterCreateDuration: 300 * time.Millisecond,
		ClusterDeleteDuration: 200 * time.Millisecond, ClusterUpdateDuration: 100 * time.Millisecond,
		SQLCreateDuration: 300 * time.Millisecond, SQLUpdateDuration: 100 * time.Millisecond,
		SQLDeleteDuration: 200 * time.Millisecond, SQLOperationDuration: 50 * time.Millisecond,
		RepositoryDuration: 50 * time.Millisecond,
	}
}

func (w *gcWorld) user() *user {
	u := newUser(w.t)
	u.env = append(u.env, w.env...)
	w.t.Cleanup(func() {
		if w.t.Failed() {
			b, _ := os.ReadFile(filepath.Join(u.home, "server.log"))
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			w.t.Logf("server.log (end):\n%s", b)
		}
	})
	return u
}

// gcServiceAccount writes a service-account key whose token_uri is the fake's.
func gcServiceAccount(t *testing.T, dir, tokenURL string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": gcProject, "private_key_id": "e2e",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "cld-e2e@" + gcProject + ".iam.gserviceaccount.com", "client_id": "1", "token_uri": tokenURL,
	})
	p := filepath.Join(dir, "sa.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// gcToken is a fresh OAuth-looking access token for one test.
func gcToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return fmt.Sprintf("ya29.cld-e2e-%x", b)
}

// inventory lists what the fake holds that a client made (what Google makes
// for its own resources, subnetworks of auto-mode networks, GKE's firewall
// rules and nodes, default databases, goes with its owner).
func (w *gcWorld) inventory() []string {
	var out []string
	for _, r := range w.fake.Inventory() {
		if r.Owner != "" {
			continue
		}
		out = append(out, r.API+" "+r.Type+" "+r.Name+" "+r.Status)
	}
	sort.Strings(out)
	return out
}

// assertEmpty waits (bounded) until the fake holds nothing at all, and the
// registry no image.
func (w *gcWorld) assertEmpty(context string) {
	w.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var left []string
		for _, r := range w.fake.Inventory() {
			left = append(left, r.API+" "+r.Type+" "+r.Name+" "+r.Status)
		}
		if w.registry != "" {
			left = append(left, registryImages(w.t, w.registry)...)
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: left behind:\n  %s", context, strings.Join(left, "\n  "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// registryImages lists name:tag of every image the docker registry holds.
func registryImages(t *testing.T, addr string) []string {
	t.Helper()
	var cat struct {
		Repositories []string `json:"repositories"`
	}
	getJSON(t, "http://"+addr+"/v2/_catalog", &cat)
	var out []string
	for _, r := range cat.Repositories {
		var tl struct {
			Tags []string `json:"tags"`
		}
		getJSON(t, "http://"+addr+"/v2/"+r+"/tags/list", &tl)
		for _, tag := range tl.Tags {
			out = append(out, "image "+r+":"+tag)
		}
	}
	return out
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 404 {
		return // a repository whose tags were all deleted
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v: %s", url, err, b)
	}
}

// gcEnv is `env show -o json` of a gcloud environment.
type gcEnv struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Error    string `json:"error"`
	Elements []struct {
		Key     string            `json:"key"`
		Kind    string            `json:"kind"`
		Name    string            `json:"name"`
		Status  string            `json:"status"`
		Labels  map[string]string `json:"labels"`
		Outputs map[string]string `json:"outputs"`
	} `json:"elements"`
}

func (e gcEnv) element(key string) (string, map[string]string) {
	for _, el := range e.Elements {
		if el.Key == key {
			return el.Name, el.Outputs
		}
	}
	return "", nil
}

// bearer authenticates test clients of the fake.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// gcInstanceIP is the external address of a fake GKE node
// ("projects/P/zones/Z/instances/N").
func gcInstanceIP(t *testing.T, w *gcWorld, name string) string {
	t.Helper()
	svc, err := compute.NewService(context.Background(), option.WithEndpoint(w.fake.ComputeURL()),
		option.WithHTTPClient(&http.Client{Transport: bearer{token: w.fake.AccessToken()}}))
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Split(name, "/")
	if len(p) != 6 {
		t.Fatalf("instance name %q", name)
	}
	in, err := svc.Instances.Get(p[1], p[3], p[5]).Do()
	if err != nil {
		t.Fatal(err)
	}
	return in.NetworkInterfaces[0].AccessConfigs[0].NatIP
}
