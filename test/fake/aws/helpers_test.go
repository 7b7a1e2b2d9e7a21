package fake

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func fastOpts() Options {
	const d = 50 * time.Millisecond
	return Options{
		RDSCreateDuration: d, RDSBackupDuration: d, RDSModifyDuration: d, RDSDeleteDuration: d,
		InstanceLaunchDuration: d, InstanceTerminateDuration: d, ASGDeleteDuration: d,
		TaskStartDuration: d, TaskStopDuration: d, OneOffTaskDuration: d,
		TargetHealthyDuration: d, TargetDrainDuration: d, LoadBalancerProvisionDuration: d, LoadBalancerDeleteDuration: d,
		CapacityProviderDeleteDuration: d,
	}
}

func startFake(t *testing.T, opts Options) (*Server, aws.Config) {
	t.Helper()
	srv := New(opts)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := srv.AWSConfig(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return srv, cfg
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it is true or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", d, what)
}

func assertEmptyInventory(t *testing.T, srv *Server) {
	t.Helper()
	if inv := srv.Inventory(); len(inv) != 0 {
		t.Fatalf("inventory not empty: %+v", inv)
	}
}
