package gcloud

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	artifactregistry "google.golang.org/api/artifactregistry/v1"
	compute "google.golang.org/api/compute/v1"
	container "google.golang.org/api/container/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	sqladmin "google.golang.org/api/sqladmin/v1"
)

const (
	project = "cld-test"
	region  = "us-central1"
	zone    = "us-central1-a"
)

// testTimeout bounds every wait loop of a test.
const testTimeout = 20 * time.Second

func newFake(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func clientOpts(endpoint string) []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(endpoint), option.WithoutAuthentication()}
}

func computeClient(t *testing.T, ctx context.Context, endpoint string) *compute.Service {
	t.Helper()
	svc, err := compute.NewService(ctx, clientOpts(endpoint)...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func containerClient(t *testing.T, ctx context.Context, endpoint string) *container.Service {
	t.Helper()
	svc, err := container.NewService(ctx, clientOpts(endpoint)...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func sqlClient(t *testing.T, ctx context.Context, endpoint string) *sqladmin.Service {
	t.Helper()
	svc, err := sqladmin.NewService(ctx, clientOpts(endpoint)...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func arClient(t *testing.T, ctx context.Context, endpoint string) *artifactregistry.Service {
	t.Helper()
	svc, err := artifactregistry.NewService(ctx, clientOpts(endpoint)...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// eventually polls f until it returns true or the test timeout passes.
func eventually(t *testing.T, what string, f func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		ok, err := f()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: timed out", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCompute polls a Compute operation (global, regional or zonal) the way
// cld would, until DONE; it fails the test on an operation error.
func waitCompute(t *testing.T, svc *compute.Service, op *compute.Operation) *compute.Operation {
	t.Helper()
	out := waitComputeAllowError(t, svc, op)
	if out.Error != nil {
		t.Fatalf("operation %s failed: %+v", op.Name, out.Error.Errors[0])
	}
	return out
}

func waitComputeAllowError(t *testing.T, svc *compute.Service, op *compute.Operation) *compute.Operation {
	t.Helper()
	cur := op
	eventually(t, "compute operation "+op.Name, func() (bool, error) {
		if cur.Status == "DONE" {
			return true, nil
		}
		var err error
		switch {
		case cur.Zone != "":
			cur, err = svc.ZoneOperations.Get(project, lastSegment(cur.Zone), cur.Name).Do()
		case cur.Region != "":
			cur, err = svc.RegionOperations.Get(project, lastSegment(cur.Region), cur.Name).Do()
		default:
			cur, err = svc.GlobalOperations.Get(project, cur.Name).Do()
		}
		return err == nil && cur.Status == "DONE", err
	})
	return cur
}

func waitContainer(t *testing.T, svc *container.Service, op *container.Operation) *container.Operation {
	t.Helper()
	cur := op
	eventually(t, "container operation "+op.Name, func() (bool, error) {
		if cur.Status == "DONE" {
			return true, nil
		}
		var err error
		cur, err = svc.Projects.Locations.Operations.Get("projects/" + project + "/locations/" + op.Location + "/operations/" + op.Name).Do()
		return err == nil && cur.Status == "DONE", err
	})
	return cur
}

func waitSQL(t *testing.T, svc *sqladmin.Service, op *sqladmin.Operation) *sqladmin.Operation {
	t.Helper()
	cur := op
	eventually(t, "sql operation "+op.Name, func() (bool, error) {
		if cur.Status == "DONE" {
			return true, nil
		}
		var err error
		cur, err = svc.Operations.Get(project, op.Name).Do()
		return err == nil && cur.Status == "DONE", err
	})
	if cur.Error != nil {
		t.Fatalf("sql operation %s failed: %+v", op.Name, cur.Error.Errors[0])
	}
	return cur
}

func waitAR(t *testing.T, svc *artifactregistry.Service, op *artifactregistry.Operation) *artifactregistry.Operation {
	t.Helper()
	cur := op
	eventually(t, "artifact registry operation "+op.Name, func() (bool, error) {
		if cur.Done {
			return true, nil
		}
		var err error
		cur, err = svc.Projects.Locations.Operations.Get(op.Name).Do()
		return err == nil && cur.Done, err
	})
	return cur
}

// gerr asserts err is a *googleapi.Error with the HTTP code and (when not
// empty) the reason, as the real clients produce it.
func gerr(t *testing.T, err error, code int, reason string) *googleapi.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d %s, got nil", code, reason)
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("want *googleapi.Error, got %T %v", err, err)
	}
	if ge.Code != code {
		t.Fatalf("want code %d, got %d (%v)", code, ge.Code, err)
	}
	if reason != "" {
		got := ""
		if len(ge.Errors) > 0 {
			got = ge.Errors[0].Reason
		} else {
			// the client wraps an *apierror.APIError in the
			// googleapi.Error; apierror.FromError(err) would re-parse
			// and lose the details, errors.As keeps them
			var ae *apierror.APIError
			if errors.As(err, &ae) {
				got = ae.Reason()
			}
		}
		if got != reason {
			t.Fatalf("want reason %q, got %q (%v)", reason, got, err)
		}
	}
	return ge
}

func assertEmptyInventory(t *testing.T, s *Server) {
	t.Helper()
	if inv := s.Inventory(); len(inv) != 0 {
		var names []string
		for _, r := range inv {
			names = append(names, r.Type+" "+r.Name)
		}
		t.Fatalf("inventory not empty:\n%s", strings.Join(names, "\n"))
	}
	resp, err := http.Get(s.URL() + "/_fake/inventory")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 64)
	n, _ := resp.Body.Read(buf)
	if got := strings.TrimSpace(string(buf[:n])); got != "[]" {
		t.Fatalf("GET /_fake/inventory = %q, want []", got)
	}
}
