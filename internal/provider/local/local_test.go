package local

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/moby/go-archive"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/provider/providertest"
)

// The conformance suite against the real Docker engine: network, volume,
// database (the offline MySQL image), image built from a context, app container.
func TestConformance(t *testing.T) {
	run := "t" + time.Now().Format("150405")
	labels := func(key string) map[string]string {
		return map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelEnv: run, provider.LabelElement: "env/" + run + "/" + key}
	}
	providertest.Run(t, providertest.Suite{
		New:   func() provider.Target { return New() },
		Owner: map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelEnv: run},
		Elements: func(t *testing.T) []*provider.Element {
			ctxTar := helloContext(t)
			base := "conf-" + run
			return []*provider.Element{
				{Key: "network", Kind: KindNetwork, Target: "local", Name: base, Labels: labels("network")},
				{Key: "volume", Kind: KindVolume, Target: "local", Name: base + "-data", Labels: labels("volume")},
				{Key: "db", Kind: KindDatabase, Target: "local", Name: base + "-mysql", Deps: []string{"network", "volume"}, Labels: labels("db"),
					Spec:   provider.MustSpec(databaseSpec{Engine: "mysql", Image: "cld/mysql:debian12", DBName: "app", Username: "app", Network: base, Volume: base + "-data"}),
					Inputs: map[string]string{"password": provider.GeneratePassword(24), "root_password": provider.GeneratePassword(24)}},
				{Key: "image", Kind: KindImage, Target: "local", Name: base + ":1", Labels: labels("image"),
					Spec: provider.MustSpec(imageSpec{ContextTar: ctxTar, Dockerfile: "Dockerfile"})},
				{Key: "app", Kind: KindApp, Target: "local", Name: base + "-app", Deps: []string{"network", "image"}, Labels: labels("app"),
					Spec:   provider.MustSpec(appSpec{Image: base + ":1", ContainerPort: 8080, Network: base, Env: []envValue{{Name: "A", Value: "1"}, {Name: "S", Secret: true}}}),
					Inputs: map[string]string{"S": "secret"}},
			}
		},
	})
}

// helloContext builds the e2e hello app and tars it with a Dockerfile.
func helloContext(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "hello"), "./test/e2e/testdata/hello")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /hello\nENTRYPOINT [\"/hello\"]\n"), 0o644)
	rc, err := archive.TarWithOptions(dir, &archive.TarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := filepath.Join(t.TempDir(), "context.tar")
	f, _ := os.Create(out)
	defer f.Close()
	if _, err := f.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return out
}
