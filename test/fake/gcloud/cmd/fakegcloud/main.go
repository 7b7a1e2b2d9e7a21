// Command fakegcloud runs the fake Google Cloud APIs of
// github.com/cloudark/cld/test/fake/gcloud on loopback for end-to-end
// tests. It prints one NAME=URL line per API on stdout, NAME being gcloud's
// endpoint-override variable (CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE,
// _CONTAINER, _SQLADMIN, _ARTIFACTREGISTRY), then FAKE_GCLOUD_URL=<url> of
// the listener serving every API plus the control endpoints
// (/_fake/inventory, /_fake/calls, /_fake/fault), and a final "READY" line.
// It runs until SIGINT/SIGTERM (or stdin closes, with -exit-on-stdin-eof).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	fake "github.com/cloudark/cld/test/fake/gcloud"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fakegcloud:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakegcloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o fake.Options
	var caFile string
	var verbose, stdinEOF, inventoryOnExit bool
	fs.DurationVar(&o.OperationDuration, "operation-duration", 0, "Compute operations (networks, subnetworks, firewalls); 0 = default 200ms, negative (e.g. -1ms) = immediate")
	fs.DurationVar(&o.ClusterCreateDuration, "cluster-create-duration", 0, "GKE cluster PROVISIONING -> RUNNING")
	fs.DurationVar(&o.ClusterDeleteDuration, "cluster-delete-duration", 0, "GKE cluster STOPPING -> gone")
	fs.DurationVar(&o.ClusterUpdateDuration, "cluster-update-duration", 0, "GKE node pool and label operations")
	fs.DurationVar(&o.SQLCreateDuration, "sql-create-duration", 0, "Cloud SQL PENDING_CREATE -> RUNNABLE")
	fs.DurationVar(&o.SQLUpdateDuration, "sql-update-duration", 0, "Cloud SQL instance patch/update")
	fs.DurationVar(&o.SQLDeleteDuration, "sql-delete-duration", 0, "Cloud SQL PENDING_DELETE -> gone")
	fs.DurationVar(&o.SQLOperationDuration, "sql-operation-duration", 0, "Cloud SQL databases and users (default 100ms)")
	fs.DurationVar(&o.RepositoryDuration, "repository-duration", 0, "Artifact Registry operations (default 100ms)")
	fs.StringVar(&o.KubeEndpoint, "kube-endpoint", "", "GKE cluster endpoint (host[:port]) of every cluster, e.g. 127.0.0.1:6443")
	fs.StringVar(&caFile, "kube-ca-file", "", "PEM file of the cluster CA certificate (default: a generated CA)")
	fs.StringVar(&o.RegistryHost, "registry-host", "", "docker registry host[:port] of Artifact Registry repositories, e.g. 127.0.0.1:5000")
	fs.StringVar(&o.RegistryScheme, "registry-scheme", "http", "scheme to reach -registry-host")
	fs.StringVar(&o.SQLPrimaryIP, "sql-primary-ip", "", "PRIMARY address of every Cloud SQL instance (default 198.51.100.x)")
	fs.StringVar(&o.ProjectNumber, "project-number", "", "project number in GKE operation links (default 123456789012)")
	fs.BoolVar(&verbose, "v", false, "log every request on stderr")
	fs.BoolVar(&stdinEOF, "exit-on-stdin-eof", false, "exit when stdin reaches EOF (so a dying parent does not leave the fake running)")
	fs.BoolVar(&inventoryOnExit, "inventory-on-exit", false, "print the inventory as JSON on stderr when exiting")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		o.KubeCA = b
	}
	if verbose {
		l := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
		o.Logf = l.Printf
	}
	s, err := fake.Start(o)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, line := range s.Env() {
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "FAKE_GCLOUD_URL=%s\n", s.URL())
	fmt.Fprintln(stdout, "READY")
	if f, ok := stdout.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}

	eof := make(chan struct{})
	if stdinEOF && stdin != nil {
		go func() {
			_, _ = io.Copy(io.Discard, bufio.NewReader(stdin))
			close(eof)
		}()
	}
	select {
	case <-ctx.Done():
	case <-eof:
	}
	if inventoryOnExit {
		enc := json.NewEncoder(stderr)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Inventory())
	}
	// let in-flight requests finish
	time.Sleep(10 * time.Millisecond)
	return nil
}
