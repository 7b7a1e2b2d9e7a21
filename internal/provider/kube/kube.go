// Package kube is the Kubernetes runtime: it deploys apps to any cluster a
// kubeconfig context reaches (and, through the gcloud target, to GKE). An
// app gets its own namespace, its workloads (a Deployment and Service made
// from the `app:` format, or the user's own Pod/Deployment/Service/ConfigMap/
// Secret documents) and a Secret holding the values bound from $CLOUDARK_
// secrets, referenced with secretKeyRef.
package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cloudark/cld/internal/provider"
)

// Element kinds of this target.
const (
	KindCluster   = "kube-cluster"
	KindNamespace = "kube-namespace"
	KindSecret    = "kube-secret"
	KindWorkload  = "kube-workload"
)

// Target is the Kubernetes runtime. Name is "kubernetes"; the gcloud target
// embeds the same handlers for GKE.
type Target struct {
	name    string
	mu      sync.Mutex
	clients map[string]*clients // by kubeconfig path + context
	// WaitLoadBalancer makes an app ready only once its LoadBalancer
	// Services have an address (a cloud's load balancer, as on GKE), so the
	// URL printed is the load balancer's.
	WaitLoadBalancer bool
}

var (
	_ provider.Target         = (*Target)(nil)
	_ provider.ClusterPlanner = (*Target)(nil)
	_ provider.RuntimePlanner = (*Target)(nil)
	_ provider.Logger         = (*Target)(nil)
)

// New returns the Kubernetes target.
func New() *Target { return NewNamed("kubernetes") }

// NewNamed returns the runtime under another target name (gcloud uses it for GKE).
func NewNamed(name string) *Target { return &Target{name: name, clients: map[string]*clients{}} }

// Name is the target's name.
func (t *Target) Name() string { return t.name }

// Handler returns the handler of a kind.
func (t *Target) Handler(kind string) (provider.Handler, bool) {
	switch kind {
	case KindCluster:
		return clusterHandler{t}, true
	case KindNamespace:
		return namespaceHandler{t}, true
	case KindSecret:
		return secretHandler{t}, true
	case KindWorkload:
		return workloadHandler{t}, true
	}
	return nil, false
}

// Access says how to reach a cluster: a kubeconfig (path list) and context.
type Access struct {
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"context,omitempty"`
}

type clients struct {
	config    *rest.Config
	dynamic   dynamic.Interface
	rawConfig clientcmdapi.Config
}

// client returns (cached) clients for an access.
func (t *Target) client(a Access) (*clients, error) {
	key := a.Kubeconfig + "|" + a.Context
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[key]; ok {
		return c, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if a.Kubeconfig != "" {
		rules.Precedence = filepath.SplitList(a.Kubeconfig)
		rules.ExplicitPath = ""
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: a.Context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, provider.Permanent(fmt.Errorf("kubeconfig: %w", err))
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, provider.Permanent(fmt.Errorf("kubeconfig context %q: %w", a.Context, err))
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "cld"
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, provider.Permanent(err)
	}
	c := &clients{config: cfg, dynamic: dyn, rawConfig: raw}
	t.clients[key] = c
	return c, nil
}

// accessor is a spec that embeds Access.
type accessor interface{ access() Access }

func (a Access) access() Access { return a }

// open decodes an element's spec and returns clients for its cluster.
func (t *Target) open(el *provider.Element, spec accessor) (*clients, error) {
	if err := el.DecodeSpec(spec); err != nil {
		return nil, err
	}
	return t.client(spec.access())
}

// ResolveAccess turns the environment's settings and the user's KUBECONFIG
// into an explicit access, so the server uses what the user meant even if it
// was started from another shell.
func ResolveAccess(kubeconfig, context string, clientEnv map[string]string) (Access, error) {
	a := Access{Kubeconfig: kubeconfig, Context: context}
	if a.Kubeconfig == "" {
		a.Kubeconfig = clientEnv["KUBECONFIG"]
	}
	if a.Kubeconfig == "" {
		home, _ := os.UserHomeDir()
		a.Kubeconfig = filepath.Join(home, ".kube", "config")
	}
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(a.Kubeconfig)}
	raw, err := rules.Load()
	if err != nil {
		return a, fmt.Errorf("kubeconfig %s: %w", a.Kubeconfig, err)
	}
	if a.Context == "" {
		a.Context = raw.CurrentContext
	}
	if a.Context == "" {
		return a, fmt.Errorf("kubeconfig %s has no current context: set app_deployment.context", a.Kubeconfig)
	}
	if _, ok := raw.Contexts[a.Context]; !ok {
		var names []string
		for n := range raw.Contexts {
			names = append(names, n)
		}
		return a, fmt.Errorf("kubeconfig %s has no context %q (it has: %s)", a.Kubeconfig, a.Context, strings.Join(names, ", "))
	}
	return a, nil
}

// labelValue makes a cld label value acceptable to Kubernetes (no '/').
func labelValue(v string) string {
	v = strings.NewReplacer("/", ".", ":", ".").Replace(v)
	if len(v) > 63 {
		v = v[:63]
	}
	return strings.Trim(v, ".-_")
}

// kubeLabels converts element labels for Kubernetes objects.
func kubeLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		out[k] = labelValue(v)
	}
	return out
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
