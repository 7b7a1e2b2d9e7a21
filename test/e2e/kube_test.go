package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cloudark/cld/test/kubeharness"
)

// The Kubernetes runtime against a real control plane (kube-apiserver,
// controller-manager, scheduler on etcd; kwok plays the kubelets): an
// environment on a kubeconfig context with a local MySQL resource, an app
// from the `app:` format bound to it through a Secret, a rolling redeploy,
// logs, Pod and Deployment/Service YAML, and delete leaving nothing.
func TestKubernetesRuntime(t *testing.T) {
	kubeharness.RequireBinaries(t)
	cluster := kubeharness.StartT(t, kubeharness.Options{ContextName: "e2e-kube"})
	cs := cluster.Client
	ctx := context.Background()
	u := newUser(t)
	u.env = append(u.env, "KUBECONFIG="+cluster.Kubeconfig)

	envFile := u.write("env.yaml", `environment:
  resources:
    local:
      - resource:
          type: mysql
          configuration:
            image: `+mysqlImage+`
  app_deployment:
    target: kubernetes
    context: e2e-kube
    service_type: NodePort
`)
	u.ok("env", "create", "k8s", envFile)
	var env object
	u.json(&env, "env", "show", "k8s")
	if env.Status != "available" {
		t.Fatalf("env: %+v", env)
	}
	// env exec points tools at the cluster and its kubeconfig works
	kc := strings.TrimSpace(u.ok("env", "exec", "k8s", "--", "sh", "-c", "echo $KUBECONFIG"))
	if b, err := os.ReadFile(kc); err != nil || !strings.Contains(string(b), "current-context: e2e-kube") {
		t.Fatalf("env kubeconfig %q: %v", kc, err)
	}

	appFile := u.write("app.yaml", `app:
  image: greetings:v1
  container_port: 5000
  replicas: 2
  env:
    PASSWORD: $CLOUDARK_MYSQL_Password
    HOST: $CLOUDARK_MYSQL_DBHOST
`)
	url := strings.TrimSpace(u.ok("app", "deploy", "web", "k8s", appFile))
	if !strings.HasPrefix(url, "http://") {
		t.Fatalf("deploy printed %q", url)
	}
	d, err := cs.AppsV1().Deployments("web").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.AvailableReplicas != 2 || d.Labels["managed-by"] != "cld" || d.Labels["cld-app"] != "web" {
		t.Fatalf("deployment: available %d labels %v", d.Status.AvailableReplicas, d.Labels)
	}
	var pwRef bool
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "PASSWORD" {
			pwRef = e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.Value == ""
		}
	}
	if !pwRef {
		t.Fatalf("PASSWORD is not a secretKeyRef: %+v", d.Spec.Template.Spec.Containers[0].Env)
	}
	var res []resource
	u.json(&res, "resource", "show", "k8s", "--show-secrets")
	sec, err := cs.CoreV1().Secrets("web").Get(ctx, "web-cld-bindings", metav1.GetOptions{})
	if err != nil || string(sec.Data["password"]) != res[0].Attributes["Password"] {
		t.Fatalf("bindings secret: %v %v", err, sec)
	}
	svc, err := cs.CoreV1().Services("web").Get(ctx, "web", metav1.GetOptions{})
	if err != nil || svc.Spec.Type != "NodePort" || !strings.HasSuffix(url, fmt.Sprintf(":%d", svc.Spec.Ports[0].NodePort)) {
		t.Fatalf("service %v %v, url %s", err, svc, url)
	}

	// logs: events (scheduling) and the containers' output through kwok's kubelet
	if err := cluster.SetNamespaceLogs(ctx, "web", "greetings listening on :5000", "GET / 200"); err != nil {
		t.Fatal(err)
	}
	logs := u.ok("app", "logs", "web")
	for _, want := range []string{"Scheduled", "Successfully assigned web/web-", "greetings listening on :5000", "condition Ready=True"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}

	// rolling redeploy: same namespace, the Deployment rolls to the new image
	ns1, _ := cs.CoreV1().Namespaces().Get(ctx, "web", metav1.GetOptions{})
	u.write("app.yaml", strings.Replace(mustRead(t, appFile), "greetings:v1", "greetings:v2", 1))
	out := u.run("app", "redeploy", "web", appFile)
	if out.code != 0 || !strings.Contains(out.err, "updating kube-workload") {
		t.Fatalf("redeploy: %d %s", out.code, out.err)
	}
	d, _ = cs.AppsV1().Deployments("web").Get(ctx, "web", metav1.GetOptions{})
	ns2, _ := cs.CoreV1().Namespaces().Get(ctx, "web", metav1.GetOptions{})
	if d.Spec.Template.Spec.Containers[0].Image != "greetings:v2" || d.Status.UpdatedReplicas != 2 || ns1.UID != ns2.UID {
		t.Fatalf("after redeploy: image %s updated %d, namespace kept %v", d.Spec.Template.Spec.Containers[0].Image, d.Status.UpdatedReplicas, ns1.UID == ns2.UID)
	}

	// Kubernetes YAML: Pods (as CaaStle allowed) and Deployment + Service
	pods := u.write("pods.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: greetings1
  labels:
    name: greetings1
spec:
  containers:
    - image: greetpod:1
      name: greetings
      ports:
      - containerPort: 5000
      env:
        - name: "PASSWORD"
          value: $CLOUDARK_MYSQL_Password
---
apiVersion: v1
kind: Pod
metadata:
  name: greetings2
spec:
  containers:
    - image: greetpod:1
      name: greetings
`)
	u.ok("app", "deploy", "pods", "k8s", pods)
	p1, err := cs.CoreV1().Pods("pods").Get(ctx, "greetings1", metav1.GetOptions{})
	if err != nil || p1.Status.Phase != "Running" || p1.Spec.Containers[0].Env[0].ValueFrom == nil {
		t.Fatalf("pod greetings1: %v %+v", err, p1)
	}
	dep := u.write("deploy.yaml", mustRead(t, repoRoot+"/internal/spec/testdata/caastle-examples/greetings/greetings-deployment.yaml")+"---\n"+
		strings.Replace(mustRead(t, repoRoot+"/internal/spec/testdata/caastle-examples/greetings/greetings-service.yaml"), "LoadBalancer", "NodePort", 1))
	u.ok("app", "deploy", "dep", "k8s", dep)
	if d, err := cs.AppsV1().Deployments("dep").Get(ctx, "greetings-deployment", metav1.GetOptions{}); err != nil || d.Status.AvailableReplicas != 1 {
		t.Fatalf("deployment from apps/v1beta1 YAML: %v %+v", err, d)
	}

	if e := u.fails("env", "delete", "k8s"); !strings.Contains(e, "--force") {
		t.Fatalf("env delete with apps: %s", e)
	}
	u.ok("env", "delete", "k8s", "--force")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "managed-by=cld"})
		if err != nil {
			t.Fatal(err)
		}
		if len(nss.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespaces left: %d", len(nss.Items))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, ns := range []string{"web", "pods", "dep"} {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
			t.Errorf("namespace %s left", ns)
		}
	}
	assertNoLeftovers(t, "cld-env=k8s")
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
