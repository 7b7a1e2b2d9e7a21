// Package gcloud is a stateful, in-process fake of the Google Cloud REST APIs
// that cld's gcloud target uses: Compute Engine v1 (VPC networks,
// subnetworks, firewall rules, and the GKE node instances/instance groups),
// Kubernetes Engine (container v1), Cloud SQL Admin (v1 and v1beta4) and
// Artifact Registry v1.
//
// Every API is served on its own loopback listener (ComputeURL, ContainerURL,
// SQLAdminURL, ArtifactRegistryURL) with the real REST paths, so the official
// google.golang.org/api clients work unchanged with
// option.WithEndpoint(url) and option.WithoutAuthentication(). URL() serves
// all four APIs on one base URL as well (the only colliding paths, container
// and Artifact Registry operations, are told apart by the operation name).
//
// Requests and responses use the clients' own generated types, so JSON shapes
// are the clients' shapes. Mutations return long-running operations whose
// state advances with time (PENDING -> RUNNING -> DONE); resources follow
// their real lifecycles. Errors use Google's JSON error shape and HTTP codes,
// so the clients return *googleapi.Error (wrapping an *apierror.APIError).
//
// Control endpoints on every listener: GET /_fake/inventory, GET /_fake/calls,
// POST /_fake/fault (see ControlFault).
package gcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/api/option"
)

// API names accepted by the Server's methods.
const (
	Compute          = "compute"
	Container        = "container"
	SQLAdmin         = "sqladmin"
	ArtifactRegistry = "artifactregistry"
)

// APIs lists the API names in a fixed order.
var APIs = []string{Compute, Container, SQLAdmin, ArtifactRegistry}

// Options configures a Server. Zero durations take the defaults (200ms
// unless said otherwise); a negative duration means "immediately".
type Options struct {
	// OperationDuration: Compute operations (networks, subnetworks,
	// firewalls) PENDING -> RUNNING -> DONE.
	OperationDuration time.Duration
	// ClusterCreateDuration: GKE cluster PROVISIONING -> RUNNING.
	ClusterCreateDuration time.Duration
	// ClusterDeleteDuration: GKE cluster STOPPING -> gone.
	ClusterDeleteDuration time.Duration
	// ClusterUpdateDuration: node pool create/delete/resize, labels.
	ClusterUpdateDuration time.Duration
	// SQLCreateDuration: Cloud SQL instance PENDING_CREATE -> RUNNABLE.
	SQLCreateDuration time.Duration
	// SQLUpdateDuration: Cloud SQL instance patch/update.
	SQLUpdateDuration time.Duration
	// SQLDeleteDuration: Cloud SQL instance PENDING_DELETE -> gone.
	SQLDeleteDuration time.Duration
	// SQLOperationDuration: databases and users (default 100ms).
	SQLOperationDuration time.Duration
	// RepositoryDuration: Artifact Registry repository/package operations
	// (default 100ms).
	RepositoryDuration time.Duration

	// KubeEndpoint is the GKE cluster "endpoint" of every cluster (host or
	// host:port, no scheme), e.g. "127.0.0.1:6443" of a real API server.
	// Default: a distinct 192.0.2.x address per cluster.
	KubeEndpoint string
	// KubeCA is the PEM cluster CA certificate returned (base64) in
	// masterAuth.clusterCaCertificate. Default: a CA the fake generates.
	KubeCA []byte

	// RegistryHost is the docker host[:port] of Artifact Registry
	// repositories (registryUri = RegistryHost/project/repo), e.g.
	// "127.0.0.1:5000" of a real docker registry. When set, docker image
	// listing also reads that registry (/v2/_catalog, /v2/<name>/tags/list)
	// and deleting images/repositories deletes their manifests there (best
	// effort). Default: "<location>-docker.pkg.dev" and no registry.
	RegistryHost string
	// RegistryScheme used to reach RegistryHost (default "http").
	RegistryScheme string

	// SQLPrimaryIP, when set, is the PRIMARY address of every Cloud SQL
	// instance (e.g. "127.0.0.1" where a real database listens). Default: a
	// distinct 198.51.100.x address per instance.
	SQLPrimaryIP string

	// ProjectNumber shown where Google shows project numbers (default
	// 123456789012).
	ProjectNumber string

	// Logf, when set, receives one line per request.
	Logf func(format string, args ...any)

	// AccessToken is what the OAuth 2.0 token endpoint (TokenURL) issues
	// (default "fake-gcloud-access-token").
	AccessToken string
	// RequireAuth makes every API call without "Authorization: Bearer
	// <AccessToken>" fail with 401, as Google does.
	RequireAuth bool
}

const defaultDuration = 200 * time.Millisecond

func dur(d, def time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d == 0:
		return def
	}
	return d
}

func (o *Options) setDefaults() {
	o.OperationDuration = dur(o.OperationDuration, defaultDuration)
	o.ClusterCreateDuration = dur(o.ClusterCreateDuration, defaultDuration)
	o.ClusterDeleteDuration = dur(o.ClusterDeleteDuration, defaultDuration)
	o.ClusterUpdateDuration = dur(o.ClusterUpdateDuration, defaultDuration)
	o.SQLCreateDuration = dur(o.SQLCreateDuration, defaultDuration)
	o.SQLUpdateDuration = dur(o.SQLUpdateDuration, defaultDuration)
	o.SQLDeleteDuration = dur(o.SQLDeleteDuration, defaultDuration)
	o.SQLOperationDuration = dur(o.SQLOperationDuration, defaultDuration/2)
	o.RepositoryDuration = dur(o.RepositoryDuration, defaultDuration/2)
	if o.RegistryScheme == "" {
		o.RegistryScheme = "http"
	}
	if o.ProjectNumber == "" {
		o.ProjectNumber = "123456789012"
	}
	if o.AccessToken == "" {
		o.AccessToken = "fake-gcloud-access-token"
	}
}

// Call is one request the fake received.
type Call struct {
	API        string        `json:"api"`
	Method     string        `json:"method"` // discovery method id without the API prefix, e.g. networks.insert
	HTTPMethod string        `json:"httpMethod"`
	Path       string        `json:"path"`
	Time       time.Time     `json:"time"`
	Duration   time.Duration `json:"duration"`
	Status     int           `json:"status"`
	Reason     string        `json:"reason,omitempty"` // error reason, empty on success
}

// Resource is one live resource (see Server.Inventory).
type Resource struct {
	API      string            `json:"api"`
	Type     string            `json:"type"`
	Name     string            `json:"name"` // full resource name, e.g. projects/p/global/networks/n
	Location string            `json:"location,omitempty"`
	Status   string            `json:"status,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	// Owner is the full name of the resource whose creation created this
	// one (auto-mode subnetworks, GKE firewalls/instances, default SQL
	// databases/users); empty for resources created by a client.
	Owner string `json:"owner,omitempty"`
}

// Server is the fake. It is an http.Handler serving every API (the handler
// of URL()); each API also has its own listener.
type Server struct {
	opts Options
	ca   *certAuthority

	mu        sync.Mutex
	st        *state
	ops       map[string]*op // key api|name
	pending   []*op
	calls     []Call
	faults    map[methodKey]*fault
	latency   map[methodKey]time.Duration
	opFaults  map[methodKey]*opFault
	seq       uint64
	closeOnce sync.Once
	closed    chan struct{}

	servers []*http.Server
	urls    map[string]string // api -> base URL; "" -> combined
}

type methodKey struct{ api, method string }

type fault struct {
	code    int
	message string
	times   int // remaining; -1 = always
}

type opFault struct {
	message string
	times   int
}

// New starts a fake on loopback (one listener for all APIs plus one per
// API). It panics if it cannot listen; use Start to get the error instead.
func New(opts Options) *Server {
	s, err := Start(opts)
	if err != nil {
		panic(fmt.Sprintf("fake gcloud: %v", err))
	}
	return s
}

// Start is New returning an error instead of panicking.
func Start(opts Options) (*Server, error) {
	s, err := NewUnstarted(opts)
	if err != nil {
		return nil, err
	}
	if err := s.listen("127.0.0.1"); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// NewUnstarted returns a fake that does not listen: use it as an
// http.Handler (all APIs on one base URL).
func NewUnstarted(opts Options) (*Server, error) {
	opts.setDefaults()
	ca, err := newCertAuthority()
	if err != nil {
		return nil, err
	}
	if len(opts.KubeCA) == 0 {
		opts.KubeCA = ca.certPEM
	}
	return &Server{
		opts:     opts,
		ca:       ca,
		st:       newState(),
		ops:      map[string]*op{},
		faults:   map[methodKey]*fault{},
		latency:  map[methodKey]time.Duration{},
		opFaults: map[methodKey]*opFault{},
		urls:     map[string]string{},
		closed:   make(chan struct{}),
	}, nil
}

func (s *Server) listen(host string) error {
	for _, api := range append([]string{""}, APIs...) {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return err
		}
		var h http.Handler = s
		if api != "" {
			api := api
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, api) })
		}
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, hs)
		s.urls[api] = "http://" + ln.Addr().String()
		go func() { _ = hs.Serve(ln) }()
	}
	return nil
}

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.opts }

// Close stops every listener.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, hs := range s.servers {
			if err := hs.Shutdown(ctx); err != nil {
				_ = hs.Close()
			}
		}
	})
}

// URL is the base URL serving all four APIs (no trailing slash). Compute is
// under URL()+"/compute/v1/".
func (s *Server) URL() string { return s.urls[""] }

// ComputeURL is the endpoint for the compute client, with the path the
// client needs: "http://127.0.0.1:port/compute/v1/".
func (s *Server) ComputeURL() string { return s.urls[Compute] + "/compute/v1/" }

// ContainerURL is the endpoint for the container client ("http://127.0.0.1:port/").
func (s *Server) ContainerURL() string { return s.urls[Container] + "/" }

// SQLAdminURL is the endpoint for the sqladmin client ("http://127.0.0.1:port/").
func (s *Server) SQLAdminURL() string { return s.urls[SQLAdmin] + "/" }

// ArtifactRegistryURL is the endpoint for the artifactregistry client.
func (s *Server) ArtifactRegistryURL() string { return s.urls[ArtifactRegistry] + "/" }

// EndpointURL returns the endpoint of one API (see APIs).
func (s *Server) EndpointURL(api string) string {
	switch canonAPI(api) {
	case Compute:
		return s.ComputeURL()
	case Container:
		return s.ContainerURL()
	case SQLAdmin:
		return s.SQLAdminURL()
	case ArtifactRegistry:
		return s.ArtifactRegistryURL()
	}
	return ""
}

// EnvVarName is the gcloud endpoint-override variable of an API, e.g.
// CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE.
func EnvVarName(api string) string {
	return "CLOUDSDK_API_ENDPOINT_OVERRIDES_" + strings.ToUpper(canonAPI(api))
}

// Env returns NAME=URL for every API (see EnvVarName), ready for exec.Cmd.Env.
func (s *Server) Env() []string {
	var out []string
	for _, api := range APIs {
		out = append(out, EnvVarName(api)+"="+s.EndpointURL(api))
	}
	return out
}

// ClientOptions returns the options that point a google.golang.org/api
// client of the given API at this fake without credentials.
func (s *Server) ClientOptions(api string) []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(s.EndpointURL(api)), option.WithoutAuthentication()}
}

// KubeCA returns the PEM CA certificate the fake's clusters report.
func (s *Server) KubeCA() []byte { return append([]byte(nil), s.opts.KubeCA...) }

var apiAliases = map[string]string{
	"compute": Compute, "gce": Compute,
	"container": Container, "gke": Container, "kubernetes": Container,
	"sqladmin": SQLAdmin, "sql": SQLAdmin, "cloudsql": SQLAdmin,
	"artifactregistry": ArtifactRegistry, "ar": ArtifactRegistry, "gcr": ArtifactRegistry,
}

func canonAPI(api string) string {
	api = strings.ToLower(strings.TrimSpace(api))
	if c, ok := apiAliases[api]; ok {
		return c
	}
	return api
}

// canonMethod strips a leading "<api>." from a discovery method id.
func canonMethod(api, method string) string {
	for _, p := range []string{api + ".", "sql.", "compute.", "container.", "artifactregistry."} {
		if strings.HasPrefix(method, p) {
			return strings.TrimPrefix(method, p)
		}
	}
	return method
}

// InjectLatency delays every following call of api/method (discovery id
// without the API prefix, e.g. "projects.locations.clusters.create"; "*"
// for all methods of the API) by d. d <= 0 removes it.
func (s *Server) InjectLatency(api, method string, d time.Duration) {
	api = canonAPI(api)
	k := methodKey{api, canonMethod(api, method)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.latency, k)
		return
	}
	s.latency[k] = d
}

// InjectFailure makes the next `times` calls of api/method ("*" for all)
// fail with the given HTTP code and message in Google's error shape
// (reason and status derived from the code: 404 notFound, 409
// alreadyExists, 400 badRequest, 403 forbidden, 429 rateLimitExceeded, 5xx
// backendError). times -1 fails forever, 0 removes the fault.
func (s *Server) InjectFailure(api, method string, httpCode int, message string, times int) {
	api = canonAPI(api)
	k := methodKey{api, canonMethod(api, method)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if times == 0 {
		delete(s.faults, k)
		return
	}
	s.faults[k] = &fault{code: httpCode, message: message, times: times}
}

// InjectOperationFailure makes the long-running operations started by the
// next `times` calls of api/method fail when they finish: the call itself
// succeeds, the operation ends DONE with an error carrying message. What
// is left behind is what Google leaves: nothing for networks, firewalls,
// subnetworks and repositories; a GKE cluster or node pool in ERROR; a
// Cloud SQL instance in FAILED (each still to be deleted); for deletes the
// resource stays. times -1 forever, 0 removes it.
func (s *Server) InjectOperationFailure(api, method, message string, times int) {
	api = canonAPI(api)
	k := methodKey{api, canonMethod(api, method)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if times == 0 {
		delete(s.opFaults, k)
		return
	}
	s.opFaults[k] = &opFault{message: message, times: times}
}

// ClearFaults removes every injected failure and latency.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[methodKey]*fault{}
	s.latency = map[methodKey]time.Duration{}
	s.opFaults = map[methodKey]*opFault{}
}

// Calls returns the requests received so far (control endpoints excluded).
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls of api/method ("" or "*" for every method).
func (s *Server) CallsTo(api, method string) []Call {
	api = canonAPI(api)
	method = canonMethod(api, method)
	var out []Call
	for _, c := range s.Calls() {
		if c.API == api && (method == "" || method == "*" || c.Method == method) {
			out = append(out, c)
		}
	}
	return out
}

// Inventory lists every live resource, sorted by API, type and name. It
// reads the docker registry (Options.RegistryHost) for images.
func (s *Server) Inventory() []Resource {
	regImages := s.registrySnapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(time.Now())
	out := s.inventoryLocked(regImages)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.API != b.API {
			return a.API < b.API
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Name < b.Name
	})
	return out
}

// ---------------------------------------------------------------------------
// request handling

// call is one request being handled.
type call struct {
	s      *Server
	api    string
	method string // method id
	r      *http.Request
	vars   map[string]string
	query  url.Values
	body   []byte
	now    time.Time
	prefix string // sqladmin: "v1" or "sql/v1beta4"
}

func (c *call) v(name string) string { return c.vars[name] }

// nameVar is a path variable that is itself a URL-escaped name (Artifact
// Registry package and image names: "team%2Fapi"). The clients expand
// {+name} escaping '%' again, so the segment arrives as "team%252Fapi":
// unescape what is left after the router's unescaping.
func (c *call) nameVar(name string) string {
	v := c.vars[name]
	for i := 0; i < 2 && strings.Contains(v, "%"); i++ {
		u, err := url.PathUnescape(v)
		if err != nil {
			break
		}
		v = u
	}
	return v
}

// decode unmarshals the request body into v.
func (c *call) decode(v any) error {
	if len(c.body) == 0 {
		return errf(400, "required", "Required request body is missing.")
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errf(400, "parseError", "Invalid JSON payload received. %v", err)
	}
	return nil
}

// rawBody returns the body as a generic map (for presence checks).
func (c *call) rawBody() map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(c.body, &m)
	return m
}

type handler func(c *call) (any, error)

// ServeHTTP serves every API on one base URL.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, "") }

func (s *Server) serve(w http.ResponseWriter, r *http.Request, api string) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.serveControl(w, r)
		return
	}
	if r.URL.Path == tokenPath {
		s.serveToken(w, r)
		return
	}
	start := time.Now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	_ = r.Body.Close()
	c := &call{s: s, r: r, query: r.URL.Query(), body: body}
	if err := s.checkAuth(r); err != nil {
		c.api, c.method = api, "unauthenticated"
		if c.api == "" {
			c.api = "unknown"
		}
		s.finish(w, c, start, nil, err)
		return
	}

	prefix, rest, detected := s.splitPath(r, api)
	c.api = detected
	var h handler
	if detected != "" {
		if rt, vars := matchRoute(routes[detected], r.Method, rest); rt != nil {
			h, c.method, c.vars = rt.h, rt.id, vars
		} else if rt == nil && vars != nil {
			// path known, HTTP method not
			c.method = "unknown"
			s.finish(w, c, start, nil, errf(405, "methodNotAllowed", "Method %s not allowed on %s.", r.Method, r.URL.Path))
			return
		}
		c.prefix = prefix
	}
	if h == nil {
		if c.api == "" {
			c.api = "unknown"
		}
		c.method = "unknown"
		s.finish(w, c, start, nil, errf(404, "notFound", "The fake gcloud does not serve %s %s.", r.Method, r.URL.Path))
		return
	}

	// injected latency and failures
	s.mu.Lock()
	lat := s.latency[methodKey{c.api, c.method}]
	if l2 := s.latency[methodKey{c.api, "*"}]; l2 > lat {
		lat = l2
	}
	var injected error
	for _, k := range []methodKey{{c.api, c.method}, {c.api, "*"}} {
		if f := s.faults[k]; f != nil {
			injected = errf(f.code, "", "%s", f.message)
			if f.times > 0 {
				f.times--
				if f.times == 0 {
					delete(s.faults, k)
				}
			}
			break
		}
	}
	s.mu.Unlock()
	if lat > 0 {
		t := time.NewTimer(lat)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if injected != nil {
		s.finish(w, c, start, nil, injected)
		return
	}

	var out any
	var err error
	if blocking[c.method] {
		// handlers that wait (compute operations.wait) lock themselves
		out, err = h(c)
	} else {
		s.mu.Lock()
		c.now = time.Now()
		s.advance(c.now)
		out, err = h(c)
		if err == nil && out != nil {
			// marshal while the state cannot change
			var b []byte
			if b, err = json.Marshal(out); err == nil {
				out = json.RawMessage(b)
			}
		}
		s.mu.Unlock()
	}
	s.finish(w, c, start, out, err)
}

func timeNow() time.Time { return time.Now() }

// blocking lists the handlers that take the lock themselves (and return
// values nobody else holds).
var blocking = map[string]bool{
	"globalOperations.wait": true, "regionOperations.wait": true, "zoneOperations.wait": true,
	"projects.locations.repositories.dockerImages.list":        true,
	"projects.locations.repositories.dockerImages.get":         true,
	"projects.locations.repositories.packages.list":            true,
	"projects.locations.repositories.packages.get":             true,
	"projects.locations.repositories.packages.delete":          true,
	"projects.locations.repositories.packages.versions.list":   true,
	"projects.locations.repositories.packages.versions.delete": true,
	"projects.locations.repositories.packages.tags.list":       true,
	"projects.locations.repositories.delete":                   true,
}

// splitPath finds the API (when serving all APIs on one URL) and returns
// the path relative to the API's base path plus the version prefix.
func (s *Server) splitPath(r *http.Request, api string) (prefix string, rest []string, detected string) {
	p := r.URL.EscapedPath()
	segs := strings.Split(strings.Trim(p, "/"), "/")
	un := make([]string, len(segs))
	for i, sg := range segs {
		u, err := url.PathUnescape(sg)
		if err != nil {
			u = sg
		}
		un[i] = u
	}
	has := func(pfx ...string) bool {
		if len(un) < len(pfx) {
			return false
		}
		for i, x := range pfx {
			if un[i] != x {
				return false
			}
		}
		return true
	}
	switch {
	case has("compute", "v1"):
		if api == "" || api == Compute {
			return "compute/v1", un[2:], Compute
		}
	case has("sql", "v1beta4"):
		if api == "" || api == SQLAdmin {
			return "sql/v1beta4", un[2:], SQLAdmin
		}
	case has("v1"):
		rest = un[1:]
		if api != "" {
			if api == Compute {
				return "", nil, ""
			}
			return "v1", rest, api
		}
		return "v1", rest, s.detectV1(rest)
	case has("projects") && api == Compute:
		// forgiving: compute endpoint given without /compute/v1/
		return "compute/v1", un, Compute
	}
	return "", nil, ""
}

// detectV1 tells container, sqladmin and Artifact Registry apart on the
// combined listener.
func (s *Server) detectV1(rest []string) string {
	if len(rest) < 3 || rest[0] != "projects" {
		return ""
	}
	switch rest[2] {
	case "instances", "operations", "flags", "tiers":
		return SQLAdmin
	case "zones", "aggregated":
		return Container
	case "locations":
		if len(rest) < 5 {
			return Container
		}
		switch rest[4] {
		case "repositories":
			return ArtifactRegistry
		case "operations":
			if len(rest) >= 6 {
				name := strings.SplitN(rest[5], ":", 2)[0]
				s.mu.Lock()
				_, isAR := s.ops[ArtifactRegistry+"|"+strings.Join(append(append([]string{}, rest[:5]...), name), "/")]
				s.mu.Unlock()
				if isAR {
					return ArtifactRegistry
				}
			}
			return Container
		}
		return Container
	}
	return ""
}

func (s *Server) finish(w http.ResponseWriter, c *call, start time.Time, out any, err error) {
	status := 200
	reason := ""
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	var body []byte
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = errf(500, "backendError", "%v", err)
		}
		ae.fill()
		status, reason = ae.Code, ae.Reason
		body = ae.render(c.api)
	} else {
		if out == nil {
			body = []byte("{}")
		} else {
			b, mErr := json.Marshal(out)
			if mErr != nil {
				status = 500
				body = errf(500, "backendError", "marshal: %v", mErr).fill().render(c.api)
			} else {
				body = b
			}
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	d := time.Since(start)
	s.mu.Lock()
	s.calls = append(s.calls, Call{API: c.api, Method: c.method, HTTPMethod: c.r.Method, Path: c.r.URL.Path,
		Time: start, Duration: d, Status: status, Reason: reason})
	s.mu.Unlock()
	if s.opts.Logf != nil {
		s.opts.Logf("fake gcloud: %s %s %s -> %d %s (%s)", c.api, c.method, c.r.URL.Path, status, reason, d.Round(time.Millisecond))
	}
}

// ---------------------------------------------------------------------------
// routing

type route struct {
	httpMethod string
	segs       []string // literal or {var}; the last may end in ":verb"
	id         string
	h          handler
}

var routes = map[string][]*route{}

// register adds routes: spec is "METHOD path method.id".
func register(api string, specs map[string]handler) {
	for spec, h := range specs {
		f := strings.Fields(spec)
		if len(f) != 3 {
			panic("bad route spec " + spec)
		}
		routes[api] = append(routes[api], &route{httpMethod: f[0], segs: strings.Split(f[1], "/"), id: f[2], h: h})
	}
}

// matchRoute returns the route and its variables; a nil route with non-nil
// vars means the path matched but not the HTTP method.
func matchRoute(rs []*route, method string, path []string) (*route, map[string]string) {
	var pathOnly map[string]string
	for _, rt := range rs {
		vars, ok := rt.match(path)
		if !ok {
			continue
		}
		if rt.httpMethod == method {
			return rt, vars
		}
		pathOnly = vars
	}
	return nil, pathOnly
}

func (rt *route) match(path []string) (map[string]string, bool) {
	if len(path) != len(rt.segs) {
		return nil, false
	}
	vars := map[string]string{}
	for i, ps := range rt.segs {
		seg := path[i]
		if i == len(rt.segs)-1 {
			if j := strings.LastIndex(ps, "}:"); j > 0 {
				verb := ps[j+1:]
				if !strings.HasSuffix(seg, verb) {
					return nil, false
				}
				seg = strings.TrimSuffix(seg, verb)
				ps = ps[:j+1]
			} else if strings.Contains(seg, ":") && !strings.Contains(seg, "@") && !strings.HasPrefix(seg, "sha256:") {
				// a custom verb this route does not have (only image
				// names and digests contain ':')
				return nil, false
			}
		}
		if strings.HasPrefix(ps, "{") && strings.HasSuffix(ps, "}") {
			if seg == "" {
				return nil, false
			}
			vars[ps[1:len(ps)-1]] = seg
			continue
		}
		if ps != seg {
			return nil, false
		}
	}
	return vars, true
}

// ---------------------------------------------------------------------------
// control endpoints for a fake running in another process

// ControlFault is the JSON body of POST /_fake/fault.
type ControlFault struct {
	API     string `json:"api"`
	Method  string `json:"method"`
	Code    int    `json:"code,omitempty"`    // HTTP code: InjectFailure
	Message string `json:"message,omitempty"` // failure message
	Times   int    `json:"times,omitempty"`   // 0 means 1 here; -1 forever
	// LatencyMillis > 0: InjectLatency.
	LatencyMillis int `json:"latencyMillis,omitempty"`
	// OperationFailure: InjectOperationFailure with Message.
	OperationFailure bool `json:"operationFailure,omitempty"`
	// Clear: ClearFaults (applied first).
	Clear bool `json:"clear,omitempty"`
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	writeJSON := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	switch r.URL.Path {
	case "/_fake/inventory":
		inv := s.Inventory()
		if inv == nil {
			inv = []Resource{}
		}
		writeJSON(inv)
	case "/_fake/calls":
		calls := s.Calls()
		if calls == nil {
			calls = []Call{}
		}
		writeJSON(calls)
	case "/_fake/endpoints":
		m := map[string]string{}
		for _, api := range APIs {
			m[EnvVarName(api)] = s.EndpointURL(api)
		}
		writeJSON(m)
	case "/_fake/fault":
		if r.Method != http.MethodPost {
			http.Error(w, "POST a JSON ControlFault", http.StatusMethodNotAllowed)
			return
		}
		var req ControlFault
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if req.Clear {
			s.ClearFaults()
		}
		times := req.Times
		if times == 0 {
			times = 1
		}
		if req.LatencyMillis > 0 {
			s.InjectLatency(req.API, req.Method, time.Duration(req.LatencyMillis)*time.Millisecond)
		}
		if req.Code != 0 {
			s.InjectFailure(req.API, req.Method, req.Code, req.Message, times)
		}
		if req.OperationFailure {
			s.InjectOperationFailure(req.API, req.Method, req.Message, times)
		}
		writeJSON(map[string]bool{"ok": true})
	default:
		http.NotFound(w, r)
	}
}
