package gcloud

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	artifactregistry "google.golang.org/api/artifactregistry/v1"
	compute "google.golang.org/api/compute/v1"
	container "google.golang.org/api/container/v1"
	sqladmin "google.golang.org/api/sqladmin/v1"
)

func TestInjectedLatencyAndFailures(t *testing.T) {
	s := newFake(t, Options{OperationDuration: -1, ClusterCreateDuration: 50 * time.Millisecond, ClusterDeleteDuration: -1})
	ctx := testCtx(t)
	csvc := computeClient(t, ctx, s.ComputeURL())
	gke := containerClient(t, ctx, s.ContainerURL())

	// failure: the next call fails with the code, then calls succeed
	s.InjectFailure("compute", "networks.insert", 503, "backend unavailable", 1)
	_, err := csvc.Networks.Insert(project, &compute.Network{Name: "n", AutoCreateSubnetworks: true}).Do()
	ge := gerr(t, err, 503, "backendError")
	if ge.Message != "backend unavailable" {
		t.Fatalf("message %q", ge.Message)
	}
	if _, err := csvc.Networks.Insert(project, &compute.Network{Name: "n", AutoCreateSubnetworks: true}).Do(); err != nil {
		t.Fatal(err)
	}
	// the discovery id with its API prefix works too; -1 fails until cleared
	s.InjectFailure("compute", "compute.networks.get", 429, "slow down", -1)
	for i := 0; i < 2; i++ {
		_, err = csvc.Networks.Get(project, "n").Do()
		gerr(t, err, 429, "rateLimitExceeded")
	}
	s.InjectFailure("compute", "networks.get", 0, "", 0)
	if _, err := csvc.Networks.Get(project, "n").Do(); err != nil {
		t.Fatal(err)
	}
	s.InjectFailure("container", "*", 403, "denied", 1)
	_, err = gke.Projects.Locations.Clusters.List("projects/" + project + "/locations/-").Do()
	gerr(t, err, 403, "forbidden")

	// latency
	s.InjectLatency("container", "projects.locations.clusters.create", 300*time.Millisecond)
	start := time.Now()
	op, err := gke.Projects.Locations.Clusters.Create("projects/"+project+"/locations/"+zone, &container.CreateClusterRequest{
		Cluster: &container.Cluster{Name: "slow", Network: "n", InitialNodeCount: 1}}).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("latency not applied: %v", d)
	}
	waitContainer(t, gke, op)
	s.InjectLatency("container", "projects.locations.clusters.create", 0)

	// an operation that fails when it finishes leaves the cluster in ERROR
	s.InjectOperationFailure("container", "projects.locations.clusters.create", "GCE_STOCKOUT: no e2-medium", 1)
	op, err = gke.Projects.Locations.Clusters.Create("projects/"+project+"/locations/"+zone, &container.CreateClusterRequest{
		Cluster: &container.Cluster{Name: "broken", Network: "n", InitialNodeCount: 1}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	op = waitContainer(t, gke, op)
	if op.Error == nil || !strings.Contains(op.Error.Message, "GCE_STOCKOUT") || op.StatusMessage == "" {
		t.Fatalf("op = %+v", op)
	}
	cl, err := gke.Projects.Locations.Clusters.Get("projects/" + project + "/locations/" + zone + "/clusters/broken").Do()
	if err != nil || cl.Status != "ERROR" || !strings.Contains(cl.StatusMessage, "GCE_STOCKOUT") {
		t.Fatalf("broken cluster: %v %+v", err, cl)
	}
	// a failing compute operation creates nothing
	s.InjectOperationFailure("compute", "firewalls.insert", "", 1)
	fop, err := csvc.Firewalls.Insert(project, &compute.Firewall{Name: "fw", Network: "global/networks/n",
		Allowed: []*compute.FirewallAllowed{{IPProtocol: "tcp"}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	fop = waitComputeAllowError(t, csvc, fop)
	if fop.Error == nil || fop.Error.Errors[0].Code == "" {
		t.Fatalf("firewall op = %+v", fop)
	}
	_, err = csvc.Firewalls.Get(project, "fw").Do()
	gerr(t, err, 404, "notFound")

	// call log
	calls := s.CallsTo("container", "projects.locations.clusters.create")
	if len(calls) != 2 || calls[0].Status != 200 || calls[0].Duration < 300*time.Millisecond {
		t.Fatalf("calls = %+v", calls)
	}
	fails := 0
	for _, c := range s.CallsTo("compute", "*") {
		if c.Status == 429 && c.Reason == "rateLimitExceeded" {
			fails++
		}
	}
	if fails != 2 {
		t.Fatalf("429 calls = %d", fails)
	}

	for _, name := range []string{"slow", "broken"} {
		op, err := gke.Projects.Locations.Clusters.Delete("projects/" + project + "/locations/" + zone + "/clusters/" + name).Do()
		if err != nil {
			t.Fatal(err)
		}
		waitContainer(t, gke, op)
	}
	nop, err := csvc.Networks.Delete(project, "n").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, csvc, nop)
	assertEmptyInventory(t, s)
}

func TestCombinedURLServesEveryAPI(t *testing.T) {
	s := newFake(t, Options{OperationDuration: 30 * time.Millisecond, ClusterCreateDuration: 30 * time.Millisecond,
		ClusterDeleteDuration: 30 * time.Millisecond, SQLCreateDuration: 30 * time.Millisecond,
		SQLDeleteDuration: 30 * time.Millisecond, RepositoryDuration: 30 * time.Millisecond})
	ctx := testCtx(t)
	base := s.URL() + "/"
	csvc := computeClient(t, ctx, base+"compute/v1/")
	gke := containerClient(t, ctx, base)
	sql := sqlClient(t, ctx, base)
	ar := arClient(t, ctx, base)

	op, err := csvc.Networks.Insert(project, &compute.Network{Name: "n", AutoCreateSubnetworks: true}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, csvc, op)
	// container and Artifact Registry operations share a path shape
	gop, err := gke.Projects.Locations.Clusters.Create("projects/"+project+"/locations/"+region,
		&container.CreateClusterRequest{Cluster: &container.Cluster{Name: "c", Network: "n", InitialNodeCount: 1}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	aop, err := ar.Projects.Locations.Repositories.Create("projects/"+project+"/locations/"+region,
		&artifactregistry.Repository{Format: "DOCKER"}).RepositoryId("r").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitContainer(t, gke, gop)
	waitAR(t, ar, aop)
	sop, err := sql.Instances.Insert(project, &sqladmin.DatabaseInstance{Name: "db", DatabaseVersion: "POSTGRES_16",
		Settings: &sqladmin.Settings{Tier: "db-custom-1-3840"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitSQL(t, sql, sop)

	// the inventory on every listener
	for _, u := range []string{s.URL(), s.urls[Compute], s.urls[Container], s.urls[SQLAdmin], s.urls[ArtifactRegistry]} {
		resp, err := http.Get(u + "/_fake/inventory")
		if err != nil {
			t.Fatal(err)
		}
		var inv []Resource
		err = json.NewDecoder(resp.Body).Decode(&inv)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		for _, r := range inv {
			types[r.API+"/"+r.Type] = true
		}
		for _, want := range []string{"compute/network", "compute/firewall", "compute/instance", "container/cluster", "sqladmin/instance", "artifactregistry/repository"} {
			if !types[want] {
				t.Fatalf("%s: inventory lacks %s: %v", u, want, types)
			}
		}
	}

	// control: a fault through HTTP
	body, _ := json.Marshal(ControlFault{API: "sqladmin", Method: "instances.get", Code: 500, Message: "boom"})
	resp, err := http.Post(s.URL()+"/_fake/fault", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, err = sql.Instances.Get(project, "db").Do()
	gerr(t, err, 500, "backendError")
	if _, err := sql.Instances.Get(project, "db").Do(); err != nil {
		t.Fatal(err)
	}

	// tear down through the combined URL
	gop, err = gke.Projects.Locations.Clusters.Delete("projects/" + project + "/locations/" + region + "/clusters/c").Do()
	if err != nil {
		t.Fatal(err)
	}
	aop, err = ar.Projects.Locations.Repositories.Delete("projects/" + project + "/locations/" + region + "/repositories/r").Do()
	if err != nil {
		t.Fatal(err)
	}
	sop, err = sql.Instances.Delete(project, "db").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitContainer(t, gke, gop)
	waitAR(t, ar, aop)
	waitSQL(t, sql, sop)
	op, err = csvc.Networks.Delete(project, "n").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitCompute(t, csvc, op)
	assertEmptyInventory(t, s)

	// unknown paths answer 404 in Google's shape
	resp, err = http.Get(s.URL() + "/v2/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown path: %d", resp.StatusCode)
	}
}

func TestEnvAndClientOptions(t *testing.T) {
	// the machine sets CA bundle variables; a broken one must not matter
	// for the plain-HTTP loopback endpoints
	t.Setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
	t.Setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/creds.json")
	s := newFake(t, Options{})
	env := strings.Join(s.Env(), "\n")
	for _, want := range []string{
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE=" + s.ComputeURL(),
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER=" + s.ContainerURL(),
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN=" + s.SQLAdminURL(),
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY=" + s.ArtifactRegistryURL(),
	} {
		if !strings.Contains(env, want) {
			t.Fatalf("env %s lacks %s", env, want)
		}
	}
	if !strings.HasSuffix(s.ComputeURL(), "/compute/v1/") {
		t.Fatalf("compute URL %s", s.ComputeURL())
	}
	ctx := testCtx(t)
	svc, err := compute.NewService(ctx, s.ClientOptions("compute")...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Networks.List(project).Do(); err != nil {
		t.Fatal(err)
	}
	gke, err := container.NewService(ctx, s.ClientOptions("container")...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gke.Projects.Locations.Clusters.List("projects/p/locations/-").Do(); err != nil {
		t.Fatal(err)
	}
}
