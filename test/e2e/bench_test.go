package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudark/cld/internal/state"
)

// Benchmarks, not timed tests: run them with
//   go test ./test/e2e -run '^$' -bench . -benchtime 10x

func buildHello(b *testing.B, u *user) string {
	b.Helper()
	dir := b.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "hello"), "./test/e2e/testdata/hello")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /hello\nEXPOSE 8080\nENTRYPOINT [\"/hello\"]\n"), 0o644)
	r := u.runIn(dir, "container", "create", "hello", "local")
	if r.code != 0 {
		b.Fatal(r.err)
	}
	return strings.TrimSpace(r.out)
}

// poll200 polls url every 10ms until it answers 200.
func poll200(b *testing.B, url string) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatalf("%s never answered", url)
}

// BenchmarkDeploy: `cld app deploy` until the first HTTP 200, against the
// baseline `docker run -d -p` plus a poll loop of the same image.
func BenchmarkDeploy(b *testing.B) {
	u := newUser(b)
	defer u.run("server", "stop")
	img := buildHello(b, u)
	defer u.run("container", "delete", "hello")
	envFile := u.write("env.yaml", "environment:\n  app_deployment:\n    target: local\n")
	u.ok("env", "create", "bench", envFile)
	defer u.run("env", "delete", "bench", "--force")
	appFile := u.write("app.yaml", "app:\n  image: "+img+"\n  container_port: 8080\n")
	u.ok("env", "list") // the server is up before timing starts

	b.Run("cld", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			name := fmt.Sprintf("b%d", i)
			b.StartTimer()
			url := strings.TrimSpace(u.ok("app", "deploy", name, "bench", appFile, "-q"))
			poll200(b, url)
			b.StopTimer()
			u.ok("app", "delete", name, "-q")
		}
	})
	// The baselines: docker run on the default bridge, and on the same
	// user-defined network cld puts apps on (so DBHOST resolves), which
	// costs the engine more.
	var env object
	u.json(&env, "env", "show", "bench")
	network := env.Elements[0].Name
	for _, net := range []struct{ name, network string }{{"docker-run", "bridge"}, {"docker-run-same-network", network}} {
		b.Run(net.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StartTimer()
				id := strings.TrimSpace(run(b, "docker", "run", "-d", "--network", net.network, "-p", "8080", img))
				port := strings.TrimSpace(strings.Split(run(b, "docker", "port", id, "8080"), "\n")[0])
				poll200(b, "http://127.0.0.1:"+port[strings.LastIndex(port, ":")+1:]+"/")
				b.StopTimer()
				exec.Command("docker", "rm", "-f", id).Run()
			}
		})
	}
}

func run(b *testing.B, name string, args ...string) string {
	b.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		b.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// BenchmarkAppList: `cld app list` with N apps in state, against `docker ps`.
func BenchmarkAppList(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("cld-%d", n), func(b *testing.B) {
			u := newUser(b)
			defer u.run("server", "stop")
			seedApps(b, u, n)
			u.ok("app", "list") // server started
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				u.ok("app", "list")
			}
		})
	}
	b.Run("docker-ps", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := exec.Command("docker", "ps").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func seedApps(b *testing.B, u *user, n int) {
	layout := state.Layout{Home: u.home}
	st, err := state.OpenSQLite(layout.Database())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		o := &state.Object{Kind: state.KindApp, Name: fmt.Sprintf("app-%05d", i), Env: "bench", Base: fmt.Sprintf("app-%05d-1", i),
			Target: "local", Status: state.StatusAvailable, URL: fmt.Sprintf("http://localhost:%d", 30000+i%30000)}
		if err := st.CreateObject(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
}
