// Package fake is a stateful, in-process fake of the AWS APIs that cld's aws
// target uses (ECS, EC2, RDS, ECR, CloudWatch Logs, ELBv2, Auto Scaling, IAM,
// STS, SSM, Secrets Manager). It serves every service on one plain-HTTP
// loopback endpoint so the real aws-sdk-go-v2 clients can be pointed at it
// with BaseEndpoint / AWS_ENDPOINT_URL.
//
// Requests are routed by the service name in the SigV4 credential scope of
// the Authorization header and then by protocol (AWS JSON 1.1 X-Amz-Target,
// awsQuery / ec2Query Action). Responses and errors use each protocol's real
// shapes so the SDK produces its typed outputs and errors.
package fake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
)

// DefaultAccountID is the account every ARN of the fake uses unless
// Options.AccountID says otherwise.
const DefaultAccountID = "123456789012"

// Options configures a Server. Zero durations take the defaults (200ms,
// RDS backing-up 100ms); a negative duration means "immediately".
type Options struct {
	// AccountID used in ARNs and returned by STS. Default 123456789012.
	AccountID string

	// RegistryHost is the host[:port] used in ECR repository URIs and the
	// GetAuthorizationToken proxyEndpoint (RegistryScheme://RegistryHost),
	// e.g. "127.0.0.1:5000" of a real docker registry started by a test. When set, ListImages/DescribeImages
	// also consult that registry's HTTP API (/v2/<name>/tags/list) and
	// BatchDeleteImage/DeleteRepository(force) try to delete manifests
	// there. Empty: <account>.dkr.ecr.<region>.amazonaws.com and no registry.
	RegistryHost string
	// RegistryScheme used to talk to RegistryHost's API (default "http").
	RegistryScheme string
	// RegistryPassword is the password in the ECR authorization token
	// ("AWS:<password>", base64). Default "fake-ecr-password".
	RegistryPassword string

	// Lifecycle durations.
	RDSCreateDuration              time.Duration // creating -> backing-up
	RDSBackupDuration              time.Duration // backing-up -> available
	RDSModifyDuration              time.Duration // modifying -> available
	RDSDeleteDuration              time.Duration // deleting -> gone
	InstanceLaunchDuration         time.Duration // EC2 pending -> running (ASG InService, ECS registration)
	InstanceTerminateDuration      time.Duration // shutting-down -> terminated
	ASGDeleteDuration              time.Duration // ASG "Delete in progress" -> gone
	TaskStartDuration              time.Duration // ECS task PROVISIONING -> RUNNING (or STOPPED when it fails)
	TaskStopDuration               time.Duration // ECS task DEACTIVATING -> STOPPED
	OneOffTaskDuration             time.Duration // RunTask task RUNNING -> exits 0
	TargetHealthyDuration          time.Duration // target initial -> healthy
	TargetDrainDuration            time.Duration // target draining -> gone
	LoadBalancerProvisionDuration  time.Duration // provisioning -> active
	LoadBalancerDeleteDuration     time.Duration // a deleted load balancer's network interfaces keep its security groups in use this long
	CapacityProviderDeleteDuration time.Duration
	SecretDeleteDuration           time.Duration // ForceDeleteWithoutRecovery: gone after

	// Logf, when set, receives one line per request (debugging).
	Logf func(format string, args ...any)
}

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
	if o.AccountID == "" {
		o.AccountID = DefaultAccountID
	}
	if o.RegistryScheme == "" {
		o.RegistryScheme = "http"
	}
	if o.RegistryPassword == "" {
		o.RegistryPassword = "fake-ecr-password"
	}
	const d = 200 * time.Millisecond
	o.RDSCreateDuration = dur(o.RDSCreateDuration, d)
	o.RDSBackupDuration = dur(o.RDSBackupDuration, d/2)
	o.RDSModifyDuration = dur(o.RDSModifyDuration, d)
	o.RDSDeleteDuration = dur(o.RDSDeleteDuration, d)
	o.InstanceLaunchDuration = dur(o.InstanceLaunchDuration, d)
	o.InstanceTerminateDuration = dur(o.InstanceTerminateDuration, d)
	o.ASGDeleteDuration = dur(o.ASGDeleteDuration, d)
	o.TaskStartDuration = dur(o.TaskStartDuration, d)
	o.TaskStopDuration = dur(o.TaskStopDuration, d)
	o.OneOffTaskDuration = dur(o.OneOffTaskDuration, d)
	o.TargetHealthyDuration = dur(o.TargetHealthyDuration, d)
	o.TargetDrainDuration = dur(o.TargetDrainDuration, d)
	o.LoadBalancerProvisionDuration = dur(o.LoadBalancerProvisionDuration, d)
	o.LoadBalancerDeleteDuration = dur(o.LoadBalancerDeleteDuration, d)
	o.CapacityProviderDeleteDuration = dur(o.CapacityProviderDeleteDuration, d)
	o.SecretDeleteDuration = dur(o.SecretDeleteDuration, -1)
}

// Call is one request the fake received.
type Call struct {
	Service   string // SigV4 service name: ecs, ec2, rds, elasticloadbalancing, ...
	Action    string // operation name, e.g. CreateCluster
	Region    string
	Time      time.Time // when the request arrived
	Duration  time.Duration
	ErrorCode string // empty on success
}

// Resource is one live, user-created resource (see Server.Inventory).
type Resource struct {
	Service string            `json:"service"`
	Type    string            `json:"type"`
	Region  string            `json:"region,omitempty"`
	ID      string            `json:"id"` // ARN or AWS id
	Name    string            `json:"name,omitempty"`
	Status  string            `json:"status,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
}

// Server is the fake. It is an http.Handler; Start serves it on loopback.
type Server struct {
	opts Options

	mu         sync.Mutex
	regions    map[string]*regionState
	iam        *iamState
	calls      []Call
	faults     map[opKey]*fault
	latency    map[opKey]time.Duration
	failImages map[string]string // image substring -> reason
	taskFails  []*taskFailure

	hs  *http.Server
	ln  net.Listener
	url string
}

type opKey struct{ service, action string }

type fault struct {
	code, message string
	status        int
	times         int // remaining; -1 = always
}

// New returns a fake with the given options. Call Start to serve it, or use
// it as an http.Handler.
func New(opts Options) *Server {
	opts.setDefaults()
	return &Server{
		opts:       opts,
		regions:    map[string]*regionState{},
		iam:        newIAMState(),
		faults:     map[opKey]*fault{},
		latency:    map[opKey]time.Duration{},
		failImages: map[string]string{},
	}
}

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.opts }

// Start serves the fake on 127.0.0.1 on a random port.
func (s *Server) Start() error { return s.StartOn("127.0.0.1:0") }

// StartOn serves the fake on the given address (use a loopback address).
func (s *Server) StartOn(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return nil
}

// URL is the endpoint to use as BaseEndpoint / AWS_ENDPOINT_URL.
func (s *Server) URL() string { return s.url }

// Close stops serving.
func (s *Server) Close() error {
	if s.hs == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.hs.Shutdown(ctx)
	if err != nil {
		_ = s.hs.Close()
	}
	return err
}

// AWSConfig returns an aws.Config that talks to this fake: static
// credentials, the given region and BaseEndpoint = URL().
func (s *Server) AWSConfig(ctx context.Context, region string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", "")),
		config.WithBaseEndpoint(s.URL()),
	)
	return cfg, err
}

// InjectLatency delays every following call of service/action (action "*"
// for all actions of the service) by d. d = 0 removes it.
func (s *Server) InjectLatency(service, action string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := opKey{canonService(service), action}
	if d <= 0 {
		delete(s.latency, k)
		return
	}
	s.latency[k] = d
}

// InjectFailure makes the next `times` calls of service/action (action "*"
// for all) fail with the given error code and message; times -1 fails
// forever, 0 removes the fault. The HTTP status is the one AWS uses for the
// code (400 unless the SDK model says otherwise; 500 for InternalFailure and
// friends). Note that the SDK retries throttling and 5xx errors itself.
func (s *Server) InjectFailure(service, action, code, message string, times int) {
	s.InjectFailureStatus(service, action, code, message, 0, times)
}

// InjectFailureStatus is InjectFailure with an explicit HTTP status.
func (s *Server) InjectFailureStatus(service, action, code, message string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := opKey{canonService(service), action}
	if times == 0 {
		delete(s.faults, k)
		return
	}
	s.faults[k] = &fault{code: code, message: message, status: status, times: times}
}

// ClearFaults removes all injected failures and latencies.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[opKey]*fault{}
	s.latency = map[opKey]time.Duration{}
}

// Calls returns the requests received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls of one service/action.
func (s *Server) CallsTo(service, action string) []Call {
	var out []Call
	service = canonService(service)
	for _, c := range s.Calls() {
		if c.Service == service && (action == "" || action == "*" || c.Action == action) {
			out = append(out, c)
		}
	}
	return out
}

// Inventory lists every live user-created resource in every region (see
// Resource), sorted by service, type and id. Defaults (default VPC, its
// subnets and security group, public SSM parameters) are not listed.
func (s *Server) Inventory() []Resource {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(time.Now())
	var out []Resource
	names := make([]string, 0, len(s.regions))
	for n := range s.regions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, s.regions[n].inventory(s)...)
	}
	out = append(out, s.iam.inventory()...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.ID < b.ID
	})
	return out
}

var canonNames = map[string]string{
	"elbv2":                  "elasticloadbalancing",
	"elasticloadbalancingv2": "elasticloadbalancing",
	"cloudwatchlogs":         "logs",
	"autoscaling":            "autoscaling",
	"secrets":                "secretsmanager",
}

func canonService(s string) string {
	s = strings.ToLower(s)
	if c, ok := canonNames[s]; ok {
		return c
	}
	return s
}

// ---------------------------------------------------------------------------
// routing

type protocol int

const (
	protoJSON protocol = iota
	protoQuery
	protoEC2
)

type svcInfo struct {
	proto  protocol
	target string // X-Amz-Target prefix (JSON)
	xmlns  string // response namespace (query)
	ver    string // API Version (query)
}

var services = map[string]*svcInfo{
	"ecs":                  {proto: protoJSON, target: "AmazonEC2ContainerServiceV20141113"},
	"ecr":                  {proto: protoJSON, target: "AmazonEC2ContainerRegistry_V20150921"},
	"ssm":                  {proto: protoJSON, target: "AmazonSSM"},
	"secretsmanager":       {proto: protoJSON, target: "secretsmanager"},
	"logs":                 {proto: protoJSON, target: "Logs_20140328"},
	"ec2":                  {proto: protoEC2, xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/", ver: "2016-11-15"},
	"rds":                  {proto: protoQuery, xmlns: "http://rds.amazonaws.com/doc/2014-10-31/", ver: "2014-10-31"},
	"elasticloadbalancing": {proto: protoQuery, xmlns: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/", ver: "2015-12-01"},
	"autoscaling":          {proto: protoQuery, xmlns: "http://autoscaling.amazonaws.com/doc/2011-01-01/", ver: "2011-01-01"},
	"iam":                  {proto: protoQuery, xmlns: "https://iam.amazonaws.com/doc/2010-05-08/", ver: "2010-05-08"},
	"sts":                  {proto: protoQuery, xmlns: "https://sts.amazonaws.com/doc/2011-06-15/", ver: "2011-06-15"},
}

type handlerFunc func(s *Server, c *reqCtx) (any, error)

var handlers = map[string]map[string]handlerFunc{}

func register(service string, ops map[string]handlerFunc) {
	m := handlers[service]
	if m == nil {
		m = map[string]handlerFunc{}
		handlers[service] = m
	}
	for k, v := range ops {
		m[k] = v
	}
}

// reqCtx is one request being handled.
type reqCtx struct {
	s         *Server
	r         *http.Request
	service   string
	action    string
	region    string
	info      *svcInfo
	body      []byte
	form      url.Values
	now       time.Time
	requestID string
	rs        *regionState
	accessKey string
	extra     any // set by pre-handlers

	proto       protocol // protocol of this request (query services may also get JSON 1.0)
	jsonCT      string   // JSON content type to answer with
	queryCompat bool     // awsQueryCompatible JSON request to a query service
}

func (c *reqCtx) decode(in smithy.Serializable) error {
	var err error
	switch c.proto {
	case protoJSON:
		err = decodeJSONInput(c.body, in)
		if err != nil {
			return errorf("SerializationException", "%v", err)
		}
	default:
		err = decodeQueryInput(c.form, in)
		if err != nil {
			return errorf("MalformedQueryString", "%v", err)
		}
	}
	return nil
}

func (c *reqCtx) account() string { return c.s.opts.AccountID }

// arn builds arn:aws:<svc>:<region>:<account>:<resource>.
func (c *reqCtx) arn(svc, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", svc, c.region, c.s.opts.AccountID, resource)
}

const credRe = "Credential="

// parseScope extracts access key, region and service from a SigV4
// Authorization header.
func parseScope(auth string) (akid, region, service string) {
	i := strings.Index(auth, credRe)
	if i < 0 {
		return
	}
	rest := auth[i+len(credRe):]
	if j := strings.IndexAny(rest, ", "); j >= 0 {
		rest = rest[:j]
	}
	parts := strings.Split(rest, "/")
	if len(parts) >= 5 {
		return parts[0], parts[2], parts[3]
	}
	return
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.serveControl(w, r)
		return
	}
	start := time.Now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	_ = r.Body.Close()

	akid, region, service := parseScope(r.Header.Get("Authorization"))
	service = canonService(service)
	target := r.Header.Get("X-Amz-Target")
	var form url.Values
	if service == "" {
		// unsigned request: guess from the target prefix or API version
		if target != "" {
			pfx, _, _ := strings.Cut(target, ".")
			for n, inf := range services {
				if inf.target == pfx {
					service = n
				}
			}
		} else {
			form, _ = url.ParseQuery(string(body))
			for n, inf := range services {
				if inf.ver != "" && inf.ver == form.Get("Version") {
					service = n
				}
			}
		}
	}
	if region == "" {
		region = "us-east-1"
	}
	info := services[service]
	c := &reqCtx{s: s, r: r, service: service, region: region, info: info, body: body, requestID: newUUID(), accessKey: akid, jsonCT: "application/x-amz-json-1.1"}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-amz-json-") {
		c.jsonCT = ct
	}
	if info == nil {
		c.info = &svcInfo{proto: protoJSON}
		c.proto = protoJSON
		s.writeError(w, c, errorf("UnrecognizedClientException", "The fake does not implement service %q.", service))
		s.record(c, start, "UnrecognizedClientException")
		return
	}
	c.proto = info.proto
	if info.proto == protoQuery && target != "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-") {
		// a query service spoken to in AWS JSON (awsQueryCompatible): answer in JSON
		c.proto, c.queryCompat = protoJSON, true
	}
	switch c.proto {
	case protoJSON:
		pfx, action, _ := strings.Cut(target, ".")
		c.action = action
		if pfx != info.target && !c.queryCompat {
			s.writeError(w, c, errorf("UnknownOperationException", "unknown target %q", target))
			s.record(c, start, "UnknownOperationException")
			return
		}
	default:
		if form == nil {
			form, _ = url.ParseQuery(string(body))
			if r.URL.RawQuery != "" {
				for k, v := range r.URL.Query() {
					form[k] = v
				}
			}
		}
		c.form = form
		c.action = form.Get("Action")
		if v := form.Get("Version"); v != "" && v != info.ver {
			s.writeError(w, c, errorf("InvalidAction", "The action %s is not valid for this web service (API version %s; the fake speaks %s).", c.action, v, info.ver))
			s.record(c, start, "InvalidAction")
			return
		}
	}

	// injected latency and failure
	s.mu.Lock()
	lat := s.latency[opKey{service, c.action}] + s.latency[opKey{service, "*"}]
	var inj *apiError
	for _, k := range []opKey{{service, c.action}, {service, "*"}} {
		if f := s.faults[k]; f != nil {
			inj = &apiError{Code: f.code, Message: f.message, Status: f.status}
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
		select {
		case <-time.After(lat):
		case <-r.Context().Done():
		}
	}
	if inj != nil {
		if inj.Message == "" {
			inj.Message = "injected failure"
		}
		s.writeError(w, c, inj)
		s.record(c, start, inj.Code)
		return
	}

	h := handlers[service][c.action]
	if h == nil {
		var e *apiError
		if c.proto == protoJSON {
			e = errorf("UnknownOperationException", "The fake does not implement %s.%s", service, c.action)
		} else {
			e = errorf("InvalidAction", "The action %s is not valid for this web service (not implemented by the fake).", c.action)
		}
		s.writeError(w, c, e)
		s.record(c, start, e.Code)
		return
	}

	// Some handlers need to call out (ECR -> registry) without the lock.
	if pre := preHandlers[service+"."+c.action]; pre != nil {
		pre(s, c)
	}

	s.mu.Lock()
	c.now = time.Now()
	s.advance(c.now)
	c.rs = s.region(region)
	out, err := h(s, c)
	s.mu.Unlock()

	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{Code: "InternalFailure", Message: err.Error(), Status: 500}
		}
		s.writeError(w, c, ae)
		s.record(c, start, ae.Code)
		return
	}
	s.writeOutput(w, c, out)
	s.record(c, start, "")
}

// preHandlers run before the state lock is taken (e.g. to query a registry).
var preHandlers = map[string]func(s *Server, c *reqCtx){}

func (s *Server) record(c *reqCtx, start time.Time, code string) {
	s.mu.Lock()
	s.calls = append(s.calls, Call{Service: c.service, Action: c.action, Region: c.region, Time: start, Duration: time.Since(start), ErrorCode: code})
	s.mu.Unlock()
	if s.opts.Logf != nil {
		s.opts.Logf("fakeaws: %s %s.%s %s %s", c.region, c.service, c.action, time.Since(start).Round(time.Millisecond), code)
	}
}

func (s *Server) writeOutput(w http.ResponseWriter, c *reqCtx, out any) {
	h := w.Header()
	h.Set("X-Amzn-Requestid", c.requestID)
	switch c.proto {
	case protoJSON:
		h.Set("Content-Type", c.jsonCT)
		var b []byte
		if ser, ok := out.(smithy.Serializable); ok && out != nil {
			if n := toTree(ser); n != nil {
				b = renderJSON(n)
			}
		}
		if b == nil {
			b = []byte("{}")
		}
		w.WriteHeader(200)
		_, _ = w.Write(b)
	case protoQuery:
		h.Set("Content-Type", "text/xml")
		var ser smithy.Serializable
		if out != nil {
			ser, _ = out.(smithy.Serializable)
		}
		w.WriteHeader(200)
		_, _ = w.Write(renderQueryResponse(c.action, c.info.xmlns, c.requestID, ser))
	case protoEC2:
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(200)
		_, _ = w.Write(renderEC2Response(c.action, c.info.xmlns, c.requestID, out))
	}
}

// ---------------------------------------------------------------------------
// control endpoints for a fake running in another process

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	writeJSONResp := func(v any) {
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
		writeJSONResp(inv)
	case "/_fake/calls":
		calls := s.Calls()
		if calls == nil {
			calls = []Call{}
		}
		writeJSONResp(calls)
	case "/_fake/fault":
		if r.Method != http.MethodPost {
			http.Error(w, "POST a JSON fault", http.StatusMethodNotAllowed)
			return
		}
		var req ControlFault
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if req.LatencyMillis > 0 {
			s.InjectLatency(req.Service, req.Action, time.Duration(req.LatencyMillis)*time.Millisecond)
		}
		if req.Code != "" {
			s.InjectFailureStatus(req.Service, req.Action, req.Code, req.Message, req.Status, req.Times)
		}
		if req.FailImage != "" {
			s.FailImage(req.FailImage, req.Reason)
		}
		if req.Clear {
			s.ClearFaults()
		}
		writeJSONResp(map[string]bool{"ok": true})
	default:
		http.NotFound(w, r)
	}
}

// ControlFault is the JSON body of POST /_fake/fault.
type ControlFault struct {
	Service       string `json:"service"`
	Action        string `json:"action"`
	Code          string `json:"code,omitempty"`
	Message       string `json:"message,omitempty"`
	Status        int    `json:"status,omitempty"`
	Times         int    `json:"times,omitempty"`
	LatencyMillis int    `json:"latencyMillis,omitempty"`
	FailImage     string `json:"failImage,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Clear         bool   `json:"clear,omitempty"`
}

// ---------------------------------------------------------------------------
// state

// regionState is everything regional.
type regionState struct {
	name string
	ec2  *ec2State
	rds  *rdsState
	ecs  *ecsState
	ecr  *ecrState
	logs *logsState
	elb  *elbState
	asg  *asgState
	ssm  *ssmState
	sm   *smState
}

func (s *Server) region(name string) *regionState {
	rs := s.regions[name]
	if rs == nil {
		rs = &regionState{name: name}
		rs.ec2 = newEC2State(s, name)
		rs.rds = &rdsState{instances: map[string]*dbInstance{}, subnetGroups: map[string]*dbSubnetGroup{}}
		rs.ecs = newECSState()
		rs.ecr = &ecrState{repos: map[string]*ecrRepo{}}
		rs.logs = &logsState{groups: map[string]*logGroup{}}
		rs.elb = &elbState{lbs: map[string]*loadBalancer{}, tgs: map[string]*targetGroup{}, listeners: map[string]*listener{}, deleted: map[string]*loadBalancer{}}
		rs.asg = &asgState{groups: map[string]*asGroup{}}
		rs.ssm = &ssmState{params: map[string]*ssmParam{}}
		rs.sm = &smState{secrets: map[string]*secret{}}
		s.regions[name] = rs
	}
	return rs
}

func (rs *regionState) inventory(s *Server) []Resource {
	var out []Resource
	add := func(rr []Resource) {
		for _, r := range rr {
			r.Region = rs.name
			out = append(out, r)
		}
	}
	add(rs.ec2.inventory())
	add(rs.rds.inventory())
	add(rs.ecs.inventory())
	add(rs.ecr.inventory())
	add(rs.logs.inventory())
	add(rs.elb.inventory())
	add(rs.asg.inventory())
	add(rs.ssm.inventory())
	add(rs.sm.inventory())
	return out
}

// advance moves every time-based lifecycle forward to now. Called with s.mu
// held at the start of every request and by Inventory.
func (s *Server) advance(now time.Time) {
	for pass := 0; pass < 3; pass++ {
		for _, rs := range s.regions {
			s.advanceASG(rs, now)
			s.advanceEC2(rs, now)
			s.advanceECS(rs, now)
			s.advanceELB(rs, now)
			s.advanceRDS(rs, now)
			s.advanceSecrets(rs, now)
		}
	}
}

// ---------------------------------------------------------------------------
// helpers

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

func randFrom(alphabet string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func copyTags(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func i32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func boolv(p *bool) bool { return p != nil && *p }

func ptr[T any](v T) *T { return &v }
