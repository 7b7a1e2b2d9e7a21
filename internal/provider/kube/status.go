package kube

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudark/cld/internal/provider"
)

// Pod waiting reasons that will not cure themselves: fail fast, with the reason.
var fatalWaiting = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true,
	"CrashLoopBackOff": true, "CreateContainerConfigError": true, "CreateContainerError": true,
}

func (h workloadHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s workloadSpec
	c, err := h.t.open(req.Element, &s)
	if err != nil {
		return provider.Observation{}, err
	}
	obs := provider.Observation{Outputs: map[string]string{"Namespace": s.Namespace}}
	present, missing := 0, 0
	var waiting []string
	var replicas []string
	var failed string
	for _, o := range s.Objects {
		name := metaName(o)
		switch o["kind"] {
		case "Deployment":
			d := &appsv1.Deployment{}
			err := c.get(ctx, resDeployments, s.Namespace, name, d)
			if apierrors.IsNotFound(err) {
				missing++
				continue
			}
			if err != nil {
				return obs, ctxErr(ctx, err)
			}
			present++
			want := int32(1)
			if d.Spec.Replicas != nil {
				want = *d.Spec.Replicas
			}
			replicas = append(replicas, fmt.Sprintf("%s %d/%d", d.Name, d.Status.AvailableReplicas, want))
			if msg := rolloutFailed(d); msg != "" {
				failed = msg
			}
			if !rolledOut(d, want) {
				waiting = append(waiting, fmt.Sprintf("deployment %s: %d of %d updated, %d available", d.Name, d.Status.UpdatedReplicas, want, d.Status.AvailableReplicas))
			}
			if msg := h.podTrouble(ctx, c, s.Namespace, d.Spec.Selector); msg != "" {
				failed = msg
			}
		case "Pod":
			p := &corev1.Pod{}
			err := c.get(ctx, resPods, s.Namespace, name, p)
			if apierrors.IsNotFound(err) {
				missing++
				continue
			}
			if err != nil {
				return obs, ctxErr(ctx, err)
			}
			present++
			if msg := podFailed(p); msg != "" {
				failed = msg
			}
			if !podReady(p) {
				waiting = append(waiting, fmt.Sprintf("pod %s: %s", p.Name, p.Status.Phase))
			}
		default:
			res, err := gvr(o)
			if err != nil {
				return obs, err
			}
			_, err = c.dynamic.Resource(res).Namespace(s.Namespace).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				missing++
				continue
			}
			if err != nil {
				return obs, ctxErr(ctx, err)
			}
			present++
		}
	}
	if present == 0 {
		return provider.Observation{}, nil
	}
	obs.Exists = true
	if missing > 0 {
		obs.Incomplete = true // an interrupted apply: Create applies the rest
		return obs, nil
	}
	if len(replicas) > 0 {
		obs.Outputs["Replicas"] = strings.Join(replicas, ", ")
	}
	if url := h.url(ctx, c, s); url != "" {
		obs.Outputs["URL"] = url
	}
	if h.t.WaitLoadBalancer {
		if svc := h.pendingLoadBalancer(ctx, c, s); svc != "" {
			waiting = append(waiting, "service "+svc+": waiting for the load balancer's address")
		}
	}
	switch {
	case failed != "":
		obs.Failed = failed
	case len(waiting) > 0:
		obs.Progress = strings.Join(waiting, "; ")
	default:
		obs.Ready = true
	}
	return obs, nil
}

func rolledOut(d *appsv1.Deployment, want int32) bool {
	st := d.Status
	return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want
}

func rolloutFailed(d *appsv1.Deployment) string {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return fmt.Sprintf("deployment %s: %s", d.Name, c.Message)
		}
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			return fmt.Sprintf("deployment %s: %s", d.Name, c.Message)
		}
	}
	return ""
}

func (h workloadHandler) podTrouble(ctx context.Context, c *clients, ns string, sel *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return ""
	}
	pods := &corev1.PodList{}
	if err := c.list(ctx, resPods, ns, metav1.ListOptions{LabelSelector: s.String()}, pods); err != nil {
		return ""
	}
	for i := range pods.Items {
		if msg := podFailed(&pods.Items[i]); msg != "" {
			return msg
		}
	}
	return ""
}

func podFailed(p *corev1.Pod) string {
	if p.Status.Phase == corev1.PodFailed {
		return fmt.Sprintf("pod %s failed: %s %s", p.Name, p.Status.Reason, p.Status.Message)
	}
	for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && fatalWaiting[w.Reason] {
			return fmt.Sprintf("pod %s container %s: %s: %s", p.Name, cs.Name, w.Reason, w.Message)
		}
	}
	return ""
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// url finds where users reach the app: a load balancer's address, else a
// node port on a node's address, else the in-cluster name.
func (h workloadHandler) url(ctx context.Context, c *clients, s workloadSpec) string {
	for _, o := range s.Objects {
		if o["kind"] != "Service" {
			continue
		}
		svc := &corev1.Service{}
		if err := c.get(ctx, resServices, s.Namespace, metaName(o), svc); err != nil || len(svc.Spec.Ports) == 0 {
			continue
		}
		port := svc.Spec.Ports[0]
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			host := ing.IP
			if ing.Hostname != "" {
				host = ing.Hostname
			}
			if host != "" {
				return httpURL(host, port.Port)
			}
		}
		if port.NodePort != 0 {
			if addr := nodeAddress(ctx, c); addr != "" {
				return httpURL(addr, port.NodePort)
			}
		}
		if svc.Spec.Type == corev1.ServiceTypeClusterIP || svc.Spec.Type == "" {
			return httpURL(svc.Name+"."+svc.Namespace+".svc", port.Port)
		}
	}
	return ""
}

func httpURL(host string, port int32) string {
	if port == 80 {
		return "http://" + host
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// nodeAddress returns a node's external address, or internal one.
func nodeAddress(ctx context.Context, c *clients) string {
	nodes := &corev1.NodeList{}
	if err := c.list(ctx, resNodes, "", metav1.ListOptions{}, nodes); err != nil {
		return ""
	}
	var internal string
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			switch a.Type {
			case corev1.NodeExternalIP:
				return a.Address
			case corev1.NodeInternalIP:
				if internal == "" {
					internal = a.Address
				}
			}
		}
	}
	return internal
}
