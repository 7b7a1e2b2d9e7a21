// Package gcloud is the Google Cloud target: a VPC network and firewall rule
// per environment, a GKE cluster on it, Cloud SQL instances (MySQL or
// PostgreSQL, with their database, user and authorized networks), Artifact
// Registry repositories and images, and apps on GKE through the Kubernetes
// runtime (package kube).
//
// It talks to Google with the official REST clients
// (google.golang.org/api/{compute,container,sqladmin,artifactregistry}/v1),
// authenticated by the application default credentials; every endpoint can
// be overridden with gcloud's CLOUDSDK_API_ENDPOINT_OVERRIDES_<API>
// variables. No gcloud CLI is needed.
//
// Every element is small and idempotent: Observe finds it by name, Create
// adopts what exists (409), Delete of what is gone returns nil, and long
// operations are followed through Observe, never waited on in Create.
package gcloud

import (
	"context"
	"io"
	"sync"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/provider/kube"
)

// TargetName is the target's name in definitions and element rows.
const TargetName = "gcloud"

// Element kinds of this target (besides the kube-* kinds of the runtime).
const (
	KindNetwork          = "gcloud-network"
	KindFirewall         = "gcloud-firewall"
	KindCluster          = "gke-cluster"
	KindKubeconfig       = "gke-kubeconfig"
	KindSQLInstance      = "cloudsql-instance"
	KindSQLDatabase      = "cloudsql-database"
	KindSQLUser          = "cloudsql-user"
	KindSQLAuthorization = "cloudsql-authorization"
	KindRepository       = "artifact-repository"
	KindImage            = "artifact-image"
)

// Target is Google Cloud.
type Target struct {
	kube *kube.Target

	mu        sync.Mutex
	refreshMu sync.Mutex
	clients   map[string]*apiClients
	seen      map[string]Settings // every Settings used by this process: where Sweep looks
}

var (
	_ provider.Target          = (*Target)(nil)
	_ provider.ClusterPlanner  = (*Target)(nil)
	_ provider.DatabasePlanner = (*Target)(nil)
	_ provider.RegistryPlanner = (*Target)(nil)
	_ provider.RuntimePlanner  = (*Target)(nil)
	_ provider.Logger          = (*Target)(nil)
	_ provider.Sweeper         = (*Target)(nil)
	_ provider.Inventory       = (*Target)(nil)
)

// New returns the target. Nothing connects until the first call.
func New() *Target {
	k := kube.NewNamed(TargetName)
	k.WaitLoadBalancer = true // GKE gives LoadBalancer Services an address: the app's URL
	return &Target{kube: k, clients: map[string]*apiClients{}, seen: map[string]Settings{}}
}

// Name is "gcloud".
func (t *Target) Name() string { return TargetName }

// Handler returns the handler of a kind: this target's, or the Kubernetes
// runtime's (kube-cluster, kube-namespace, kube-secret, kube-workload) with
// the GKE access token kept fresh.
func (t *Target) Handler(kind string) (provider.Handler, bool) {
	switch kind {
	case KindNetwork:
		return networkHandler{t}, true
	case KindFirewall:
		return firewallHandler{t}, true
	case KindCluster:
		return clusterHandler{t}, true
	case KindKubeconfig:
		return kubeconfigHandler{t}, true
	case KindSQLInstance:
		return sqlInstanceHandler{t}, true
	case KindSQLDatabase:
		return sqlDatabaseHandler{t}, true
	case KindSQLUser:
		return sqlUserHandler{t}, true
	case KindSQLAuthorization:
		return sqlAuthorizationHandler{t}, true
	case KindRepository:
		return repositoryHandler{t}, true
	case KindImage:
		return imageHandler{t}, true
	}
	if h, ok := t.kube.Handler(kind); ok {
		return t.wrapKube(h), true
	}
	return nil, false
}

// remember keeps the settings an element used, so Sweep and Inventory know
// which projects (and endpoints) cld works in.
func (t *Target) remember(s Settings) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen[s.key()] = s
}

func (t *Target) known() []Settings {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Settings, 0, len(t.seen))
	for _, s := range t.seen {
		out = append(out, s)
	}
	return out
}

// Logs are the Kubernetes runtime's: pod events and conditions, then every
// container's output.
func (t *Target) Logs(ctx context.Context, app provider.AppRef, opts provider.LogOptions, w io.Writer) error {
	for _, el := range app.Elements {
		if err := t.refreshFor(ctx, el); err != nil {
			return err
		}
	}
	return t.kube.Logs(ctx, app, opts, w)
}
