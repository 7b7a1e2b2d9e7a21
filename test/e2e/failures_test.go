package e2e

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
)

// imageFiles lists the files of an image (through a created, never started container).
func imageFiles(t *testing.T, ref string) string {
	t.Helper()
	c := dockerClient(t)
	defer c.Close()
	ctx := context.Background()
	cr, err := c.ContainerCreate(ctx, &container.Config{Image: ref, Labels: map[string]string{"managed-by": "e2e-inspect"}}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.ContainerRemove(ctx, cr.ID, container.RemoveOptions{Force: true})
	rc, err := c.ContainerExport(ctx, cr.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	return strings.Join(names, " ")
}

// Bad input never half-works: a clear error naming file, line and field, a
// non-zero exit, and nothing created.
func TestBadInputCreatesNothing(t *testing.T) {
	u := newUser(t)
	cases := []struct {
		args []string
		file string
		src  string
		want string
	}{
		{file: "malformed.yaml", src: "environment:\n  app_deployment:\n    target: local\n   oops: [\n", want: "malformed.yaml:"},
		{file: "unknown.yaml", src: "environment:\n  app_deployment:\n    target: local\n    replicas: 2\n", want: "unknown.yaml:4:5: environment.app_deployment.replicas: unknown field"},
		{file: "type.yaml", src: "environment:\n  app_deployment:\n    target: aws\n    cluster_size: many\n", want: "type.yaml:4:19: environment.app_deployment.cluster_size: expected an integer"},
		{file: "res.yaml", src: "environment:\n  resources:\n    local:\n      - resource:\n          type: mysql\n          configuration:\n            flavour: big\n", want: "res.yaml:7:13: environment.resources.local[0].resource.configuration.flavour: unknown field"},
		{args: []string{"env", "create", "Not_A_Label"}, file: "ok.yaml", src: "environment:\n  app_deployment:\n    target: local\n", want: "not valid"},
		{args: []string{"env", "create", "dev", "missing.yaml"}, want: "missing.yaml: file not found"},
		{args: []string{"app", "deploy", "web", "dev"}, file: "app.yaml", src: "app:\n  image: Greet:1\n", want: "app.yaml:2:10: app.image: \"Greet:1\" is not a valid image reference"},
		{args: []string{"app", "deploy", "web", "nowhere"}, file: "app2.yaml", src: "app:\n  image: greet:1\n", want: `environment "nowhere" does not exist`},
	}
	for _, c := range cases {
		args := c.args
		if c.file != "" {
			p := u.write(c.file, c.src)
			if args == nil {
				args = []string{"env", "create", "dev"}
			}
			args = append(args, p)
		}
		r := u.run(args...)
		if r.code == 0 || !strings.Contains(r.err, c.want) {
			t.Errorf("cld %v: exit %d, stderr %q; want an error containing %q", args, r.code, r.err, c.want)
		}
	}
	if out := u.ok("env", "list"); strings.Count(out, "\n") != 1 {
		t.Fatalf("bad input created environments:\n%s", out)
	}
	assertNoLeftovers(t, "cld-env=dev")
}

// A database that never becomes ready, and an app that never answers: the
// operation fails with the cause and rolls back what it made.
func TestFailuresRollBack(t *testing.T) {
	u := newUser(t)
	failer := buildFailer(t)
	r := u.runIn(failer, "container", "create", "failer", "local")
	if r.code != 0 {
		t.Fatalf("container create: %s", r.err)
	}
	ref := strings.TrimSpace(r.out)

	envFile := u.write("env.yaml", "environment:\n  resources:\n    local:\n      - resource:\n          type: mysql\n          configuration:\n            image: "+ref+"\n  app_deployment:\n    target: local\n")
	e := u.fails("env", "create", "broken", envFile)
	if !strings.Contains(e, "exited with code 3") || !strings.Contains(e, "rolled back") || !strings.Contains(e, "failer: giving up on purpose") {
		t.Fatalf("env create failure: %s", e)
	}
	var env object
	u.json(&env, "env", "show", "broken")
	if env.Status != "failed" || !strings.Contains(env.Error, "exited with code 3") || len(env.Elements) != 0 {
		t.Fatalf("env show after failure: %+v", env)
	}
	assertNoLeftovers(t, "cld-env=broken")

	// a missing image: the engine cannot pull it here, and says so
	missing := u.write("missing.yaml", "environment:\n  resources:\n    local:\n      - resource:\n          type: postgres\n          configuration:\n            image: cld-e2e/no-such-image:1\n  app_deployment:\n    target: local\n")
	if e := u.fails("env", "create", "noimage", missing); !strings.Contains(e, "could not be pulled") {
		t.Fatalf("missing image: %s", e)
	}
	assertNoLeftovers(t, "cld-env=noimage")

	// the failed name can be reused once the definition is fixed
	good := u.write("good.yaml", "environment:\n  app_deployment:\n    target: local\n")
	u.ok("env", "create", "broken", good)

	app := u.write("app.yaml", "app:\n  image: "+ref+"\n  container_port: 8080\n")
	e = u.fails("app", "deploy", "crashy", "broken", app)
	if !strings.Contains(e, "exited with code 3") || !strings.Contains(e, "rolled back") {
		t.Fatalf("app deploy failure: %s", e)
	}
	assertNoLeftovers(t, "cld-app=crashy")
	logs := u.run("app", "logs", "crashy")
	if logs.code != 0 || !strings.Contains(logs.out, "exited with code 3") {
		t.Fatalf("deployment logs of a failed app should say why: %d %s %s", logs.code, logs.out, logs.err)
	}
	u.ok("app", "delete", "crashy")
	u.ok("env", "delete", "broken")
	u.ok("container", "delete", "failer")
	assertNoLeftovers(t, "cld-env=broken")
	assertNoLeftovers(t, "cld-container=failer")
}

// The server is killed (SIGKILL) in the middle of creating an environment.
// The next command starts a new server, which resumes: the environment
// becomes available with exactly one database, nothing duplicated or lost.
func TestServerCrashMidOperation(t *testing.T) {
	u := newUser(t)
	envFile := u.write("env.yaml", "environment:\n  resources:\n    local:\n      - resource:\n          type: mysql\n          configuration:\n            image: "+mysqlImage+"\n  app_deployment:\n    target: local\n")
	out := u.ok("env", "create", "crashy", envFile, "--detach")
	if !strings.Contains(out, "env show crashy") {
		t.Fatalf("--detach output: %s", out)
	}
	// wait until the database container exists, then kill the server
	deadline := time.Now().Add(60 * time.Second)
	for len(leftovers(t, "cld-env=crashy", "cld-element=env/crashy/database/mysql")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("database container never appeared")
		}
		time.Sleep(50 * time.Millisecond)
	}
	kill(t, serverPID(t, u))

	// any command brings a server back; it resumes the operation
	var env object
	deadline = time.Now().Add(3 * time.Minute)
	for {
		u.json(&env, "env", "show", "crashy")
		if env.Status != "creating" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if env.Status != "available" {
		t.Fatalf("after the crash the environment is %s: %s", env.Status, env.Error)
	}
	if dbs := leftovers(t, "cld-env=crashy", "cld-element=env/crashy/database/mysql"); len(dbs) != 1 {
		t.Fatalf("want exactly one database container, have %v", dbs)
	}
	hist := u.ok("env", "history", "crashy", "-o", "json")
	if !strings.Contains(hist, `"status": "succeeded"`) {
		t.Fatalf("history: %s", hist)
	}
	u.ok("env", "delete", "crashy")
	assertNoLeftovers(t, "cld-env=crashy")
}

// Every CaaStle example parses and validates; the local ones run, the cloud
// ones, with no account configured, say what to set, creating nothing.
func TestCaastleExamples(t *testing.T) {
	u := newUser(t)
	// no AWS or Google account, whatever the machine running the tests has
	cfg := t.TempDir()
	u.env = append(u.env, "HOME="+cfg, "CLOUDSDK_CONFIG="+cfg, "AWS_REGION=", "AWS_DEFAULT_REGION=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE="+cfg+"/aws-config", "CLOUDSDK_CORE_PROJECT=", "GOOGLE_CLOUD_PROJECT=", "GOOGLE_APPLICATION_CREDENTIALS=")
	ex := filepath.Join(repoRoot, "internal", "spec", "testdata", "caastle-examples")
	matches, _ := filepath.Glob(filepath.Join(ex, "*", "environment-*.yaml"))
	if len(matches) != 8 {
		t.Fatalf("found %d environment examples", len(matches))
	}
	for i, f := range matches {
		name := "ex" + string(rune('a'+i))
		r := u.run("env", "create", name, f)
		base := filepath.Base(f)
		switch {
		case base == "environment-local.yaml" && strings.Contains(f, "hello-world"):
			if r.code != 0 {
				t.Errorf("%s: %s", f, r.err)
			}
			u.ok("env", "delete", name)
		case base == "environment-local.yaml":
			// default image mysql:8 cannot be pulled on this machine: a clear error, rolled back
			if r.code == 0 || !strings.Contains(r.err, "mysql:8") {
				t.Errorf("%s: exit %d: %s", f, r.code, r.err)
			}
		default:
			// aws and gcloud with no account configured: the error says what
			// to set and where, before anything is created (the AWS and
			// GCloud tests apply these examples against the fakes)
			if r.code == 0 || !strings.Contains(r.err, f+":") ||
				!(strings.Contains(r.err, "no AWS region") || strings.Contains(r.err, "no Google Cloud project")) {
				t.Errorf("%s: exit %d: %s", f, r.code, r.err)
			}
		}
		assertNoLeftovers(t, "cld-env="+name)
	}
}

// Two installations (two CLD_HOMEs: two users of one Docker engine, or a
// laptop and CI) with an environment of the same name: deleting one's
// leaves the other's whole, and neither's doctor calls the other's objects
// strays. A name already taken on the engine by someone else's object is
// refused, and that object left alone.
func TestInstallationsKeepApart(t *testing.T) {
	a, b := newUser(t), newUser(t)
	envFile := a.write("env.yaml", "environment:\n  app_deployment:\n    target: local\n")
	a.ok("env", "create", "twin", envFile)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second))) // names are <env>-<seconds>
	b.ok("env", "create", "twin", envFile)
	installID := func(u *user) string {
		id, err := os.ReadFile(filepath.Join(u.home, "data", "deployments", "install-id"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(id))
	}
	owned := func(u *user) []string {
		return leftovers(t, "managed-by=cld", "cld-env=twin", "cld-install="+installID(u))
	}
	if len(owned(a)) != 1 || len(owned(b)) != 1 {
		t.Fatalf("each installation's network carries its id: %v %v", owned(a), owned(b))
	}
	for _, u := range []*user{a, b} {
		if d := u.ok("doctor", "-o", "json"); strings.Contains(d, "twin") {
			t.Errorf("doctor of %s reports the other installation's objects: %s", u.home, d)
		}
	}
	a.ok("env", "delete", "twin")
	if left := owned(a); len(left) != 0 {
		t.Fatalf("a's delete left %v", left)
	}
	if left := owned(b); len(left) != 1 {
		t.Fatalf("a's delete (and its sweep) touched b's environment: b has %v", left)
	}
	var env object
	b.json(&env, "env", "show", "twin")
	if env.Status != "available" {
		t.Fatalf("b's env after a's delete: %+v", env)
	}
	b.ok("env", "delete", "twin")
	assertNoLeftovers(t, "cld-env=twin")

	// Another installation holds the names a's next environment would get
	// (the same env name in the same second): refused, and theirs kept.
	c := dockerClient(t)
	defer c.Close()
	ctx := context.Background()
	now := time.Now().Unix()
	var taken []string
	for s := now; s < now+4; s++ {
		name := fmt.Sprintf("twin-%d", s)
		if _, err := c.NetworkCreate(ctx, name, network.CreateOptions{Labels: map[string]string{
			"managed-by": "cld", "cld-env": "twin", "cld-element": "env/twin/network", "cld-install": "someone-else"}}); err != nil {
			t.Fatal(err)
		}
		taken = append(taken, name)
	}
	defer func() {
		for _, n := range taken {
			c.NetworkRemove(ctx, n)
		}
	}()
	r := a.run("env", "create", "twin", envFile)
	if r.code == 0 || !strings.Contains(r.err, "is taken on the platform") || !strings.Contains(r.err, "cld-install=someone-else") {
		t.Fatalf("env create onto another installation's name: exit %d\n%s", r.code, r.err)
	}
	for _, n := range taken {
		if _, err := c.NetworkInspect(ctx, n, network.InspectOptions{}); err != nil {
			t.Errorf("the other installation's network %s was touched: %v", n, err)
		}
	}
}
