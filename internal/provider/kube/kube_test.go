package kube

import (
	"testing"
	"time"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/provider/providertest"
	"github.com/cloudark/cld/test/kubeharness"
)

// The conformance suite against a real control plane: namespace, bindings
// Secret and a workload (Deployment + Service) that must roll out.
func TestConformance(t *testing.T) {
	kubeharness.RequireBinaries(t)
	cluster := kubeharness.StartT(t, kubeharness.Options{ContextName: "conformance"})
	access := Access{Kubeconfig: cluster.Kubeconfig, Context: cluster.Context}
	run := "c" + time.Now().Format("150405")
	labels := func(key string) map[string]string {
		return map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelApp: run, provider.LabelElement: "app/" + run + "/" + key}
	}
	providertest.Run(t, providertest.Suite{
		New:          func() provider.Target { return New() },
		ReadyTimeout: time.Minute,
		Elements: func(t *testing.T) []*provider.Element {
			objs := []map[string]any{
				{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web"},
					"spec": map[string]any{"replicas": int64(2), "selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
						"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
							"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "web:1"}}}}}},
				{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "web"},
					"spec": map[string]any{"type": "NodePort", "selector": map[string]any{"app": "web"}, "ports": []any{map[string]any{"port": int64(80), "targetPort": int64(8080)}}}},
			}
			return []*provider.Element{
				{Key: "namespace", Kind: KindNamespace, Target: "kubernetes", Name: run, Labels: labels("namespace"),
					Spec: provider.MustSpec(namespaceSpec{Access: access})},
				{Key: "secret", Kind: KindSecret, Target: "kubernetes", Name: run + "-cld-bindings", Deps: []string{"namespace"}, Labels: labels("secret"),
					Spec: provider.MustSpec(secretSpec{Access: access, Namespace: run}), Inputs: map[string]string{"password": "s3cret"}},
				{Key: "workload", Kind: KindWorkload, Target: "kubernetes", Name: run + "-w", Deps: []string{"namespace", "secret"}, Labels: labels("workload"),
					Spec: provider.MustSpec(workloadSpec{Access: access, Namespace: run, Objects: objs})},
			}
		},
		Owner: map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelApp: run},
	})
}
