package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudark/cld/internal/api"
	"github.com/cloudark/cld/internal/client"
	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/state"
)

// startServer runs a real server on a unix socket with no targets.
func startServer(t *testing.T) (state.Layout, *client.Client) {
	t.Helper()
	home, err := os.MkdirTemp("", "cldsrv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	layout := state.Layout{Home: home}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Layout: layout, Targets: provider.NewRegistry()}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	c := client.New(layout)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.Version(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not answer")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return layout, c
}

func TestSocketIsPrivate(t *testing.T) {
	layout, _ := startServer(t)
	fi, err := os.Stat(layout.Socket())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(layout.Home, "server.pid")); err != nil {
		t.Fatal(err)
	}
}

func TestAPIErrorsAndViews(t *testing.T) {
	layout, c := startServer(t)
	ctx := context.Background()
	_, err := c.CreateEnv(ctx, api.Definition{Name: "dev", File: "e.yaml", Source: []byte("environment:\n  app_deployment:\n    target: local\n")})
	if !client.IsBadInput(err) || !strings.Contains(err.Error(), "not available yet") {
		t.Fatalf("unknown target: %v", err)
	}
	_, err = c.CreateEnv(ctx, api.Definition{Name: "dev", File: "e.yaml", Source: []byte("environment: [")})
	if !client.IsBadInput(err) || !strings.Contains(err.Error(), "e.yaml:") {
		t.Fatalf("bad yaml: %v", err)
	}
	if _, err := c.Show(ctx, "envs", "nope"); !client.IsNotFound(err) {
		t.Fatalf("missing env: %v", err)
	}
	envs, err := c.List(ctx, "envs", "")
	if err != nil || len(envs) != 0 {
		t.Fatalf("%v %v", envs, err)
	}
	// the web view, through the socket
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", layout.Socket())
	}}}
	resp, err := hc.Get("http://cld/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if resp.StatusCode != 200 || !strings.Contains(b.String(), "<h1>cld environments</h1>") {
		t.Fatalf("dashboard: %d %s", resp.StatusCode, b.String())
	}
	resp2, err := hc.Get("http://cld/v1/version")
	if err != nil {
		t.Fatal(err)
	}
	var info api.ServerInfo
	json.NewDecoder(resp2.Body).Decode(&info)
	resp2.Body.Close()
	if info.PID != os.Getpid() || info.Version != api.Version {
		t.Fatalf("version: %+v", info)
	}
}
