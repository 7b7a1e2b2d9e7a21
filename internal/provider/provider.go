// Package provider defines what a target (local Docker, AWS, Google Cloud,
// Kubernetes) implements, and the element model the engine drives.
//
// A target turns definitions into a plan of Elements. The engine stores each
// element's intent before asking a Handler to create it, observes before it
// creates (so a crash mid-create is adopted, not repeated), and deletes in
// reverse dependency order. Providers never touch the state store.
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/cloudark/cld/internal/spec"
)

// Ownership labels every element carries in its platform.
const (
	LabelManagedBy = "managed-by"
	ManagedByValue = "cld"
	LabelEnv       = "cld-env"
	LabelApp       = "cld-app"
	LabelContainer = "cld-container"
	LabelElement   = "cld-element"
	// LabelInstall names the installation (state.Layout.InstallID) that
	// made an object: sweeps and `cld doctor` leave other installations'.
	LabelInstall = "cld-install"
)

// Element is one platform element cld owns: a network, a database, a cluster,
// a security group, an image, an app container...
type Element struct {
	// Key is unique within the owner (environment, app or container), e.g.
	// "network" or "database/mysql". It is what Deps refer to.
	Key string `json:"key"`
	// Kind selects the Handler, e.g. "docker-network".
	Kind string `json:"kind"`
	// Target is the provider that owns the kind: local, aws, gcloud, kubernetes.
	Target string `json:"target"`
	// Name is the deterministic platform name, e.g. "dev-1732540000-mysql".
	Name string `json:"name"`
	// Deps lists keys of elements (same owner) that must be available first.
	Deps []string `json:"deps,omitempty"`
	// Spec is the kind-specific desired state, decoded by its handler.
	Spec json.RawMessage `json:"spec,omitempty"`
	// Labels are the ownership labels/tags to put on the platform object.
	Labels map[string]string `json:"labels,omitempty"`
	// Inputs holds secrets decided at plan time (a generated password), stored
	// with the intent so a resumed create uses the same value.
	Inputs map[string]string `json:"-"`
	// BindType makes the element's outputs bindable as $CLOUDARK_<BindType>_<Attr>.
	BindType string `json:"bind_type,omitempty"`

	// Observed state, written by the engine from Observations.
	Ref     string            `json:"ref,omitempty"` // platform-assigned ID (container ID, sg-..., ARN)
	Outputs map[string]string `json:"outputs,omitempty"`
	Secrets map[string]string `json:"-"` // secret outputs, kept apart and masked
}

// DecodeSpec decodes the element's spec into v.
func (e *Element) DecodeSpec(v any) error {
	if len(e.Spec) == 0 {
		return nil
	}
	if err := json.Unmarshal(e.Spec, v); err != nil {
		return Permanent(fmt.Errorf("element %s: bad spec: %w", e.Key, err))
	}
	return nil
}

// MustSpec encodes a kind-specific spec for an Element.
func MustSpec(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // specs are plain structs; failing here is a programming error
	}
	return b
}

// Observation is what a handler saw of an element on its platform.
type Observation struct {
	Exists bool
	// Ready means usable: a database accepts connections, an app answers.
	Ready bool
	// Incomplete means a create was interrupted half-way (a container created
	// but never started): the engine calls Create again to finish it.
	Incomplete bool
	// Failed is a terminal failure reason (container exited, instance failed).
	Failed  string
	Ref     string
	Outputs map[string]string
	Secrets map[string]string
	// Progress is a short human status while not ready ("creating", "backing-up").
	Progress string
	// Labels are the labels the platform object carries, non-nil when the
	// target reads them. The engine adopts an object found under the
	// element's name only if they show it is this element's (see Foreign).
	Labels map[string]string
}

// Foreign says why an object found under an element's name is not that
// element's ("" when it is, or when nothing tells): it carries no
// managed-by=cld, or another element's or another installation's identity.
// Such an object was made by someone else who chose the same name; cld
// neither adopts nor deletes it.
func Foreign(found, want map[string]string) string {
	if found == nil {
		return ""
	}
	if found[LabelManagedBy] != ManagedByValue {
		return "it was not made by cld"
	}
	for _, k := range []string{LabelInstall, LabelElement} {
		if f, w := found[k], want[k]; f != "" && w != "" && f != w {
			return fmt.Sprintf("it belongs to %s=%s", k, f)
		}
	}
	return ""
}

// Request is what a handler gets for one element.
type Request struct {
	Element *Element
	// Deps are the available elements this one depends on, by key.
	Deps map[string]*Element
	// Progress reports a line of progress to the user (build output, status).
	Progress func(msg string)
}

// Say reports progress if anyone listens.
func (r *Request) Say(format string, args ...any) {
	if r.Progress != nil {
		r.Progress(fmt.Sprintf(format, args...))
	}
}

// Handler manages one kind of element. Create must be idempotent with respect
// to Observe: the engine only creates what Observe says does not exist, and
// Delete of an element that is gone returns nil.
type Handler interface {
	Observe(ctx context.Context, req *Request) (Observation, error)
	Create(ctx context.Context, req *Request) error
	Delete(ctx context.Context, req *Request) error
}

// Waiter is optional: a handler that knows how long its element takes to
// become ready (a database: minutes) says so; the engine polls Observe until then.
type Waiter interface {
	ReadyTimeout(el *Element) time.Duration
}

// Borrowed is optional: a handler of elements cld may use without having
// made them (an existing Kubernetes cluster, a shared namespace). Deleting
// such an element forgets it.
type Borrowed interface {
	Borrowed(el *Element) bool
}

// Target is a named implementation of some roles, with handlers for its kinds.
type Target interface {
	Name() string
	Handler(kind string) (Handler, bool)
}

// EnvPlan is the input for planning an environment.
type EnvPlan struct {
	Env  string // environment name
	Base string // "<env>-<timestamp>": the prefix of every element name
	Spec *spec.Environment
	// ClientEnv holds the user's environment at `env create` time for the
	// variables a target honours (KUBECONFIG, AWS_PROFILE, ...): the server
	// may have been started from another shell.
	ClientEnv map[string]string
	// Folder is the environment's artifact folder (kubeconfigs, keys).
	Folder string
}

// ClusterPlanner is a target that can make an environment's cluster.
type ClusterPlanner interface {
	PlanCluster(p EnvPlan) ([]*Element, error)
}

// DatabasePlanner is a target that can make an environment's resources.
// The cluster's elements (if this target also plans the cluster) are passed so
// the database can depend on them (a security-group rule on the cluster group).
type DatabasePlanner interface {
	PlanResources(p EnvPlan, resources []spec.Resource, cluster []*Element) ([]*Element, error)
}

// ContainerPlan is the input for building and storing a container image.
type ContainerPlan struct {
	Name       string // container name
	Stamp      string // timestamp used in the tag
	ContextTar string // path of the build context tarball in the container's folder
	Region     string
	// ClientEnv as for EnvPlan, at `container create` time: where a cloud
	// registry is (region, project) follows the user's shell.
	ClientEnv map[string]string
}

// RegistryPlanner is a target that can build and store container images.
type RegistryPlanner interface {
	PlanContainer(p ContainerPlan) ([]*Element, error)
}

// AppPlan is the input for deploying an app.
type AppPlan struct {
	App     string
	Base    string // "<app>-<timestamp>"
	Env     string
	Spec    *spec.App
	Bound   *BoundApp  // the app definition with $CLOUDARK values resolved
	Cluster []*Element // the environment's elements (network, cluster...), available
	EnvSpec *spec.Environment
	// ClientEnv as for EnvPlan, at `app deploy` time.
	ClientEnv map[string]string
}

// BoundApp is an app definition after binding: plain values plus which of them are secret.
type BoundApp struct {
	Env  []BoundVar       `json:"env,omitempty"`
	Docs []map[string]any `json:"docs,omitempty"` // Kubernetes documents, resolved
	// DocSecrets lists, per document, the paths of fields that received a
	// secret (document[0].spec.containers[0].env[1].value).
	DocSecrets [][]string        `json:"-"`
	ECS        map[string]any    `json:"ecs,omitempty"`
	Secrets    map[string]string `json:"-"` // name -> value of every bound secret
}

// BoundVar is an environment variable after binding.
type BoundVar struct {
	Name   string `json:"name"`
	Value  string `json:"-"`
	Secret bool   `json:"secret,omitempty"`
}

// RuntimePlanner is a target that can deploy apps into its clusters.
type RuntimePlanner interface {
	PlanApp(p AppPlan) ([]*Element, error)
}

// LogOptions select what `app logs` returns.
type LogOptions struct {
	Follow     bool
	Tail       int // lines per container; 0 means all
	Since      time.Time
	Deployment bool // include deployment logs
	Runtime    bool // include runtime logs
}

// AppRef names a deployed app and its elements, for logs and status.
type AppRef struct {
	App      string
	Env      string
	Created  time.Time
	Elements []*Element
}

// Logger is optional: a target that can show an app's logs.
type Logger interface {
	Logs(ctx context.Context, app AppRef, opts LogOptions, w io.Writer) error
}

// Sweeper is optional: after deleting rows, remove anything still carrying the
// owner's labels (a crash between create and the row update leaves such strays).
type Sweeper interface {
	Sweep(ctx context.Context, labels map[string]string) ([]string, error)
}

// Inventory is optional: list every element on the platform carrying
// managed-by=cld, for `cld doctor` and leak tests.
type Inventory interface {
	Inventory(ctx context.Context) ([]Found, error)
}

// Found is a platform object found by its labels.
type Found struct {
	Kind   string
	Name   string
	Labels map[string]string
}

// Classified errors, so retry logic never needs an SDK's error types.
var (
	ErrNotFound  = errors.New("not found")
	ErrPermanent = errors.New("permanent")
)

type permanent struct{ err error }

func (p permanent) Error() string        { return p.err.Error() }
func (p permanent) Unwrap() error        { return p.err }
func (p permanent) Is(target error) bool { return target == ErrPermanent }

// Permanent marks an error that retrying will not fix (bad input, quota, auth).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// Updater is optional: a handler that can change an element in place (a
// rolling update of a service) instead of replacing it on redeploy. The new
// element keeps the old one's Name.
type Updater interface {
	Update(ctx context.Context, req *Request, old *Element) error
}

// LineWriter writes whole lines to a log stream from several goroutines
// (deployment and runtime logs followed together), flushing each line so
// `--follow` shows it at once.
type LineWriter struct {
	mu sync.Mutex
	W  io.Writer
}

// Line writes s and a newline.
func (l *LineWriter) Line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.W, s+"\n")
	if f, ok := l.W.(interface{ Flush() }); ok {
		f.Flush()
	}
}
