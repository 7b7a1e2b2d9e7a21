package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/option"
	sqladmin "google.golang.org/api/sqladmin/v1"
)

func TestRunPrintsEndpoints(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-sql-create-duration=-1ms", "-kube-endpoint=127.0.0.1:6443", "-kube-ca-file=" + ca},
			nil, pw, io.Discard)
		pw.Close()
	}()
	env := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if line == "READY" {
			break
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		env[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if len(env) == 0 {
		t.Fatalf("no output: %v", <-done)
	}
	for _, k := range []string{"CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", "CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER",
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN", "CLOUDSDK_API_ENDPOINT_OVERRIDES_ARTIFACTREGISTRY", "FAKE_GCLOUD_URL"} {
		if !strings.HasPrefix(env[k], "http://127.0.0.1:") {
			t.Fatalf("%s = %q", k, env[k])
		}
	}
	svc, err := sqladmin.NewService(ctx, option.WithEndpoint(env["CLOUDSDK_API_ENDPOINT_OVERRIDES_SQLADMIN"]), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	op, err := svc.Instances.Insert("p", &sqladmin.DatabaseInstance{Name: "db", DatabaseVersion: "POSTGRES_16",
		Settings: &sqladmin.Settings{Tier: "db-custom-1-3840"}}).Do()
	if err != nil || op.Status != "DONE" {
		t.Fatalf("insert: %v %+v", err, op)
	}
	resp, err := http.Get(env["FAKE_GCLOUD_URL"] + "/_fake/inventory")
	if err != nil {
		t.Fatal(err)
	}
	var inv []map[string]any
	err = json.NewDecoder(resp.Body).Decode(&inv)
	resp.Body.Close()
	if err != nil || len(inv) != 3 || inv[1]["type"] != "instance" {
		t.Fatalf("inventory: %v %v", err, inv)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-nope"}, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("want error")
	}
}
