package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"
)

// Typed access through the dynamic client. cld does not link client-go's
// typed clientset: its scheme registration costs every CLI invocation ~10 ms
// of start-up, and cld needs a handful of resources only.
var (
	resNamespaces  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	resSecrets     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	resPods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	resServices    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	resEvents      = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	resNodes       = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	resDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

func (c *clients) get(ctx context.Context, res schema.GroupVersionResource, ns, name string, out any) error {
	u, err := c.dynamic.Resource(res).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out)
}

func (c *clients) list(ctx context.Context, res schema.GroupVersionResource, ns string, opts metav1.ListOptions, out any) error {
	l, err := c.dynamic.Resource(res).Namespace(ns).List(ctx, opts)
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(l.UnstructuredContent(), out)
}

func (c *clients) create(ctx context.Context, res schema.GroupVersionResource, ns string, obj any) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	_, err = c.dynamic.Resource(res).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: m}, metav1.CreateOptions{FieldManager: "cld"})
	return err
}

func (c *clients) update(ctx context.Context, res schema.GroupVersionResource, ns string, obj any) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	_, err = c.dynamic.Resource(res).Namespace(ns).Update(ctx, &unstructured.Unstructured{Object: m}, metav1.UpdateOptions{FieldManager: "cld"})
	return err
}

func (c *clients) delete(ctx context.Context, res schema.GroupVersionResource, ns, name string, opts metav1.DeleteOptions) error {
	return c.dynamic.Resource(res).Namespace(ns).Delete(ctx, name, opts)
}

// raw GETs a path of the API server (version, pod logs) with the cluster's credentials.
func (c *clients) raw(ctx context.Context, path string, query url.Values) (io.ReadCloser, error) {
	hc, err := rest.HTTPClientFor(c.config)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(c.config.Host)
	if err != nil {
		return nil, err
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path // the host may carry a proxy prefix
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		var st metav1.Status
		if json.Unmarshal(b, &st) == nil && st.Message != "" {
			return nil, fmt.Errorf("%s: %s", resp.Status, st.Message)
		}
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	return resp.Body, nil
}

func (c *clients) serverVersion(ctx context.Context) (*version.Info, error) {
	rc, err := c.raw(ctx, "/version", nil)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var v version.Info
	return &v, json.NewDecoder(rc).Decode(&v)
}
