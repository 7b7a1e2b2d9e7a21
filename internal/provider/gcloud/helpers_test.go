package gcloud

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudark/cld/internal/provider"
	fake "github.com/cloudark/cld/test/fake/gcloud"
)

const (
	testProject = "cld-test"
	testRegion  = "us-central1"
	testZone    = "us-central1-a"
)

// newFake starts the Google fake with short durations and authentication
// required: every call must carry the token its token endpoint issued for
// the service-account key serviceAccountKey writes.
func newFake(t *testing.T, o fake.Options) *fake.Server {
	t.Helper()
	if o.OperationDuration == 0 {
		o.OperationDuration = 30 * time.Millisecond
	}
	if o.ClusterCreateDuration == 0 {
		o.ClusterCreateDuration = 150 * time.Millisecond
	}
	if o.ClusterDeleteDuration == 0 {
		o.ClusterDeleteDuration = 100 * time.Millisecond
	}
	if o.SQLCreateDuration == 0 {
		o.SQLCreateDuration = 150 * time.Millisecond
	}
	if o.SQLDeleteDuration == 0 {
		o.SQLDeleteDuration = 100 * time.Millisecond
	}
	if o.SQLUpdateDuration == 0 {
		o.SQLUpdateDuration = 50 * time.Millisecond
	}
	if o.SQLOperationDuration == 0 {
		o.SQLOperationDuration = 20 * time.Millisecond
	}
	if o.RepositoryDuration == 0 {
		o.RepositoryDuration = 20 * time.Millisecond
	}
	o.RequireAuth = true
	s, err := fake.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// serviceAccountKey writes a service-account key file (a fresh RSA key)
// whose token_uri is the fake's token endpoint.
func serviceAccountKey(t *testing.T, dir, tokenURL string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(map[string]string{
		"type":           "service_account",
		"project_id":     testProject,
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "cld-test@" + testProject + ".iam.gserviceaccount.com",
		"client_id":      "100000000000000000001",
		"token_uri":      tokenURL,
	}, "", "  ")
	p := filepath.Join(dir, "sa.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeEnv is the environment a user pointing cld at the fake has.
func fakeEnv(t *testing.T, s *fake.Server) map[string]string {
	t.Helper()
	env := map[string]string{
		"GOOGLE_APPLICATION_CREDENTIALS": serviceAccountKey(t, t.TempDir(), s.TokenURL()),
		"CLOUDSDK_CONFIG":                t.TempDir(), // no gcloud configuration of the machine
	}
	for _, api := range APIs {
		env[fake.EnvVarName(api)] = s.EndpointURL(api)
	}
	return env
}

func testSettings(t *testing.T, s *fake.Server) Settings {
	t.Helper()
	st, err := Resolve(Overrides{Project: testProject, Zone: testZone}, fakeEnv(t, s)).Settings()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func labelsFor(env, key string) map[string]string {
	return map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelEnv: env, provider.LabelElement: "env/" + env + "/" + key}
}

func runID(prefix string) string {
	return prefix + time.Now().Format("150405")
}
