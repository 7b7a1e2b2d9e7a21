// Package state keeps cld's picture of the world: environments, apps and
// containers (objects), the platform elements each owns, and the history of
// operations with their progress events. The embedded store is SQLite.
package state

import (
	"context"
	"errors"
	"time"

	"github.com/cloudark/cld/internal/provider"
)

// Object kinds.
const (
	KindEnv       = "env"
	KindApp       = "app"
	KindContainer = "container"
)

// Statuses of objects and elements.
const (
	StatusPending   = "pending"
	StatusCreating  = "creating"
	StatusAvailable = "available"
	StatusUpdating  = "updating"
	StatusDeleting  = "deleting"
	StatusFailed    = "failed"
	StatusDeleted   = "deleted"
)

// Operation statuses.
const (
	OpRunning    = "running"
	OpSucceeded  = "succeeded"
	OpFailed     = "failed"
	OpRolledBack = "rolled-back"
)

var (
	// ErrNotFound is returned when an object, element or operation is absent.
	ErrNotFound = errors.New("not found")
	// ErrExists is returned when creating an object whose name is taken.
	ErrExists = errors.New("already exists")
)

// Object is an environment, app or container.
type Object struct {
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Env       string    `json:"env,omitempty"`    // apps: the environment they run in
	Base      string    `json:"base"`             // "<name>-<timestamp>": prefix of element names
	Target    string    `json:"target,omitempty"` // local, aws, gcloud, kubernetes
	File      string    `json:"file,omitempty"`   // definition file as given by the user
	Source    []byte    `json:"-"`                // definition YAML as given
	Spec      []byte    `json:"-"`                // validated spec, JSON
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	URL       string    `json:"url,omitempty"`   // apps
	Image     string    `json:"image,omitempty"` // containers: the reference to use in app YAML
	Op        string    `json:"operation,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Element is a provider element with its state in the store.
type Element struct {
	provider.Element
	Owner     string    `json:"owner"` // "env/dev", "app/web", "container/greet"
	Seq       int       `json:"seq"`   // plan order
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Operation is one change: env create, app deploy, container delete...
type Operation struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"` // e.g. "env create"
	Owner     string     `json:"owner"`
	Env       string     `json:"env,omitempty"` // the environment the change touches
	Status    string     `json:"status"`
	Error     string     `json:"error,omitempty"`
	Request   []byte     `json:"-"` // what to do on resume
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

// Event is a line of an operation's progress.
type Event struct {
	Seq     int       `json:"seq"`
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// Owner names an object as elements and operations refer to it.
func Owner(kind, name string) string { return kind + "/" + name }

// Store is what the engine and server need of the state.
type Store interface {
	CreateObject(ctx context.Context, o *Object) error
	GetObject(ctx context.Context, kind, name string) (*Object, error)
	// ListObjects lists objects without their Source and Spec (lists show names and statuses).
	ListObjects(ctx context.Context, kind, env string) ([]*Object, error)
	UpdateObject(ctx context.Context, kind, name string, fn func(o *Object)) error
	DeleteObject(ctx context.Context, kind, name string) error

	PutElements(ctx context.Context, owner string, els []*Element) error
	Elements(ctx context.Context, owner string) ([]*Element, error)
	EnvElements(ctx context.Context, env string) ([]*Element, error)
	UpdateElement(ctx context.Context, el *Element) error
	DeleteElement(ctx context.Context, owner, key string) error
	MoveElements(ctx context.Context, from, to string) error

	CreateOperation(ctx context.Context, op *Operation) error
	FinishOperation(ctx context.Context, id, status, errMsg string) error
	GetOperation(ctx context.Context, id string) (*Operation, error)
	Operations(ctx context.Context, env string) ([]*Operation, error)
	RunningOperations(ctx context.Context) ([]*Operation, error)
	AddEvent(ctx context.Context, opID, msg string) error
	Events(ctx context.Context, opID string, after int) ([]Event, error)

	Close() error
}
