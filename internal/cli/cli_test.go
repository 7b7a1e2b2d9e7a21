package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudark/cld/internal/api"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("CLD_HOME", t.TempDir())
	ios, out, errOut := Test()
	code := Main(args, ios)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "--version")
	if code != ExitOK || out != "cld version "+api.Version+"\n" {
		t.Fatalf("%d %q", code, out)
	}
}

func TestUsageErrorsExit2WithoutAServer(t *testing.T) {
	for _, args := range [][]string{
		{"env", "create", "dev"},
		{"env", "list", "--bogus"},
		{"env", "list", "-o", "xml"},
		{"app", "deploy", "web", "dev"},
		{"nope"},
		{"env", "create", "Bad_Name", "x.yaml"},
	} {
		code, _, errOut := run(t, args...)
		if code != ExitUsage || !strings.HasPrefix(errOut, "Error: ") {
			t.Errorf("cld %v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// Definitions are validated before any server is contacted: a bad file
// starts nothing (no socket, no state).
func TestBadDefinitionFailsLocally(t *testing.T) {
	home := t.TempDir()
	t.Setenv("CLD_HOME", home)
	f := filepath.Join(t.TempDir(), "env.yaml")
	os.WriteFile(f, []byte("environment:\n  app_deployment:\n    target: local\n    sise: 2\n"), 0o644)
	ios, _, errOut := Test()
	code := Main([]string{"env", "create", "dev", f}, ios)
	if code != ExitError || !strings.Contains(errOut.String(), f+":4:5: environment.app_deployment.sise: unknown field") {
		t.Fatalf("%d %s", code, errOut)
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Fatalf("a refused definition created files: %v", entries)
	}
}

func TestExportFormats(t *testing.T) {
	ios, out, _ := Test()
	v := []api.Object{{Kind: "env", Name: "dev", Status: "available"}}
	if ok, err := export(ios.Out, formatYAML, v); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if !strings.Contains(out.String(), "- kind: env\n  name: dev\n") {
		t.Fatalf("yaml: %q", out)
	}
	out.Reset()
	export(ios.Out, formatJSON, v)
	if !strings.Contains(out.String(), `"name": "dev"`) {
		t.Fatalf("json: %q", out)
	}
	if ok, _ := export(ios.Out, formatTable, v); ok {
		t.Fatal("table handled by export")
	}
}
