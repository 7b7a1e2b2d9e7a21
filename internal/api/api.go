// Package api holds the types of cld's REST API, shared by server and client.
package api

import "time"

// Version is the cld version, set at build time with -ldflags.
var Version = "dev"

// Error is the body of every non-2xx answer.
type Error struct {
	Error string `json:"error"`
}

// Definition carries a definition file as the user gave it.
type Definition struct {
	Name   string `json:"name"`
	Env    string `json:"env,omitempty"`
	File   string `json:"file"`
	Source []byte `json:"source"`
	// ClientEnv carries the variables of the user's shell that targets honour
	// (KUBECONFIG, AWS_PROFILE, CLOUDSDK_...): the server may run elsewhere.
	ClientEnv map[string]string `json:"client_env,omitempty"`
}

// Object is an environment, app or container as listed.
type Object struct {
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Env       string    `json:"env,omitempty"`
	Target    string    `json:"target,omitempty"`
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	URL       string    `json:"url,omitempty"`
	Image     string    `json:"image,omitempty"`
	Base      string    `json:"base,omitempty"`
	File      string    `json:"file,omitempty"`
	Folder    string    `json:"folder,omitempty"`
	Operation string    `json:"operation,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Element is a platform element as shown (secrets never included).
type Element struct {
	Owner   string            `json:"owner"`
	Key     string            `json:"key"`
	Kind    string            `json:"kind"`
	Target  string            `json:"target"`
	Name    string            `json:"name"`
	Status  string            `json:"status"`
	Error   string            `json:"error,omitempty"`
	Ref     string            `json:"ref,omitempty"`
	Outputs map[string]string `json:"outputs,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// Detail is one object with its elements (and, for environments, apps).
type Detail struct {
	Object
	Elements []Element `json:"elements"`
	Apps     []Object  `json:"apps,omitempty"`
}

// Resource is a bindable resource of an environment with its attributes.
type Resource struct {
	Env        string            `json:"env"`
	Type       string            `json:"type"`
	Name       string            `json:"name"`
	Status     string            `json:"status"`
	Attributes map[string]string `json:"attributes"`
	Secret     []string          `json:"secret_attributes,omitempty"`
}

// Operation is one change and how it went.
type Operation struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Owner     string     `json:"owner"`
	Env       string     `json:"env,omitempty"`
	Status    string     `json:"status"`
	Error     string     `json:"error,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

// Event is one progress line.
type Event struct {
	Seq     int       `json:"seq"`
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// Progress answers a long poll on an operation.
type Progress struct {
	Operation Operation `json:"operation"`
	Events    []Event   `json:"events"`
}

// Accepted answers a request that started an operation.
type Accepted struct {
	Operation Operation `json:"operation"`
	Object    Object    `json:"object"`
}

// Found is a platform object found by cld's labels.
type Found struct {
	Target string            `json:"target"`
	Kind   string            `json:"kind"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Doctor reports what the platform and the state disagree on.
type Doctor struct {
	Strays []Found   `json:"strays"`           // managed-by=cld objects no element row owns
	Drift  []Element `json:"drift"`            // rows whose platform object is gone
	Errors []string  `json:"errors,omitempty"` // targets that could not be checked
}

// ServerInfo answers /v1/version.
type ServerInfo struct {
	Version string   `json:"version"`
	PID     int      `json:"pid"`
	Running int      `json:"running_operations"`
	Targets []string `json:"targets"`
}
