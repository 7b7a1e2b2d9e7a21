package kubeharness_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cloudark/cld/test/kubeharness"
)

func TestStartWithoutBinariesTellsHowToBuildThem(t *testing.T) {
	_, err := kubeharness.Start(context.Background(), kubeharness.Options{BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "scripts/build-kube.sh") {
		t.Fatalf("Start with an empty BinDir: got %v, want an error naming scripts/build-kube.sh", err)
	}
}

func TestStartReportsADeadProcessWithItsLog(t *testing.T) {
	kubeharness.RequireBinaries(t)
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false command")
	}
	t0 := time.Now()
	_, err = kubeharness.Start(context.Background(), kubeharness.Options{Etcd: falseBin, Timeout: time.Minute})
	if err == nil {
		t.Fatal("Start with a dead etcd succeeded")
	}
	for _, want := range []string{"etcd exited", "----- etcd", "----- kube-apiserver"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if d := time.Since(t0); d > 30*time.Second {
		t.Errorf("Start took %s to notice etcd died", d)
	}
}

// TestClusterDeploymentLifecycle runs a Deployment through a real control
// plane: schedule, run (kwok), expose, log, roll out a new image, delete.
func TestClusterDeploymentLifecycle(t *testing.T) {
	kubeharness.RequireBinaries(t)
	t0 := time.Now()
	c := kubeharness.StartT(t, kubeharness.Options{ContextName: "cld-test"})
	t.Logf("Start took %s", c.StartDuration.Round(time.Millisecond))
	defer func() { t.Logf("whole test took %s", time.Since(t0).Round(time.Millisecond)) }()

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// The kubeconfig file works on its own, with the chosen context.
	raw, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if raw.CurrentContext != "cld-test" {
		t.Fatalf("current context %q, want cld-test", raw.CurrentContext)
	}
	restCfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, "cld-test", nil, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(restCfg.Host, "https://127.0.0.1:") {
		t.Fatalf("server %q is not on loopback", restCfg.Host)
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if ver.GitVersion != kubeharness.KubeVersion {
		t.Errorf("server version %s, want %s", ver.GitVersion, kubeharness.KubeVersion)
	}

	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 2 {
		t.Fatalf("%d nodes, want 2", len(nodes.Items))
	}
	for _, n := range nodes.Items {
		if nodeAddress(&n, corev1.NodeExternalIP) == "" || nodeAddress(&n, corev1.NodeInternalIP) == "" {
			t.Errorf("node %s has addresses %v, want an InternalIP and an ExternalIP", n.Name, n.Status.Addresses)
		}
	}

	const ns = "harness-demo"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "default service account in "+ns, func() (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})

	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "registry.example/web:v1",
					Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []corev1.ServiceType{corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort} {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + strings.ToLower(string(typ)), Namespace: ns},
			Spec: corev1.ServiceSpec{
				Type:     typ,
				Selector: labels,
				Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
			},
		}
		if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	tDeploy := time.Now()
	waitRollout(t, ctx, cs, ns, "web", "registry.example/web:v1")
	t.Logf("deployment available with 2 replicas after %s", time.Since(tDeploy).Round(time.Millisecond))
	pods := runningPods(t, ctx, cs, ns)

	// Events: the scheduler's and the controllers'.
	waitFor(t, ctx, "Scheduled events for both pods", func() (bool, error) {
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=Scheduled"})
		if err != nil {
			return false, err
		}
		seen := map[string]bool{}
		for _, e := range evs.Items {
			seen[e.InvolvedObject.Name] = true
		}
		return seen[pods[0].Name] && seen[pods[1].Name], nil
	})
	evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, e := range evs.Items {
		reasons[e.InvolvedObject.Kind+"/"+e.Reason]++
	}
	t.Logf("events: %v", reasons)
	for _, want := range []string{"Deployment/ScalingReplicaSet", "ReplicaSet/SuccessfulCreate", "Pod/Scheduled"} {
		if reasons[want] == 0 {
			t.Errorf("no %s event", want)
		}
	}

	// Services: cluster IPs and node ports are allocated, and the
	// EndpointSlices list both pods as ready. No load balancer is ever
	// provisioned (no cloud provider), so its ingress stays empty.
	for _, name := range []string{"web-loadbalancer", "web-nodeport"} {
		svc, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(svc.Spec.ClusterIP, "10.96.") || svc.Spec.Ports[0].NodePort == 0 {
			t.Errorf("service %s: clusterIP %q nodePort %d", name, svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort)
		}
		waitFor(t, ctx, "2 ready endpoints for "+name, func() (bool, error) {
			sl, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
			if err != nil {
				return false, err
			}
			ready := 0
			for _, s := range sl.Items {
				for _, e := range s.Endpoints {
					if e.Conditions.Ready != nil && *e.Conditions.Ready {
						ready++
					}
				}
			}
			return ready == 2, nil
		})
	}

	// Logs through the apiserver, served by kwok as the nodes' kubelet.
	if err := c.SetPodLogs(ctx, ns, pods[0].Name, "app", "starting web", "listening on :8080"); err != nil {
		t.Fatal(err)
	}
	if got := podLog(t, ctx, cs, ns, pods[0].Name, &corev1.PodLogOptions{Container: "app"}); got != "starting web\nlistening on :8080\n" {
		t.Errorf("log of %s: %q", pods[0].Name, got)
	}
	if got := podLog(t, ctx, cs, ns, pods[0].Name, &corev1.PodLogOptions{Container: "app", TailLines: ptr(int64(1))}); got != "listening on :8080\n" {
		t.Errorf("log of %s, tail 1: %q", pods[0].Name, got)
	}
	// Following the log streams what AppendPodLogs adds.
	fctx, fcancel := context.WithTimeout(ctx, 20*time.Second)
	stream, err := cs.CoreV1().Pods(ns).GetLogs(pods[0].Name, &corev1.PodLogOptions{Container: "app", Follow: true}).Stream(fctx)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stream)
	var followed []string
	for len(followed) < 3 {
		if len(followed) == 2 {
			if err := c.AppendPodLogs(ctx, ns, pods[0].Name, "app", "GET / 200"); err != nil {
				t.Fatal(err)
			}
		}
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("following the log of %s: %v (got %q)", pods[0].Name, err, followed)
		}
		followed = append(followed, strings.TrimSuffix(line, "\n"))
	}
	stream.Close()
	fcancel()
	if want := []string{"starting web", "listening on :8080", "GET / 200"}; !slices.Equal(followed, want) {
		t.Errorf("followed %q, want %q", followed, want)
	}
	if err := c.SetNamespaceLogs(ctx, ns, "hello from "+ns); err != nil {
		t.Fatal(err)
	}
	if got := podLog(t, ctx, cs, ns, pods[1].Name, &corev1.PodLogOptions{}); got != "hello from "+ns+"\n" {
		t.Errorf("log of %s: %q", pods[1].Name, got)
	}

	// Rolling update to a new image.
	tRoll := time.Now()
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "registry.example/web:v2"
	if _, err := cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRollout(t, ctx, cs, ns, "web", "registry.example/web:v2")
	newPods := runningPods(t, ctx, cs, ns)
	for _, p := range newPods {
		if slices.ContainsFunc(pods, func(o corev1.Pod) bool { return o.Name == p.Name }) {
			t.Errorf("pod %s survived the rollout", p.Name)
		}
	}
	rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 2 {
		t.Errorf("%d replica sets after the rollout, want 2", len(rss.Items))
	}
	t.Logf("rolling update done in %s", time.Since(tRoll).Round(time.Millisecond))

	// Deleting the namespace removes everything in it.
	tDel := time.Now()
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "namespace "+ns+" to be gone", func() (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, nil
	})
	t.Logf("namespace deleted in %s", time.Since(tDel).Round(time.Millisecond))

	// Stop ends the processes and removes the files.
	addr := strings.TrimPrefix(c.Server, "https://")
	c.Stop()
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) && os.Getenv(kubeharness.KeepDirEnv) == "" {
		t.Errorf("%s still there after Stop: %v", c.Dir, err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("apiserver still listening on %s after Stop", addr)
	}
}

// waitRollout waits until every replica of the deployment runs image and is
// available, and the old ones are gone.
func waitRollout(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name, image string) {
	t.Helper()
	start, last := time.Now(), ""
	waitFor(t, ctx, "deployment "+name+" rolled out with "+image, func() (bool, error) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		st := d.Status
		if now := fmt.Sprintf("replicas=%d updated=%d ready=%d available=%d", st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas); now != last {
			t.Logf("%s: %s: %s", time.Since(start).Round(time.Millisecond), name, now)
			last = now
		}
		if d.Spec.Template.Spec.Containers[0].Image != image || st.ObservedGeneration < d.Generation ||
			st.Replicas != 2 || st.UpdatedReplicas != 2 || st.AvailableReplicas != 2 || st.ReadyReplicas != 2 {
			return false, nil
		}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		if len(pods.Items) != 2 {
			return false, nil
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning || p.Spec.Containers[0].Image != image || p.DeletionTimestamp != nil {
				return false, nil
			}
		}
		return true, nil
	})
}

func runningPods(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns string) []corev1.Pod {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Fatalf("%d pods, want 2", len(pods.Items))
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName == "" || p.Status.PodIP == "" {
			t.Fatalf("pod %s: phase %s node %q ip %q", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP)
		}
		if len(p.Status.ContainerStatuses) != 1 || !p.Status.ContainerStatuses[0].Ready {
			t.Fatalf("pod %s: container statuses %+v", p.Name, p.Status.ContainerStatuses)
		}
	}
	return pods.Items
}

func podLog(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, pod string, opts *corev1.PodLogOptions) string {
	t.Helper()
	b, err := cs.CoreV1().Pods(ns).GetLogs(pod, opts).DoRaw(ctx)
	if err != nil {
		t.Fatalf("logs of %s/%s: %v: %s", ns, pod, err, b)
	}
	return string(b)
}

// waitFor polls cond every 100ms, at most 600 times and until ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	start := time.Now()
	for range 600 {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("gave up waiting for %s after %s", what, time.Since(start).Round(time.Millisecond))
}

func nodeAddress(n *corev1.Node, typ corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return ""
}

func ptr[T any](v T) *T { return &v }
