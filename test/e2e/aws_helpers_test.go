package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	fake "github.com/cloudark/cld/test/fake/aws"
)

const awsRegion = "us-east-1"

// fakeDurations returns fake options whose lifecycles all take d.
func fakeDurations(d time.Duration) fake.Options {
	return fake.Options{
		RDSCreateDuration: d, RDSBackupDuration: d, RDSModifyDuration: d, RDSDeleteDuration: d, InstanceLaunchDuration: d,
		InstanceTerminateDuration: d, ASGDeleteDuration: d, TaskStartDuration: d, TaskStopDuration: d, OneOffTaskDuration: d,
		TargetHealthyDuration: d, TargetDrainDuration: d, LoadBalancerProvisionDuration: d, LoadBalancerDeleteDuration: d,
		CapacityProviderDeleteDuration: d,
	}
}

// startFakeAWS serves the stateful AWS fake on loopback for one test.
func startFakeAWS(t *testing.T, opts fake.Options) *fake.Server {
	t.Helper()
	srv := fake.New(opts)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// awsUser is a user whose shell points the AWS SDK at the fake: test
// credentials, a region, AWS_ENDPOINT_URL, and no shared files of the machine.
func awsUser(t *testing.T, srv *fake.Server) *user {
	t.Helper()
	u := newUser(t)
	aws := t.TempDir()
	u.env = append(u.env,
		"AWS_ACCESS_KEY_ID=AKIDCLDE2E", "AWS_SECRET_ACCESS_KEY=cld-e2e-secret", "AWS_REGION="+awsRegion,
		"AWS_ENDPOINT_URL="+srv.URL(), "AWS_CONFIG_FILE="+filepath.Join(aws, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(aws, "credentials"), "AWS_EC2_METADATA_DISABLED=true",
	)
	return u
}

// awsConfig is an SDK config on the fake, for checks behind cld's back.
func awsConfig(t *testing.T, srv *fake.Server) aws.Config {
	t.Helper()
	cfg, err := srv.AWSConfig(context.Background(), awsRegion)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// owned lists the fake's live resources carrying a tag (all with "").
func owned(srv *fake.Server, tag, value string) []string {
	var out []string
	for _, r := range srv.Inventory() {
		if tag == "" || r.Tags[tag] == value {
			out = append(out, fmt.Sprintf("%s %s %s", r.Service, r.Type, or(r.Name, r.ID)))
		}
	}
	sort.Strings(out)
	return out
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// assertAWSEmpty fails if the fake holds any live resource.
func assertAWSEmpty(t *testing.T, srv *fake.Server, context string) {
	t.Helper()
	// deletes of instances, groups and databases settle within the fake's durations
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := owned(srv, "", "")
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: AWS resources left behind:\n  %s", context, strings.Join(left, "\n  "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startRegistry runs Debian's docker-registry on a free loopback port with
// filesystem storage (deletes enabled) and returns host:port. dockerd pushes
// to it over plain HTTP: loopback registries are insecure by default.
func startRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatalf("docker-registry is not installed (scripts/setup.sh installs it): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)), 0o644)
	cmd := exec.Command(bin, "serve", cfg)
	logf, _ := os.Create(filepath.Join(dir, "registry.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("docker-registry on %s did not start: %v\n%s", addr, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// timed runs a cld command that must succeed and says how long it took.
func (u *user) timed(args ...string) (string, time.Duration) {
	u.t.Helper()
	start := time.Now()
	out := u.ok(args...)
	return out, time.Since(start)
}
