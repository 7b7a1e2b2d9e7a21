package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/cloudark/cld/internal/provider"
)

// Hooks for targets that run their apps on this runtime (gcloud on GKE).

// AddContainer adds a container (a sidecar such as the Cloud SQL Auth Proxy)
// to every Pod and Deployment template of a workload element PlanApp made.
func AddContainer(el *provider.Element, container map[string]any) error {
	if el.Kind != KindWorkload {
		return fmt.Errorf("element %s is a %s, not a %s", el.Key, el.Kind, KindWorkload)
	}
	var s workloadSpec
	if err := el.DecodeSpec(&s); err != nil {
		return err
	}
	for _, o := range s.Objects {
		var podSpec map[string]any
		switch o["kind"] {
		case "Pod":
			podSpec, _ = o["spec"].(map[string]any)
		case "Deployment":
			spec, _ := o["spec"].(map[string]any)
			tmpl, _ := spec["template"].(map[string]any)
			podSpec, _ = tmpl["spec"].(map[string]any)
		default:
			continue
		}
		if podSpec == nil {
			return fmt.Errorf("%v %s has no pod spec", o["kind"], metaName(o))
		}
		cs, _ := podSpec["containers"].([]any)
		podSpec["containers"] = append(cs, copyMap(container))
	}
	el.Spec = provider.MustSpec(s)
	return nil
}

// pendingLoadBalancer names a LoadBalancer Service of the workload that has
// no address yet.
func (h workloadHandler) pendingLoadBalancer(ctx context.Context, c *clients, s workloadSpec) string {
	for _, o := range s.Objects {
		if o["kind"] != "Service" {
			continue
		}
		svc := &corev1.Service{}
		if err := c.get(ctx, resServices, s.Namespace, metaName(o), svc); err != nil || svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		if len(svc.Status.LoadBalancer.Ingress) == 0 {
			return svc.Name
		}
	}
	return ""
}
