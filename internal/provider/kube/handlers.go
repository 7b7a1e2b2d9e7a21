package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cloudark/cld/internal/provider"
)

// clusterHandler checks that a borrowed cluster answers and writes the
// environment's kubeconfig. cld never creates or deletes such a cluster.
type clusterHandler struct{ t *Target }

var _ provider.Borrowed = clusterHandler{}

func (clusterHandler) Borrowed(*provider.Element) bool { return true }

func (h clusterHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var cs clusterSpec
	c, err := h.t.open(req.Element, &cs)
	if err != nil {
		return provider.Observation{}, err
	}
	v, err := c.serverVersion(ctx)
	if err != nil {
		return provider.Observation{}, nil // unreachable: Create explains
	}
	out := map[string]string{"Context": cs.Context, "Server": c.config.Host, "Version": v.GitVersion}
	if cs.KubeconfigOut != "" {
		if err := writeKubeconfig(c.rawConfig, cs.Context, cs.Namespace, cs.KubeconfigOut); err != nil {
			return provider.Observation{}, err
		}
		out["Kubeconfig"] = cs.KubeconfigOut
	}
	if cs.Namespace != "" {
		out["Namespace"] = cs.Namespace
	}
	return provider.Observation{Exists: true, Ready: true, Ref: c.config.Host, Outputs: out}, nil
}

func (h clusterHandler) Create(ctx context.Context, req *provider.Request) error {
	var cs clusterSpec
	c, err := h.t.open(req.Element, &cs)
	if err != nil {
		return err
	}
	if _, err := c.serverVersion(ctx); err != nil {
		return provider.Permanent(fmt.Errorf("cannot reach the cluster of context %q: %v", cs.Context, err))
	}
	return nil
}

func (h clusterHandler) Delete(context.Context, *provider.Request) error { return nil }

// writeKubeconfig writes a kubeconfig holding only one context, current, with
// the environment's namespace: what `cld env shell` points KUBECONFIG at.
func writeKubeconfig(raw clientcmdapi.Config, context, namespace, path string) error {
	cfg := raw.DeepCopy()
	cfg.CurrentContext = context
	if err := clientcmdapi.MinifyConfig(cfg); err != nil {
		return err
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return err
	}
	if namespace != "" {
		cfg.Contexts[context].Namespace = namespace
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return clientcmd.WriteToFile(*cfg, path)
}

// namespaceHandler makes the app's namespace, refusing to adopt one that
// cld does not own (deleting it later would destroy someone's work).
type namespaceHandler struct{ t *Target }

var (
	_ provider.Borrowed = namespaceHandler{}
	_ provider.Updater  = namespaceHandler{}
)

func (namespaceHandler) Borrowed(el *provider.Element) bool {
	var ns namespaceSpec
	el.DecodeSpec(&ns)
	return ns.Shared
}

func (h namespaceHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s namespaceSpec
	c, err := h.t.open(req.Element, &s)
	if err != nil {
		return provider.Observation{}, err
	}
	ns := &corev1.Namespace{}
	err = c.get(ctx, resNamespaces, "", req.Element.Name, ns)
	if apierrors.IsNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, ctxErr(ctx, err)
	}
	obs := provider.Observation{Exists: true, Ref: string(ns.UID), Outputs: map[string]string{"Namespace": ns.Name}}
	if ns.Status.Phase == corev1.NamespaceTerminating {
		obs.Progress = "namespace is terminating"
		return obs, nil
	}
	obs.Ready = true
	return obs, nil
}

func (h namespaceHandler) Create(ctx context.Context, req *provider.Request) error {
	var s namespaceSpec
	c, err := h.t.open(req.Element, &s)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: req.Element.Name, Labels: kubeLabels(req.Element.Labels)}}
	err = c.create(ctx, resNamespaces, "", ns)
	if apierrors.IsAlreadyExists(err) {
		if s.Shared {
			return nil
		}
		got := &corev1.Namespace{}
		if gerr := c.get(ctx, resNamespaces, "", req.Element.Name, got); gerr != nil {
			return ctxErr(ctx, gerr)
		}
		if got.Labels[provider.LabelApp] != labelValue(req.Element.Labels[provider.LabelApp]) || got.Labels[provider.LabelManagedBy] != provider.ManagedByValue {
			return provider.Permanent(fmt.Errorf("namespace %s already exists and cld did not make it for this app: choose another app name, or set app_deployment.namespace to share it", req.Element.Name))
		}
		return nil
	}
	return ctxErr(ctx, err)
}

// Update keeps the namespace: a redeploy changes what runs in it.
func (h namespaceHandler) Update(ctx context.Context, req *provider.Request, old *provider.Element) error {
	return nil
}

func (h namespaceHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s namespaceSpec
	c, err := h.t.open(req.Element, &s)
	if err != nil {
		return err
	}
	err = c.delete(ctx, resNamespaces, "", req.Element.Name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return ctxErr(ctx, err)
}

// secretHandler keeps the values bound from $CLOUDARK_ secrets.
type secretHandler struct{ t *Target }

var _ provider.Updater = secretHandler{}

func (h secretHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s secretSpec
	c, err := h.t.open(req.Element, &s)
	if err != nil {
		return provider.Observation{}, err
	}
	sec := &corev1.Secret{}
	err = c.get(ctx, resSecrets, s.Namespace, req.Element.Name, sec)
	if apierrors.IsNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, ctxErr(ctx, err)
	}
	return provider.Observation{Exists: true, Ready: true, Ref: string(sec.UID), Outputs: map[string]string{"Secret": sec.Name}}, nil
}

func (h secretHandler) secret(req *provider.Request, s secretSpec) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: req.Element.Name, Namespace: s.Namespace, Labels: kubeLabels(req.Element.Labels)},
		Type:       corev1.SecretTypeOpaque,
		StringData: req.Element.Inputs,
	}
}

func (h secretHandler) Create(ctx context.Context, req *provider.Request) error {
	var s secretSpec
	c, err := h.t.open(req.Element, &s)
	if err != nil {
		return err
	}
	err = c.create(ctx, resSecrets, s.Namespace, h.secret(req, s))
	if apierrors.IsAlreadyExists(err) {
		return h.Update(ctx, req, req.Element)
	}
	return ctxErr(ctx, err)
}

// Update replaces the secret's values (a redeploy may bind other secrets).
func (h secretHandler) Update(ctx context.Context, req *provider.Request, old *provider.Element) error {
	var s secretSpec
	c, err := h.t.open(req.Element, &s)
	if err != nil {
		return err
	}
	cur := &corev1.Secret{}
	if err := c.get(ctx, resSecrets, s.Namespace, old.Name, cur); err != nil {
		return ctxErr(ctx, err)
	}
	next := h.secret(req, s)
	next.ResourceVersion = cur.ResourceVersion
	next.Data = nil
	return ctxErr(ctx, c.update(ctx, resSecrets, s.Namespace, next))
}

func (h secretHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s secretSpec
	c, err := h.t.open(req.Element, &s)
	if err != nil {
		return err
	}
	err = c.delete(ctx, resSecrets, s.Namespace, req.Element.Name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return ctxErr(ctx, err)
}

// gvr maps the kinds cld accepts to their resources.
func gvr(obj map[string]any) (schema.GroupVersionResource, error) {
	switch obj["kind"] {
	case "Pod":
		return schema.GroupVersionResource{Version: "v1", Resource: "pods"}, nil
	case "Service":
		return schema.GroupVersionResource{Version: "v1", Resource: "services"}, nil
	case "ConfigMap":
		return schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, nil
	case "Secret":
		return schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, nil
	case "Deployment":
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, nil
	}
	return schema.GroupVersionResource{}, provider.Permanent(fmt.Errorf("kind %v is not supported", obj["kind"]))
}

// labelled returns a copy of obj carrying the element's labels on itself and
// on its pod template, so logs and sweeps find every pod.
func labelled(obj map[string]any, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: copyMap(obj)}
	l := u.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	for k, v := range kubeLabels(labels) {
		l[k] = v
	}
	u.SetLabels(l)
	if u.GetKind() == "Deployment" {
		tl, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "labels")
		if tl == nil {
			tl = map[string]string{}
		}
		for k, v := range kubeLabels(labels) {
			tl[k] = v
		}
		unstructured.SetNestedStringMap(u.Object, tl, "spec", "template", "metadata", "labels")
	}
	return u
}

// workloadHandler applies the app's objects with server-side apply and
// reports ready when every Deployment has rolled out and every Pod runs.
type workloadHandler struct{ t *Target }

var (
	_ provider.Updater = workloadHandler{}
	_ provider.Waiter  = workloadHandler{}
)

// ReadyTimeout bounds a rollout.
func (workloadHandler) ReadyTimeout(*provider.Element) time.Duration { return 10 * time.Minute }

func (h workloadHandler) apply(ctx context.Context, req *provider.Request, s workloadSpec) error {
	c, err := h.t.client(s.Access)
	if err != nil {
		return err
	}
	for _, obj := range s.Objects {
		res, err := gvr(obj)
		if err != nil {
			return err
		}
		u := labelled(obj, req.Element.Labels)
		body, err := json.Marshal(u.Object)
		if err != nil {
			return provider.Permanent(err)
		}
		force := true
		_, err = c.dynamic.Resource(res).Namespace(s.Namespace).Patch(ctx, u.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "cld", Force: &force})
		if err != nil {
			if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || apierrors.IsForbidden(err) {
				return provider.Permanent(fmt.Errorf("%s %s: %v", u.GetKind(), u.GetName(), err))
			}
			return ctxErr(ctx, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err))
		}
		req.Say("applied %s/%s", strings.ToLower(u.GetKind()), u.GetName())
	}
	return nil
}

func (h workloadHandler) Create(ctx context.Context, req *provider.Request) error {
	var s workloadSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	return h.apply(ctx, req, s)
}

// Update applies the new objects (a Deployment then rolls), replaces Pods
// whose definition changed (a Pod cannot change in place), and removes
// objects the new version no longer has.
func (h workloadHandler) Update(ctx context.Context, req *provider.Request, old *provider.Element) error {
	var s, prev workloadSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	if err := old.DecodeSpec(&prev); err != nil {
		return err
	}
	c, err := h.t.client(s.Access)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, o := range s.Objects {
		keep[fmt.Sprint(o["kind"])+"/"+metaName(o)] = true
	}
	for _, o := range prev.Objects {
		k := fmt.Sprint(o["kind"]) + "/" + metaName(o)
		changedPod := o["kind"] == "Pod" && keep[k] && !samePod(o, find(s.Objects, k))
		if keep[k] && !changedPod {
			continue
		}
		res, err := gvr(o)
		if err != nil {
			return err
		}
		req.Say("removing %s from the previous version", strings.ToLower(k))
		if err := c.dynamic.Resource(res).Namespace(prev.Namespace).Delete(ctx, metaName(o), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return ctxErr(ctx, err)
		}
		if err := waitDeleted(ctx, c, res, prev.Namespace, metaName(o)); err != nil {
			return err
		}
	}
	return h.apply(ctx, req, s)
}

func find(objs []map[string]any, key string) map[string]any {
	for _, o := range objs {
		if fmt.Sprint(o["kind"])+"/"+metaName(o) == key {
			return o
		}
	}
	return nil
}

func samePod(a, b map[string]any) bool {
	x, _ := json.Marshal(a["spec"])
	y, _ := json.Marshal(b["spec"])
	return string(x) == string(y)
}

func waitDeleted(ctx context.Context, c *clients, res schema.GroupVersionResource, ns, name string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		_, err := c.dynamic.Resource(res).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s %s still there after 2m", res.Resource, name)
}

func (h workloadHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s workloadSpec
	c, err := h.t.open(req.Element, &s)
	if err != nil {
		return err
	}
	fg := metav1.DeletePropagationForeground
	for _, o := range s.Objects {
		res, err := gvr(o)
		if err != nil {
			return err
		}
		err = c.dynamic.Resource(res).Namespace(s.Namespace).Delete(ctx, metaName(o), metav1.DeleteOptions{PropagationPolicy: &fg})
		if err != nil && !apierrors.IsNotFound(err) {
			return ctxErr(ctx, err)
		}
	}
	return nil
}
