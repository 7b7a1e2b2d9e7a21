package kubeharness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	crdGVR         = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	logsGVR        = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}
	clusterLogsGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "clusterlogs"}
)

// installKwokCRDs creates kwok's Logs and ClusterLogs CRDs (kwok does not
// install them itself) and waits until they are established. The schemas
// are left open: kwok's own typed client is the only reader.
func (c *Cluster) installKwokCRDs(ctx context.Context) error {
	for _, crd := range []struct{ kind, plural, scope string }{
		{"Logs", "logs", "Namespaced"},
		{"ClusterLogs", "clusterlogs", "Cluster"},
	} {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": crd.plural + ".kwok.x-k8s.io"},
			"spec": map[string]any{
				"group": "kwok.x-k8s.io",
				"scope": crd.scope,
				"names": map[string]any{
					"kind": crd.kind, "listKind": crd.kind + "List",
					"plural": crd.plural, "singular": strings.ToLower(crd.kind),
				},
				"versions": []any{map[string]any{
					"name": "v1alpha1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{
						"type": "object", "x-kubernetes-preserve-unknown-fields": true,
					}},
					"subresources": map[string]any{"status": map[string]any{}},
				}},
			},
		}}
		if _, err := c.Dynamic.Resource(crdGVR).Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create CRD %s: %w", obj.GetName(), err)
		}
		name := obj.GetName()
		if err := c.poll(ctx, 50*time.Millisecond, "CRD "+name+" established", func(ctx context.Context) (bool, error) {
			got, err := c.Dynamic.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, cond := range conds {
				m, _ := cond.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// SetPodLogs makes the log of a pod's container hold exactly lines, as read
// by GET /api/v1/namespaces/NAMESPACE/pods/POD/log?container=CONTAINER (and
// so kubectl logs and client-go's GetLogs). An empty container sets the log of
// every container of the pod that has no log of its own. The pod need not
// exist yet. Calling it again replaces the lines.
//
// It writes the lines to a file in CRI log format (stdout, one timestamp per
// line, a microsecond apart), points a kwok Logs object (named after the pod)
// at the file, and returns once kwok serves it. Options such as tailLines,
// limitBytes, sinceTime and timestamps work as with a kubelet; follow streams
// the lines, then whatever AppendPodLogs adds, until the client stops
// (kwok's containers never end). previous is not supported (kwok answers 400),
// nor is a log for a pod with no log set (400, "no logs found for container").
func (c *Cluster) SetPodLogs(ctx context.Context, namespace, pod, container string, lines ...string) error {
	c.logsMu.Lock()
	defer c.logsMu.Unlock()
	file, err := c.writeLogFile(podLogFile(namespace, pod, container), lines)
	if err != nil {
		return err
	}
	entry := map[string]any{"logsFile": file}
	if container != "" {
		entry["containers"] = []any{container}
	}
	res := c.Dynamic.Resource(logsGVR).Namespace(namespace)
	obj, err := res.Get(ctx, pod, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		obj = &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "kwok.x-k8s.io/v1alpha1",
			"kind":       "Logs",
			"metadata":   map[string]any{"name": pod, "namespace": namespace},
			"spec":       map[string]any{"logs": []any{entry}},
		}}
		if _, err := res.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create kwok Logs %s/%s: %w", namespace, pod, err)
		}
	case err != nil:
		return fmt.Errorf("get kwok Logs %s/%s: %w", namespace, pod, err)
	default:
		entries, _, _ := unstructured.NestedSlice(obj.Object, "spec", "logs")
		replaced := false
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok && m["logsFile"] == file {
				replaced = true // same file, rewritten above
			}
		}
		if !replaced {
			entries = append(entries, entry)
			if err := unstructured.SetNestedSlice(obj.Object, entries, "spec", "logs"); err != nil {
				return err
			}
			if _, err := res.Update(ctx, obj, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("update kwok Logs %s/%s: %w", namespace, pod, err)
			}
		}
	}
	probe := container
	if probe == "" {
		probe = "kubeharness-any-container"
	}
	return c.waitKwokLogs(ctx, namespace, pod, probe, lines)
}

// AppendPodLogs adds lines to a log set by SetPodLogs (with the same
// container argument), in place, so that a client following the log gets
// them. Without an earlier SetPodLogs it is SetPodLogs.
func (c *Cluster) AppendPodLogs(ctx context.Context, namespace, pod, container string, lines ...string) error {
	path := filepath.Join(c.Dir, "logs", podLogFile(namespace, pod, container))
	c.logsMu.Lock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if os.IsNotExist(err) {
		c.logsMu.Unlock()
		return c.SetPodLogs(ctx, namespace, pod, container, lines...)
	}
	defer c.logsMu.Unlock()
	if err != nil {
		return err
	}
	_, err = f.WriteString(criLines(time.Now().UTC(), lines))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func podLogFile(namespace, pod, container string) string {
	if container == "" {
		container = "_all"
	}
	return filepath.Join("pods", namespace, pod, container+".log")
}

// SetNamespaceLogs sets the log of every container of every pod in namespace
// that has no log set by SetPodLogs: handy for pods whose names a test does
// not know. Calling it again replaces the lines.
func (c *Cluster) SetNamespaceLogs(ctx context.Context, namespace string, lines ...string) error {
	c.logsMu.Lock()
	defer c.logsMu.Unlock()
	file, err := c.writeLogFile(filepath.Join("namespaces", namespace+".log"), lines)
	if err != nil {
		return err
	}
	name := "ns-" + namespace
	res := c.Dynamic.Resource(clusterLogsGVR)
	if _, err := res.Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "kwok.x-k8s.io/v1alpha1",
			"kind":       "ClusterLogs",
			"metadata":   map[string]any{"name": name},
			"spec": map[string]any{
				"selector": map[string]any{"matchNamespaces": []any{namespace}},
				"logs":     []any{map[string]any{"logsFile": file}},
			},
		}}
		if _, err := res.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create kwok ClusterLogs %s: %w", name, err)
		}
	} else if err != nil {
		return fmt.Errorf("get kwok ClusterLogs %s: %w", name, err)
	}
	return c.waitKwokLogs(ctx, namespace, "kubeharness-probe-pod", "kubeharness-probe-container", lines)
}

// writeLogFile writes lines in CRI log format under <Dir>/logs and returns
// the absolute path. The file is replaced atomically.
func (c *Cluster) writeLogFile(rel string, lines []string) (string, error) {
	path := filepath.Join(c.Dir, "logs", rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	data := criLines(time.Now().UTC().Add(-time.Duration(len(lines))*time.Microsecond), lines)
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// criLines formats lines as a CRI container log (what kubelets read):
// "<RFC 3339 time> stdout F <line>", the times a microsecond apart from ts
// on. A line with newlines becomes several.
func criLines(ts time.Time, lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		for _, part := range strings.Split(strings.TrimSuffix(l, "\n"), "\n") {
			ts = ts.Add(time.Microsecond)
			fmt.Fprintf(&b, "%s stdout F %s\n", ts.Format(time.RFC3339Nano), part)
		}
	}
	return b.String()
}

// waitKwokLogs polls kwok's kubelet endpoint until it serves the lines.
func (c *Cluster) waitKwokLogs(ctx context.Context, namespace, pod, container string, lines []string) error {
	want := strings.Join(lines, "\n")
	if len(lines) > 0 {
		want += "\n"
	}
	u := fmt.Sprintf("https://127.0.0.1:%d/containerLogs/%s/%s/%s", c.kwokPort,
		url.PathEscape(namespace), url.PathEscape(pod), url.PathEscape(container))
	var last string
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := c.poll(ctx, 50*time.Millisecond, "kwok to serve logs of "+namespace+"/"+pod, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false, err
		}
		resp, err := c.kwokHTTP.Do(req)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		last = strconv.Itoa(resp.StatusCode) + ": " + string(body)
		return resp.StatusCode == http.StatusOK && string(body) == want, nil
	})
	if err != nil {
		return fmt.Errorf("%w (last answer %s)", err, last)
	}
	return nil
}
