package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// An app without a container_port is deployed once it stays running; one
// that exits is not, and says why.
func TestAppWithoutPort(t *testing.T) {
	u := newUser(t)
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "hello"), "./test/e2e/testdata/hello")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /hello\nENTRYPOINT [\"/hello\"]\n"), 0o644)
	r := u.runIn(dir, "container", "create", "worker", "local")
	if r.code != 0 {
		t.Fatal(r.err)
	}
	img := strings.TrimSpace(r.out)
	u.ok("env", "create", "jobs", u.write("env.yaml", "environment:\n  app_deployment:\n    target: local\n"))
	out := u.ok("app", "deploy", "worker", "jobs", u.write("app.yaml", "app:\n  image: "+img+"\n  memory: 64m\n"))
	if !strings.Contains(out, "app worker is available") {
		t.Fatalf("deploy: %s", out)
	}
	var a object
	u.json(&a, "app", "show", "worker")
	if a.Status != "available" || a.URL != "" {
		t.Fatalf("app show: %+v", a)
	}
	if logs := u.ok("app", "logs", "worker", "--runtime"); !strings.Contains(logs, "hello listening") {
		t.Fatalf("runtime logs: %s", logs)
	}
	u.ok("env", "delete", "jobs", "--force")
	u.ok("container", "delete", "worker")
	assertNoLeftovers(t, "cld-env=jobs")
	assertNoLeftovers(t, "cld-container=worker")
}
