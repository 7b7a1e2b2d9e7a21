package kube

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/spec"
)

// clusterSpec is how an environment reaches its cluster.
type clusterSpec struct {
	Access
	// Namespace, when set, is shared by every app of the environment
	// (cld neither creates nor deletes it); otherwise each app gets its own.
	Namespace   string `json:"namespace,omitempty"`
	ServiceType string `json:"service_type,omitempty"`
	// KubeconfigOut is where the environment's own kubeconfig is written for
	// `cld env shell` / `env exec`.
	KubeconfigOut string `json:"kubeconfig_out,omitempty"`
}

// PlanCluster plans the (borrowed) cluster of a kubeconfig context.
func (t *Target) PlanCluster(p provider.EnvPlan) ([]*provider.Element, error) {
	d := p.Spec.AppDeployment
	a, err := ResolveAccess(d.Kubeconfig, d.Context, p.ClientEnv)
	if err != nil {
		return nil, err
	}
	cs := clusterSpec{Access: a, Namespace: d.Namespace, ServiceType: d.ServiceType, KubeconfigOut: filepath.Join(p.Folder, "kubeconfig")}
	return []*provider.Element{{Key: "cluster", Kind: KindCluster, Target: t.name, Name: a.Context, Spec: provider.MustSpec(cs)}}, nil
}

// ClusterElement builds the cluster element for a cluster another target made
// (GKE): access through a kubeconfig that target wrote.
func (t *Target) ClusterElement(key, name string, cs ClusterSpec) *provider.Element {
	return &provider.Element{Key: key, Kind: KindCluster, Target: t.name, Name: name, Spec: provider.MustSpec(clusterSpec(cs))}
}

// ClusterSpec is the exported form of a cluster's access, for other targets.
type ClusterSpec clusterSpec

type namespaceSpec struct {
	Access
	Shared bool `json:"shared,omitempty"`
}

type secretSpec struct {
	Access
	Namespace string `json:"namespace"`
}

type workloadSpec struct {
	Access
	Namespace string           `json:"namespace"`
	Objects   []map[string]any `json:"objects"`
}

// PlanApp plans the namespace, the bindings Secret and the workload objects.
func (t *Target) PlanApp(p provider.AppPlan) ([]*provider.Element, error) {
	var cs clusterSpec
	found := false
	for _, el := range p.Cluster {
		if el.Kind == KindCluster {
			if err := el.DecodeSpec(&cs); err != nil {
				return nil, err
			}
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("environment %s has no Kubernetes cluster", p.Env)
	}
	ns := cs.Namespace
	if ns == "" {
		ns = p.App
	}
	secretName := p.App + "-cld-bindings"
	inputs := map[string]string{}
	var objects []map[string]any
	switch p.Spec.Format {
	case spec.FormatApp:
		objects = appObjects(p, ns, secretName, inputs, or(cs.ServiceType, "LoadBalancer"))
	case spec.FormatKubernetes:
		var err error
		objects, err = docObjects(p, ns, secretName, inputs)
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: the Kubernetes runtime takes `app:` or Kubernetes YAML, not %s", p.Spec.File, p.Spec.Format)
	}
	labels := map[string]string{}
	var out []*provider.Element
	out = append(out, &provider.Element{Key: "namespace", Kind: KindNamespace, Target: t.name, Name: ns,
		Spec: provider.MustSpec(namespaceSpec{Access: cs.Access, Shared: cs.Namespace != ""}), Labels: labels})
	deps := []string{"namespace"}
	if len(inputs) > 0 {
		out = append(out, &provider.Element{Key: "secret", Kind: KindSecret, Target: t.name, Name: secretName, Deps: []string{"namespace"},
			Spec: provider.MustSpec(secretSpec{Access: cs.Access, Namespace: ns}), Inputs: inputs})
		deps = append(deps, "secret")
	}
	out = append(out, &provider.Element{Key: "workload", Kind: KindWorkload, Target: t.name, Name: p.Base, Deps: deps,
		Spec: provider.MustSpec(workloadSpec{Access: cs.Access, Namespace: ns, Objects: objects})})
	return out, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// appObjects makes a Deployment (and a Service when the app has a port) from
// the `app:` format. Secret values become secretKeyRef entries.
func appObjects(p provider.AppPlan, ns, secretName string, inputs map[string]string, serviceType string) []map[string]any {
	a := p.Spec.Single
	selector := map[string]any{"app.kubernetes.io/name": p.App}
	var env []any
	for _, v := range p.Bound.Env {
		if v.Secret {
			key := secretKey(v.Name)
			inputs[key] = v.Value
			env = append(env, map[string]any{"name": v.Name, "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": secretName, "key": key}}})
		} else {
			env = append(env, map[string]any{"name": v.Name, "value": v.Value})
		}
	}
	c := map[string]any{"name": p.App, "image": a.Image}
	if len(env) > 0 {
		c["env"] = env
	}
	if len(a.Command) > 0 {
		c["command"] = toAny(a.Command)
	}
	if a.ContainerPort != 0 {
		c["ports"] = []any{map[string]any{"containerPort": int64(a.ContainerPort), "name": "http"}}
		probe := map[string]any{"tcpSocket": map[string]any{"port": int64(a.ContainerPort)}, "periodSeconds": int64(5)}
		c["readinessProbe"] = probe
	}
	if a.CPU != "" || a.Memory != "" {
		limits := map[string]any{}
		if a.CPU != "" {
			limits["cpu"] = cpuQuantity(a.CPU)
		}
		if a.Memory != "" {
			limits["memory"] = memQuantity(a.Memory)
		}
		c["resources"] = map[string]any{"limits": limits, "requests": limits}
	}
	replicas := int64(1)
	if a.Replicas > 0 {
		replicas = int64(a.Replicas)
	}
	deploy := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": p.App, "namespace": ns},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": selector},
			"template": map[string]any{
				"metadata": map[string]any{"labels": copyMap(selector)},
				"spec":     map[string]any{"containers": []any{c}},
			},
		},
	}
	objs := []map[string]any{deploy}
	if a.ContainerPort != 0 {
		port := a.HostPort
		if port == 0 {
			port = 80
		}
		objs = append(objs, map[string]any{
			"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": p.App, "namespace": ns},
			"spec": map[string]any{
				"type":     serviceType,
				"selector": copyMap(selector),
				"ports":    []any{map[string]any{"name": "http", "port": int64(port), "targetPort": int64(a.ContainerPort), "protocol": "TCP"}},
			},
		})
	}
	return objs
}

// secretKey turns an environment variable name into a Secret key.
func secretKey(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, "_", "-"))
}

func cpuQuantity(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	if f >= 64 { // ECS CPU units
		f /= 1024
	}
	return fmt.Sprintf("%dm", int(f*1000))
}

func memQuantity(s string) string {
	s = strings.TrimSpace(s)
	r := strings.NewReplacer("mib", "Mi", "gib", "Gi", "mb", "M", "gb", "G", "m", "Mi", "g", "Gi", "k", "Ki")
	lower := strings.ToLower(s)
	for _, suf := range []string{"mib", "gib", "mb", "gb", "m", "g", "k"} {
		if strings.HasSuffix(lower, suf) {
			return r.Replace(lower)
		}
	}
	return s
}

var envValuePath = regexp.MustCompile(`^document\[(\d+)\]\.(.+)\.env\[(\d+)\]\.value$`)

// docObjects prepares the user's documents: namespace set, old API versions
// of Deployment upgraded, secrets moved into the bindings Secret.
func docObjects(p provider.AppPlan, ns, secretName string, inputs map[string]string) ([]map[string]any, error) {
	var objs []map[string]any
	for i, doc := range p.Bound.Docs {
		obj := copyMap(doc)
		var secrets []string
		if i < len(p.Bound.DocSecrets) {
			secrets = p.Bound.DocSecrets[i]
		}
		for _, path := range secrets {
			m := envValuePath.FindStringSubmatch(path)
			if m == nil {
				continue // a secret outside an env list stays where the user put it
			}
			item, err := walk(obj, strings.TrimPrefix(path, fmt.Sprintf("document[%d].", i)))
			if err != nil {
				return nil, err
			}
			name, _ := item["name"].(string)
			key := fmt.Sprintf("doc%d-%s", i, secretKey(name))
			inputs[key] = fmt.Sprint(item["value"])
			delete(item, "value")
			item["valueFrom"] = map[string]any{"secretKeyRef": map[string]any{"name": secretName, "key": key}}
		}
		kind, _ := obj["kind"].(string)
		if kind == "Deployment" {
			obj["apiVersion"] = "apps/v1"
			spec, _ := obj["spec"].(map[string]any)
			if _, ok := spec["selector"]; !ok {
				tmpl, _ := spec["template"].(map[string]any)
				meta, _ := tmpl["metadata"].(map[string]any)
				labels, _ := meta["labels"].(map[string]any)
				if len(labels) == 0 {
					return nil, fmt.Errorf("%s: Deployment %v needs spec.selector or template labels", p.Spec.File, metaName(obj))
				}
				spec["selector"] = map[string]any{"matchLabels": copyMap(labels)}
			}
		}
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		meta["namespace"] = ns
		objs = append(objs, obj)
	}
	// Config and secrets before the workloads that mount them.
	sort.SliceStable(objs, func(i, j int) bool { return kindOrder(objs[i]) < kindOrder(objs[j]) })
	return objs, nil
}

func kindOrder(o map[string]any) int {
	switch o["kind"] {
	case "ConfigMap", "Secret":
		return 0
	case "Service":
		return 1
	}
	return 2
}

// walk follows a path like spec.containers[0].env[1] to a map.
func walk(obj map[string]any, path string) (map[string]any, error) {
	path = strings.TrimSuffix(path, ".value")
	var cur any = obj
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("path %s: not a mapping at %s", path, part)
		}
		cur = m[name]
		if idx >= 0 {
			l, ok := cur.([]any)
			if !ok || idx >= len(l) {
				return nil, fmt.Errorf("path %s: no item %d", path, idx)
			}
			cur = l[idx]
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("path %s: not a mapping", path)
	}
	return m, nil
}

func metaName(o map[string]any) string {
	meta, _ := o["metadata"].(map[string]any)
	n, _ := meta["name"].(string)
	return n
}

// copyMap deep-copies a decoded YAML/JSON tree.
func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return copyMap(t)
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = copyValue(x)
		}
		return l
	}
	return v
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
