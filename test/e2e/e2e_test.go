// Package e2e drives the built cld binary as a user would, against the real
// Docker engine. It needs dockerd and the images of scripts/build-db-images.sh.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

var (
	cldBin   string
	repoRoot string
)

const (
	mysqlImage    = "cld/mysql:debian12"
	postgresImage = "cld/postgres:debian12"
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Join(filepath.Dir(file), "..", "..")
	dir, err := os.MkdirTemp("", "cld-e2e-bin")
	if err != nil {
		panic(err)
	}
	cldBin = filepath.Join(dir, "cld")
	build := exec.Command("go", "build", "-o", cldBin, "./cmd/cld")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cld:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// user is one person at a terminal: a CLD_HOME, a working directory.
type user struct {
	t    testing.TB
	home string
	dir  string
	env  []string // extra environment, e.g. KUBECONFIG
}

func newUser(t testing.TB) *user {
	t.Helper()
	requireImages(t)
	// Short path: unix socket paths are limited to 108 bytes.
	home, err := os.MkdirTemp("", "cldh")
	if err != nil {
		t.Fatal(err)
	}
	u := &user{t: t, home: home, dir: t.TempDir()}
	t.Cleanup(func() {
		u.run("server", "stop")
		os.RemoveAll(home)
	})
	return u
}

type result struct {
	out, err string
	code     int
}

func (u *user) runIn(dir string, args ...string) result {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cldBin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CLD_HOME="+u.home), u.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("cld %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

func (u *user) run(args ...string) result { u.t.Helper(); return u.runIn(u.dir, args...) }

// ok runs a command that must succeed and returns its stdout.
func (u *user) ok(args ...string) string {
	u.t.Helper()
	r := u.run(args...)
	if r.code != 0 {
		u.t.Fatalf("cld %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

// fails runs a command that must fail and returns its stderr.
func (u *user) fails(args ...string) string {
	u.t.Helper()
	r := u.run(args...)
	if r.code == 0 {
		u.t.Fatalf("cld %s succeeded, want failure\nstdout: %s", strings.Join(args, " "), r.out)
	}
	return r.err
}

func (u *user) json(v any, args ...string) {
	u.t.Helper()
	out := u.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		u.t.Fatalf("cld %v -o json: %v\n%s", args, err, out)
	}
}

func (u *user) write(name, content string) string {
	u.t.Helper()
	p := filepath.Join(u.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		u.t.Fatal(err)
	}
	return p
}

func dockerClient(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func requireImages(t testing.TB) {
	t.Helper()
	c := dockerClient(t)
	defer c.Close()
	for _, img := range []string{mysqlImage, postgresImage} {
		if _, err := c.ImageInspect(context.Background(), img); err != nil {
			t.Fatalf("image %s is missing: run `bash scripts/build-db-images.sh` first (%v)", img, err)
		}
	}
}

// leftovers lists every Docker object carrying all the given labels.
func leftovers(t *testing.T, labels ...string) []string {
	t.Helper()
	c := dockerClient(t)
	defer c.Close()
	ctx := context.Background()
	f := filters.NewArgs()
	for _, l := range labels {
		f.Add("label", l)
	}
	var out []string
	cs, err := c.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range cs {
		out = append(out, "container "+strings.Join(x.Names, ","))
	}
	ns, _ := c.NetworkList(ctx, network.ListOptions{Filters: f})
	for _, x := range ns {
		out = append(out, "network "+x.Name)
	}
	vs, _ := c.VolumeList(ctx, volume.ListOptions{Filters: f})
	for _, x := range vs.Volumes {
		out = append(out, "volume "+x.Name)
	}
	is, _ := c.ImageList(ctx, image.ListOptions{All: true, Filters: f})
	for _, x := range is {
		out = append(out, "image "+strings.Join(x.RepoTags, ","))
	}
	return out
}

func assertNoLeftovers(t *testing.T, labels ...string) {
	t.Helper()
	if left := leftovers(t, append([]string{"managed-by=cld"}, labels...)...); len(left) > 0 {
		t.Fatalf("Docker objects left behind (%v): %v", labels, left)
	}
}

// buildGreetings compiles the example app as a static binary into a build
// directory with its Dockerfile, as a user would before `container create`.
func buildGreetings(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(repoRoot, "examples", "greetings")
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "greetings"), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build greetings: %v\n%s", err, out)
	}
	for _, f := range []string{"Dockerfile", ".dockerignore"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	// something .dockerignore must keep out of the build context
	os.WriteFile(filepath.Join(dir, "secret.env"), []byte("TOKEN=do-not-ship"), 0o600)
	return dir
}

func buildFailer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "failer"), "./test/e2e/testdata/failer")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build failer: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY failer /failer\nENTRYPOINT [\"/failer\"]\n"), 0o644)
	return dir
}

type object struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Error    string `json:"error"`
	URL      string `json:"url"`
	Image    string `json:"image"`
	Elements []struct {
		Key, Kind, Name, Status string
		Outputs                 map[string]string
	} `json:"elements"`
}

type resource struct {
	Env        string            `json:"env"`
	Type       string            `json:"type"`
	Attributes map[string]string `json:"attributes"`
}

func httpDo(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func serverPID(t *testing.T, u *user) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(u.home, "server.pid"))
	if err == nil {
		var pid int
		fmt.Sscan(string(b), &pid)
		return pid
	}
	t.Fatalf("no server.pid: %v", err)
	return 0
}

func kill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// wait (bounded) until it is gone
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
