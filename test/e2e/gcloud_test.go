package e2e

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	compute "google.golang.org/api/compute/v1"
	container "google.golang.org/api/container/v1"
	"google.golang.org/api/option"
	sqladmin "google.golang.org/api/sqladmin/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gcfake "github.com/cloudark/cld/test/fake/gcloud"
	"github.com/cloudark/cld/test/kubeharness"
)

// The gcloud target end to end: the real cld binary (and the server it
// starts, which inherits the CLOUDSDK_* variables) against the Google fake,
// with GKE clusters whose endpoint is a real Kubernetes control plane and
// an Artifact Registry backed by a real docker registry. One control plane
// serves every subtest.
func TestGCloud(t *testing.T) {
	token := gcToken()
	cluster := gcHarness(t, token)
	t.Run("Lifecycle", func(t *testing.T) { gcLifecycle(t, cluster, token) })
	t.Run("CloudSQLProxyAndPolicy", func(t *testing.T) { gcProxyAndPolicy(t, cluster, token) })
	t.Run("RollbackAtEachStep", func(t *testing.T) { gcRollbackAtEachStep(t, cluster, token) })
	t.Run("EnvCreateConcurrency", func(t *testing.T) { gcConcurrency(t, cluster, token) })
	t.Run("CaastleExamples", func(t *testing.T) { gcCaastleExamples(t, cluster, token) })
}

// env create (network, firewall, GKE and Cloud SQL) -> container create gcr
// -> app deploy (app YAML, then Pod YAML) -> show, logs -> delete: nothing left.
func gcLifecycle(t *testing.T, cluster *kubeharness.Cluster, token string) {
	reg := startRegistry(t)
	w := gcStart(t, cluster, token, reg, gcDurations())
	u := w.user()
	ctx := context.Background()

	envFile := u.write("environment-cloudsql-gke.yaml", mustRead(t, repoRoot+"/internal/spec/testdata/caastle-examples/greetings/environment-cloudsql-gke.yaml"))
	u.ok("env", "create", "gke", envFile)
	var env gcEnv
	u.json(&env, "env", "show", "gke")
	if env.Status != "available" {
		t.Fatalf("env: %+v", env)
	}
	for _, el := range env.Elements {
		if el.Labels["managed-by"] != "cld" || el.Labels["cld-env"] != "gke" || el.Labels["cld-element"] != "env/gke/"+el.Key {
			t.Errorf("element %s labels %v", el.Key, el.Labels)
		}
	}
	// every platform object carries the labels (networks and firewall rules
	// in their description: they take no labels)
	for _, r := range w.fake.Inventory() {
		if r.Owner != "" || r.Type == "database" || r.Type == "user" {
			continue
		}
		if (r.Type == "cluster" || r.Type == "instance") && (r.Labels["managed-by"] != "cld" || r.Labels["cld-env"] != "gke" || r.Labels["cld-element"] == "") {
			t.Errorf("%s %s labels %v", r.Type, r.Name, r.Labels)
		}
	}
	netName, _ := env.element("network")
	clusterName, clusterOut := env.element("cluster")
	if netName == "" || clusterName == "" || clusterOut["Project"] != gcProject || clusterOut["Location"] != gcZone {
		t.Fatalf("network %q cluster %q %v", netName, clusterName, clusterOut)
	}

	// Cloud SQL: outputs, and the cluster nodes (only) authorized
	var res []resource
	u.json(&res, "resource", "show", "gke", "--show-secrets")
	if len(res) != 1 || res[0].Type != "CLOUDSQL" {
		t.Fatalf("resources: %+v", res)
	}
	a := res[0].Attributes
	for _, k := range []string{"Username", "Password", "DBName", "Address", "ConnectionName"} {
		if a[k] == "" {
			t.Errorf("CLOUDSQL %s is empty: %v", k, a)
		}
	}
	instance, _ := env.element("cloudsql/cloudsql")
	if pw, _ := w.fake.SQLUserPassword(gcProject, instance, a["Username"]); pw != a["Password"] || len(pw) < 20 {
		t.Fatalf("the user's password is %q, the output %q", pw, a["Password"])
	}
	if a["ConnectionName"] != gcProject+":us-central1:"+instance {
		t.Errorf("ConnectionName %q", a["ConnectionName"])
	}
	nodes := gcNodeIPs(w)
	if got := gcAuthorized(t, w, instance); len(nodes) != 1 || !slices.Equal(got, nodes) {
		t.Fatalf("authorized networks %v, nodes %v", got, nodes)
	}

	// the environment's kubeconfig reaches the cluster with the OAuth token
	kc := strings.TrimSpace(u.ok("env", "exec", "gke", "--", "sh", "-c", "echo $KUBECONFIG"))
	if b, err := os.ReadFile(kc); err != nil || !strings.Contains(string(b), "current-context: gke_"+gcProject+"_"+gcZone+"_"+clusterName) || !strings.Contains(string(b), "tokenFile:") {
		t.Fatalf("env kubeconfig %q: %v\n%s", kc, err, b)
	}

	// a container in Artifact Registry
	dir := buildGreetings(t)
	image := strings.TrimSpace(u.runOK(dir, "container", "create", "greet", "gcr"))
	wantPrefix := reg + "/" + gcProject + "/greet/greet:"
	if !strings.HasPrefix(image, wantPrefix) {
		t.Fatalf("container create printed %q, want %s<timestamp>", image, wantPrefix)
	}
	if imgs := registryImages(t, reg); len(imgs) != 1 || imgs[0] != "image "+strings.TrimPrefix(image, reg+"/") {
		t.Fatalf("registry holds %v", imgs)
	}

	// the app: Deployment + Service (LoadBalancer) bound to Cloud SQL
	appFile := u.write("app-gcloud.yaml", strings.Replace(mustRead(t, repoRoot+"/internal/spec/testdata/caastle-examples/greetings/app-gcloud.yaml"),
		"us.gcr.io/cloudark-test-gke/greetcont1:1513548972858", image, 1))
	url := strings.TrimSpace(u.ok("app", "deploy", "greetings", "gke", appFile))
	if !strings.HasPrefix(url, "http://34.120.") {
		t.Fatalf("deploy printed %q, want the load balancer's address", url)
	}
	var app object
	u.json(&app, "app", "show", "greetings")
	if app.Status != "available" || app.URL != url {
		t.Fatalf("app show: %+v", app)
	}
	d, err := cluster.Client.AppsV1().Deployments("greetings").Get(ctx, "greetings", metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != image || d.Labels["cld-env"] != "gke" {
		t.Fatalf("deployment: %v %+v", err, d)
	}
	var host string
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "HOST" {
			host = e.Value
		}
	}
	if host != a["Address"] || len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("HOST=%q (Address %q), containers %d", host, a["Address"], len(d.Spec.Template.Spec.Containers))
	}
	if err := cluster.SetNamespaceLogs(ctx, "greetings", "greetings listening on :5000"); err != nil {
		t.Fatal(err)
	}
	logs := u.ok("app", "logs", "greetings")
	for _, want := range []string{"Scheduled", "greetings listening on :5000"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}

	// CaaStle's Pod YAML
	pod := u.write("greetings-pod.yaml", strings.Replace(mustRead(t, repoRoot+"/internal/spec/testdata/caastle-examples/greetings/greetings-pod.yaml"),
		"us.gcr.io/cloudark-test-gke/greetpod:1512924392448", image, 1))
	u.ok("app", "deploy", "pods", "gke", pod)
	p, err := cluster.Client.CoreV1().Pods("pods").Get(ctx, "greetings1", metav1.GetOptions{})
	if err != nil || p.Status.Phase != "Running" || p.Spec.Containers[0].Env[0].ValueFrom == nil {
		t.Fatalf("pod: %v %+v", err, p)
	}

	u.ok("app", "delete", "pods")
	u.ok("app", "delete", "greetings")
	u.ok("container", "delete", "greet")
	if imgs := registryImages(t, reg); len(imgs) != 0 {
		t.Fatalf("container delete left %v", imgs)
	}
	u.ok("env", "delete", "gke")
	w.assertEmpty("after env delete")
	gcNamespacesGone(t, cluster, "greetings", "pods")
	assertNoLeftovers(t, "cld-container=greet")
}

// connect: proxy puts the Cloud SQL Auth Proxy beside the app, which reaches
// the database on 127.0.0.1; a policy opens the instance on purpose.
func gcProxyAndPolicy(t *testing.T, cluster *kubeharness.Cluster, token string) {
	w := gcStart(t, cluster, token, "", gcDurations())
	u := w.user()
	ctx := context.Background()
	envFile := u.write("env.yaml", `environment:
  resources:
    gcloud:
      - resource:
          type: cloudsql
          configuration:
            engine: postgres
            version: "16"
            tier: db-custom-1-3840
            dbname: greetings
            username: greeter
            connect: proxy
          policy:
            access: 203.0.113.0/24
  app_deployment:
    target: gcloud
    type: gke
    cluster_size: 2
    instance_type: e2-small
`)
	u.ok("env", "create", "proxy", envFile)
	var res []resource
	u.json(&res, "resource", "show", "proxy")
	a := res[0].Attributes
	if a["Address"] != "127.0.0.1" || a["Port"] != "5432" || a["DBName"] != "greetings" || a["Username"] != "greeter" || a["Tier"] != "db-custom-1-3840" {
		t.Fatalf("attributes %v", a)
	}
	var env gcEnv
	u.json(&env, "env", "show", "proxy")
	instance, _ := env.element("cloudsql/cloudsql")
	want := append(gcNodeIPs(w), "203.0.113.0/24")
	slices.Sort(want)
	if got := gcAuthorized(t, w, instance); len(want) != 3 || !slices.Equal(got, want) {
		t.Fatalf("authorized networks %v, want the 2 nodes and the policy's CIDR %v", got, want)
	}
	appFile := u.write("app.yaml", `app:
  image: greetings:1
  container_port: 5000
  env:
    HOST: $CLOUDARK_CLOUDSQL_Address
    PASSWORD: $CLOUDARK_CLOUDSQL_Password
`)
	u.ok("app", "deploy", "web", "proxy", appFile)
	d, err := cluster.Client.AppsV1().Deployments("web").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 2 || cs[1].Name != "cloud-sql-proxy" || !strings.HasPrefix(cs[1].Image, "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2") ||
		!slices.Contains(cs[1].Args, a["ConnectionName"]+"?port=5432") || cs[0].Env[0].Value != "127.0.0.1" {
		t.Fatalf("containers: %+v", cs)
	}
	u.ok("env", "delete", "proxy", "--force")
	w.assertEmpty("after env delete --force")
	gcNamespacesGone(t, cluster, "web")
}

// A failure at each step of env create rolls back everything that
// operation made: the fake is empty again, and the name can be used again.
func gcRollbackAtEachStep(t *testing.T, cluster *kubeharness.Cluster, token string) {
	w := gcStart(t, cluster, token, "", gcDurations())
	u := w.user()
	envFile := u.write("env.yaml", `environment:
  resources:
    gcloud:
      - resource:
          type: cloudsql
          policy:
            access: open
  app_deployment:
    target: gcloud
    type: gke
`)
	steps := []struct {
		api, method string
		op          bool // the call succeeds, its operation fails
	}{
		{"compute", "networks.insert", false},
		{"compute", "networks.insert", true},
		{"compute", "firewalls.insert", false},
		{"container", "projects.locations.clusters.create", false},
		{"container", "projects.locations.clusters.create", true},
		{"sqladmin", "instances.insert", false},
		{"sqladmin", "instances.insert", true},
		{"sqladmin", "databases.insert", false},
		{"sqladmin", "users.insert", false},
		{"sqladmin", "instances.patch", false},
	}
	for i, st := range steps {
		w.fake.ClearFaults()
		if st.op {
			w.fake.InjectOperationFailure(st.api, st.method, "injected: "+st.method+" operation failed", 1)
		} else {
			w.fake.InjectFailure(st.api, st.method, 403, "injected: "+st.method+" refused", 1)
		}
		start := time.Now()
		e := u.fails("env", "create", "rb", envFile)
		if !strings.Contains(e, "injected: "+st.method) {
			t.Errorf("step %d (%s op=%v): error does not say why:\n%s", i, st.method, st.op, e)
		}
		var env gcEnv
		u.json(&env, "env", "show", "rb")
		if env.Status != "failed" || !strings.Contains(env.Error, "injected") {
			t.Errorf("step %d: env show %s %q", i, env.Status, env.Error)
		}
		w.assertEmpty("rollback after " + st.method)
		t.Logf("step %d: %s (operation failure %v) rolled back in %s", i, st.method, st.op, time.Since(start).Round(time.Millisecond))
	}
	w.fake.ClearFaults()
	u.ok("env", "create", "rb", envFile)
	u.ok("env", "delete", "rb")
	w.assertEmpty("after the last env delete")
}

// The cluster (4 s) and the database (6 s) are made concurrently: env create
// takes about the longer of the two, not their sum.
func gcConcurrency(t *testing.T, cluster *kubeharness.Cluster, token string) {
	o := gcDurations()
	o.ClusterCreateDuration = 4 * time.Second
	o.SQLCreateDuration = 6 * time.Second
	w := gcStart(t, cluster, token, "", o)
	u := w.user()
	envFile := u.write("environment-cloudsql-gke.yaml", mustRead(t, repoRoot+"/internal/spec/testdata/caastle-examples/greetings/environment-cloudsql-gke.yaml"))
	start := time.Now()
	u.ok("env", "create", "lat", envFile)
	took := time.Since(start)
	longer, sum := 6*time.Second, 10*time.Second
	ratio := took.Seconds() / longer.Seconds()
	t.Logf("env create with GKE 4s and Cloud SQL 6s took %s: %.2f x the longer (6s), %.2f x the sum (10s)", took.Round(time.Millisecond), ratio, took.Seconds()/sum.Seconds())
	if took >= 9*time.Second {
		t.Fatalf("env create took %s: cluster and database were not created concurrently", took)
	}
	u.ok("env", "delete", "lat")
	w.assertEmpty("after env delete")
}

// runOK runs a command in dir that must succeed.
func (u *user) runOK(dir string, args ...string) string {
	u.t.Helper()
	r := u.runIn(dir, args...)
	if r.code != 0 {
		u.t.Fatalf("cld %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

func gcSQL(t *testing.T, w *gcWorld) *sqladmin.Service {
	t.Helper()
	svc, err := sqladmin.NewService(context.Background(), option.WithEndpoint(w.fake.SQLAdminURL()),
		option.WithHTTPClient(&http.Client{Transport: bearer{token: w.fake.AccessToken()}}))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func gcAuthorized(t *testing.T, w *gcWorld, instance string) []string {
	t.Helper()
	in, err := gcSQL(t, w).Instances.Get(gcProject, instance).Do()
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

// gcNodeIPs are the external addresses of the fake's GKE nodes, as /32s.
func gcNodeIPs(w *gcWorld) []string {
	var out []string
	for _, r := range w.fake.Inventory() {
		if r.Type == "instance" && r.API == gcfake.Compute {
			out = append(out, r.Name)
		}
	}
	ips := make([]string, 0, len(out))
	for _, name := range out {
		ips = append(ips, gcInstanceIP(w.t, w, name)+"/32")
	}
	slices.Sort(ips)
	return ips
}

func gcNamespacesGone(t *testing.T, cluster *kubeharness.Cluster, names ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for _, ns := range names {
		for {
			_, err := cluster.Client.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
			if err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("namespace %s left", ns)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// `cld setup gcloud` says where each setting comes from, explains what is
// missing, and proves working settings with a call to the container API.
func TestGCloudSetup(t *testing.T) {
	srv, err := gcfake.Start(gcfake.Options{AccessToken: gcToken(), RequireAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	u := newUser(t)
	empty := t.TempDir()
	u.env = append(u.env, "HOME="+empty, "CLOUDSDK_CONFIG="+empty, "GOOGLE_APPLICATION_CREDENTIALS=",
		"CLOUDSDK_CORE_PROJECT=", "GOOGLE_CLOUD_PROJECT=")

	// nothing set up: what to run, and a non-zero exit
	r := u.run("setup", "gcloud")
	if r.code == 0 || !strings.Contains(r.err, "no Google Cloud project") ||
		!strings.Contains(r.err, "gcloud auth application-default login") || !strings.Contains(r.err, "gcloud config set project") {
		t.Fatalf("setup with nothing: exit %d\n%s\n%s", r.code, r.out, r.err)
	}

	// a service account key and a project: every value with its origin, then
	// the API answers
	dir := t.TempDir()
	sa := gcServiceAccount(t, dir, srv.TokenURL())
	u.env = append(u.env, srv.Env()...)
	u.env = append(u.env, "GOOGLE_APPLICATION_CREDENTIALS="+sa, "CLOUDSDK_CORE_PROJECT="+gcProject)
	out := u.ok("setup", "gcloud")
	for _, want := range []string{
		sa + "  (from GOOGLE_APPLICATION_CREDENTIALS)", "service_account", "cld-e2e@" + gcProject,
		gcProject + "  (from CLOUDSDK_CORE_PROJECT)", "container " + srv.ContainerURL(), "from CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER",
		"ok: project " + gcProject + " answers (0 GKE clusters)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	// the project refuses: the error says which call and why
	srv.InjectFailure(gcfake.Container, "projects.locations.clusters.list", 403, "injected: permission container.clusters.list denied", 1)
	if r := u.run("setup", "gcloud"); r.code == 0 || !strings.Contains(r.err, "listing the GKE clusters of project "+gcProject) ||
		!strings.Contains(r.err, "container.clusters.list denied") {
		t.Fatalf("setup with a refusing API: exit %d\n%s", r.code, r.err)
	}
}

// The CaaStle examples for Google Cloud as their users wrote them: a
// cluster on the project's existing `default` network (kept afterwards),
// the hello-world app redeployed with a rolling update, and WordPress from
// its app YAML and its two-container Pod YAML, plus the greetings
// Deployment and Service documents, bound to Cloud SQL.
func gcCaastleExamples(t *testing.T, cluster *kubeharness.Cluster, token string) {
	w := gcStart(t, cluster, token, "", gcDurations())
	u := w.user()
	ctx := context.Background()
	ex := repoRoot + "/internal/spec/testdata/caastle-examples/"
	hc := &http.Client{Transport: bearer{token: w.fake.AccessToken()}}
	comp, err := compute.NewService(ctx, option.WithEndpoint(w.fake.ComputeURL()), option.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	gke, err := container.NewService(ctx, option.WithEndpoint(w.fake.ContainerURL()), option.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	// the project's own default network, as every project has
	if _, err := comp.Networks.Insert(gcProject, &compute.Network{Name: "default", AutoCreateSubnetworks: true}).Do(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := comp.Networks.Get(gcProject, "default").Do(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("default network: %v", err)
		}
	}

	u.ok("env", "create", "hello", ex+"hello-world/environment-gke.yaml")
	var env gcEnv
	u.json(&env, "env", "show", "hello")
	clusterName, _ := env.element("cluster")
	if n, _ := env.element("network"); n != "" {
		t.Fatalf("cld made network %s though the definition names `default`", n)
	}
	if cl, err := gke.Projects.Locations.Clusters.Get("projects/" + gcProject + "/locations/" + gcZone + "/clusters/" + clusterName).Do(); err != nil || cl.Network != "default" {
		t.Fatalf("cluster %s: %v on network %q", clusterName, err, cl.Network)
	}
	app := u.write("app.yaml", mustRead(t, ex+"hello-world/app.yaml"))
	u.ok("app", "deploy", "hello", "hello", app)
	u.write("app.yaml", strings.Replace(mustRead(t, app), "cont31:1518221302867", "cont31:v2", 1))
	if r := u.run("app", "redeploy", "hello", app); r.code != 0 || !strings.Contains(r.err, "updating kube-workload") {
		t.Fatalf("redeploy: exit %d\n%s", r.code, r.err)
	}
	d, err := cluster.Client.AppsV1().Deployments("hello").Get(ctx, "hello", metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != "us.gcr.io/cloudark-test-gke/cont31:v2" || d.Status.UpdatedReplicas != 1 {
		t.Fatalf("after redeploy: %v %+v", err, d.Status)
	}
	u.ok("env", "delete", "hello", "--force")
	gcNamespacesGone(t, cluster, "hello")
	if left := w.inventory(); len(left) != 1 || !strings.HasSuffix(left[0], "/networks/default READY") {
		t.Fatalf("after env delete, want only the default network; have %v", left)
	}
	if _, err := comp.Networks.Delete(gcProject, "default").Do(); err != nil {
		t.Fatal(err)
	}

	// WordPress and greetings, bound to Cloud SQL
	u.ok("env", "create", "wp", ex+"greetings/environment-cloudsql-gke.yaml")
	u.ok("app", "deploy", "wordpress", "wp", ex+"wordpress/app-gke.yaml")
	d, err = cluster.Client.AppsV1().Deployments("wordpress").Get(ctx, "wordpress", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bound := map[string]bool{}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		bound[e.Name] = e.Value != "" || e.ValueFrom != nil
	}
	if !bound["WORDPRESS_DB_PASSWORD"] || !bound["WORDPRESS_DB_HOST"] || !bound["WORDPRESS_DB_USER"] || !bound["WORDPRESS_DB_NAME"] {
		t.Fatalf("wordpress env: %+v", d.Spec.Template.Spec.Containers[0].Env)
	}
	u.ok("app", "deploy", "wp-pod", "wp", ex+"wordpress-kubernetes-pods/wp-pod.yaml")
	if p, err := cluster.Client.CoreV1().Pods("wp-pod").Get(ctx, "some-wordpress", metav1.GetOptions{}); err != nil || len(p.Spec.Containers) != 2 || p.Status.Phase != "Running" {
		t.Fatalf("wp pod: %v %+v", err, p)
	}
	dep := u.write("greetings.yaml", mustRead(t, ex+"greetings/greetings-deployment.yaml")+"---\n"+mustRead(t, ex+"greetings/greetings-service.yaml"))
	url := strings.TrimSpace(u.ok("app", "deploy", "greet", "wp", dep))
	if !strings.HasPrefix(url, "http://34.120.") {
		t.Fatalf("greetings deployment printed %q, want the load balancer's address", url)
	}
	u.ok("env", "delete", "wp", "--force")
	w.assertEmpty("after env delete --force")
	gcNamespacesGone(t, cluster, "wordpress", "wp-pod", "greet")
}
