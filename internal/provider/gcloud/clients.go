package gcloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	artifactregistry "google.golang.org/api/artifactregistry/v1"
	compute "google.golang.org/api/compute/v1"
	container "google.golang.org/api/container/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	sqladmin "google.golang.org/api/sqladmin/v1"

	"github.com/cloudark/cld/internal/provider"
)

const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// apiClients are the Google API clients of one Settings, sharing one
// authenticated HTTP client.
type apiClients struct {
	creds     *auth.Credentials
	http      *http.Client
	compute   *compute.Service
	container *container.Service
	sql       *sqladmin.Service
	ar        *artifactregistry.Service
}

// api returns (cached) clients for s.
func (t *Target) api(s Settings) (*apiClients, error) {
	t.remember(s)
	k := s.key()
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[k]; ok {
		return c, nil
	}
	c, err := newClients(s)
	if err != nil {
		return nil, err
	}
	t.clients[k] = c
	return c, nil
}

// baseTransport trusts the system's CAs (SSL_CERT_FILE and friends are
// honoured by Go) plus gcloud's custom CA file when set.
func baseTransport(caFile string) (http.RoundTripper, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, provider.Permanent(fmt.Errorf("custom CA file: %w", err))
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, provider.Permanent(fmt.Errorf("custom CA file %s holds no PEM certificate", caFile))
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return tr, nil
}

// Credentials loads the application default credentials of s: the file's
// own type (service account key, `gcloud auth application-default login`
// user, workload identity federation...), else the metadata server.
func (s Settings) credentials() (*auth.Credentials, error) {
	tr, err := baseTransport(s.CACertsFile)
	if err != nil {
		return nil, err
	}
	opts := &credentials.DetectOptions{Scopes: []string{cloudPlatformScope}, Client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	var creds *auth.Credentials
	if s.Credentials == "" {
		creds, err = credentials.DetectDefault(opts)
	} else {
		var b []byte
		b, err = os.ReadFile(s.Credentials)
		if err == nil {
			var f struct {
				Type string `json:"type"`
			}
			if jerr := json.Unmarshal(b, &f); jerr != nil || f.Type == "" {
				err = fmt.Errorf("%s is not a Google credentials file (no \"type\")", s.Credentials)
			} else {
				creds, err = credentials.NewCredentialsFromJSON(credentials.CredType(f.Type), b, opts)
			}
		}
	}
	if err != nil {
		return nil, provider.Permanent(fmt.Errorf("Google application default credentials: %v (run `cld setup gcloud`)", err))
	}
	return creds, nil
}

func newClients(s Settings) (*apiClients, error) {
	creds, err := s.credentials()
	if err != nil {
		return nil, err
	}
	tr, err := baseTransport(s.CACertsFile)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &authTransport{creds: creds, base: tr}, Timeout: 2 * time.Minute}
	ctx := context.Background()
	opts := func(api string) []option.ClientOption {
		o := []option.ClientOption{option.WithHTTPClient(hc), option.WithUserAgent("cld")}
		if ep := s.Endpoints[api]; ep != "" {
			o = append(o, option.WithEndpoint(ep))
		}
		return o
	}
	c := &apiClients{creds: creds, http: hc}
	if c.compute, err = compute.NewService(ctx, opts("compute")...); err != nil {
		return nil, provider.Permanent(err)
	}
	if c.container, err = container.NewService(ctx, opts("container")...); err != nil {
		return nil, provider.Permanent(err)
	}
	if c.sql, err = sqladmin.NewService(ctx, opts("sqladmin")...); err != nil {
		return nil, provider.Permanent(err)
	}
	if c.ar, err = artifactregistry.NewService(ctx, opts("artifactregistry")...); err != nil {
		return nil, provider.Permanent(err)
	}
	return c, nil
}

// token returns an OAuth 2.0 access token of the credentials.
func (c *apiClients) token(ctx context.Context) (*auth.Token, error) {
	tok, err := c.creds.Token(ctx)
	if err != nil {
		return nil, classifyAuth(err)
	}
	return tok, nil
}

// authTransport adds the credentials' bearer token (and quota project) to
// every request.
type authTransport struct {
	creds *auth.Credentials
	base  http.RoundTripper
}

func (a *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tok, err := a.creds.Token(r.Context())
	if err != nil {
		return nil, classifyAuth(err)
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+tok.Value)
	if qp, _ := a.creds.QuotaProjectID(r.Context()); qp != "" && r2.Header.Get("X-Goog-User-Project") == "" {
		r2.Header.Set("X-Goog-User-Project", qp)
	}
	return a.base.RoundTrip(r2)
}

func classifyAuth(err error) error {
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Response != nil && ae.Response.StatusCode >= 400 && ae.Response.StatusCode < 500 {
		return provider.Permanent(fmt.Errorf("getting a Google access token: %v (run `cld setup gcloud`)", err))
	}
	return fmt.Errorf("getting a Google access token: %w", err) // the token endpoint unreachable: try again
}

// Errors.

func apiCode(err error) (int, string) {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		reason := ""
		if len(ge.Errors) > 0 {
			reason = ge.Errors[0].Reason
		}
		if reason == "" {
			for _, d := range ge.Details {
				if m, ok := d.(map[string]any); ok {
					if r, ok := m["reason"].(string); ok {
						reason = r
					}
				}
			}
		}
		if reason == "" && strings.Contains(ge.Body, "FAILED_PRECONDITION") {
			reason = "failedPrecondition"
		}
		return ge.Code, reason
	}
	return 0, ""
}

func isNotFound(err error) bool { c, _ := apiCode(err); return c == 404 }
func isConflict(err error) bool { c, _ := apiCode(err); return c == 409 }

// transientReasons are 400s that the next attempt may not get: another
// operation is running, or a dependent resource is still going away.
var transientReasons = map[string]bool{
	"resourceNotReady": true, "resourceInUseByAnotherResource": true, "failedPrecondition": true,
	"operationInProgress": true, "rateLimitExceeded": true, "userRateLimitExceeded": true,
}

// classify marks errors that retrying will not fix as Permanent, with the
// context of what was being done.
func classify(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if provider.IsPermanent(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := fmt.Sprintf(format, args...)
	code, reason := apiCode(err)
	switch {
	case code == 0, code >= 500, code == 429, code == 409, code == 412, transientReasons[reason]:
		return fmt.Errorf("%s: %w", msg, err)
	case code == 401:
		return provider.Permanent(fmt.Errorf("%s: %w (the credentials were refused: `cld setup gcloud`)", msg, err))
	case code == 403 && strings.Contains(err.Error(), "SERVICE_DISABLED"), code == 403 && strings.Contains(strings.ToLower(err.Error()), "has not been used"):
		return provider.Permanent(fmt.Errorf("%s: %w (enable the API in the project)", msg, err))
	}
	return provider.Permanent(fmt.Errorf("%s: %w", msg, err))
}

// errStillCreating: the thing to delete is still being created.
var errStillCreating = errors.New("still being created")

// settleTimeout bounds how long a delete waits for the platform to finish
// what it is doing with the resource (another operation in progress).
var settleTimeout = 30 * time.Minute

// untilSettled calls fn again while it fails because another operation on
// the resource is in progress (GKE and Cloud SQL run one at a time; a
// resource being created cannot be deleted yet), up to settleTimeout.
func untilSettled(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(settleTimeout)
	delay := 200 * time.Millisecond
	for {
		err := fn()
		if err == nil || !busy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*3/2, 5*time.Second)
	}
}

// busy reports an error that says the resource is busy with another operation.
func busy(err error) bool {
	if errors.Is(err, errStillCreating) {
		return true
	}
	code, reason := apiCode(err)
	return (code == 409 || code == 400 || code == 412) && transientReasons[reason]
}
