// Package kubeharness starts a real, throw-away Kubernetes control plane for
// tests: etcd (v3.6.4), kube-apiserver, kube-controller-manager and
// kube-scheduler (v1.34.4), plus kwok (v0.8.0), which plays the kubelet of a
// few fake nodes so that scheduled pods become Running and Ready without any
// container runtime.
//
// Everything listens on 127.0.0.1 only, on free ports, with a fresh
// certificate authority, and lives in a temporary directory that Stop
// removes.
//
// The binaries come from scripts/build-kube.sh, which builds them with Go
// into $CLD_KUBE_BIN (default /var/cache/cld-kube/v1.34.4). When they are
// missing, Start fails with a message saying so: tests that need a cluster
// should fail, not skip, in CI (RequireBinaries does that). Available
// reports whether they are there.
//
// Debian's etcd (3.4.23) also runs, through Options.Etcd, but it lacks
// RequestWatchProgress, so the apiserver refuses the watch-list requests of
// kwok's informers, and pods then start and go away tens of seconds late.
//
// Pod logs: kwok serves the kubelet's containerLogs endpoint, so
// GET /api/v1/namespaces/NS/pods/POD/log works through the apiserver (which
// verifies kwok's certificate) once a test has said what the log holds, with
// Cluster.SetPodLogs, AppendPodLogs or SetNamespaceLogs.
//
// What there is not: no container runs (kwok only writes pod status; pod IPs
// come from PodCIDR and lead nowhere), no kube-proxy (Service cluster IPs and
// node ports are allocated but nothing listens), no cloud provider
// (LoadBalancer Services keep an empty status.loadBalancer), no exec, attach
// or port-forward.
package kubeharness

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	// KubeVersion is the Kubernetes version scripts/build-kube.sh builds.
	KubeVersion = "v1.34.4"
	// BinDirEnv names the environment variable that overrides DefaultBinDir.
	BinDirEnv = "CLD_KUBE_BIN"
	// KeepDirEnv, when set, makes Stop keep Cluster.Dir (logs, certificates)
	// for debugging.
	KeepDirEnv = "CLD_KUBE_KEEP"
	// DefaultBinDir is where scripts/build-kube.sh puts the binaries.
	DefaultBinDir = "/var/cache/cld-kube/" + KubeVersion

	// FakeNodeAnnotation marks the nodes that kwok manages; the harness sets
	// it to "fake" on the nodes it creates. Create more nodes with it to have
	// kwok manage them too.
	FakeNodeAnnotation = "kwok.x-k8s.io/node"

	// ServiceClusterIPRange is the apiserver's --service-cluster-ip-range.
	// Nothing routes to these addresses: there is no kube-proxy.
	ServiceClusterIPRange = "10.96.0.0/16"
	// PodCIDR is the range kwok gives pod IPs from. Nothing routes there.
	PodCIDR = "10.244.0.0/16"
)

//go:embed kwok-stages.yaml
var kwokStages string

// Options configures Start. The zero value is usable.
type Options struct {
	// ContextName is the kubeconfig context (and cluster) name.
	// Default "cld-kubeharness".
	ContextName string
	// KubeconfigPath is where the admin kubeconfig is written. Default
	// <Dir>/kubeconfig; Stop removes only a kubeconfig inside Dir.
	KubeconfigPath string
	// Nodes is the number of fake nodes (named kwok-node-0, ...).
	// 0 means 2; a negative number means none.
	Nodes int
	// NodeCPU, NodeMemory and NodePods are each node's capacity and
	// allocatable. Defaults "8", "32Gi", "110".
	NodeCPU, NodeMemory, NodePods string
	// BinDir holds etcd, kube-apiserver, kube-controller-manager,
	// kube-scheduler and kwok. Default $CLD_KUBE_BIN, else DefaultBinDir.
	BinDir string
	// Etcd overrides the etcd binary (a path, or a name to look up in PATH).
	// Default <BinDir>/etcd.
	Etcd string
	// Timeout bounds how long Start waits for the cluster to be usable.
	// Default 2 minutes.
	Timeout time.Duration
	// Logf, if set, receives progress messages (StartT uses tb.Logf).
	Logf func(format string, args ...any)
	// BearerToken, when set, is a static token the apiserver also accepts
	// (--token-auth-file), for user system:masters: what a kubeconfig
	// holding an OAuth access token (as GKE's do) presents.
	BearerToken string
}

// Cluster is a running control plane. Its fields are read-only.
type Cluster struct {
	// Dir is the temporary directory with certificates, kubeconfigs, process
	// logs (<name>.log) and kwok's files. Stop removes it.
	Dir string
	// Kubeconfig is the path of the admin kubeconfig (system:masters).
	Kubeconfig string
	// Context is the kubeconfig's current context.
	Context string
	// Server is the apiserver URL, https://127.0.0.1:PORT.
	Server string
	// Config is the admin REST config.
	Config *rest.Config
	// Client and Dynamic are admin clients.
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Nodes are the names of the fake nodes Start created.
	Nodes []string
	// StartDuration is how long Start took.
	StartDuration time.Duration

	etcdDir  string
	pki      *pki
	procs    []*proc
	kwokPort int
	kwokHTTP *http.Client
	logf     func(string, ...any)

	logsMu   sync.Mutex
	stopOnce sync.Once
}

// BinDir returns the directory the harness takes its binaries from.
func BinDir() string {
	if d := os.Getenv(BinDirEnv); d != "" {
		return d
	}
	return DefaultBinDir
}

var kubeBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// checkBinaries returns the paths of the binaries, or an error telling how to
// get them. etcd, if not empty, overrides <binDir>/etcd.
func checkBinaries(binDir, etcd string) (map[string]string, error) {
	paths := map[string]string{}
	var missing []string
	for _, b := range kubeBinaries {
		p := filepath.Join(binDir, b)
		if b == "etcd" && etcd != "" {
			p = etcd
			if lp, err := exec.LookPath(etcd); err == nil {
				p = lp
			}
		}
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, p)
			continue
		}
		paths[b] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("kubeharness: missing %s: run scripts/build-kube.sh (it builds them into $%s, default %s)",
			strings.Join(missing, ", "), BinDirEnv, DefaultBinDir)
	}
	return paths, nil
}

// Available reports whether the binaries Start needs are installed. Use it
// only for local convenience: CI should run the tests and let them fail.
func Available() bool {
	_, err := checkBinaries(BinDir(), "")
	return err == nil
}

// RequireBinaries fails the test when the binaries are missing and the CI
// environment variable is set (as it is in CI), and otherwise skips it with
// the message telling how to build them.
func RequireBinaries(tb testing.TB) {
	tb.Helper()
	_, err := checkBinaries(BinDir(), "")
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatal(err)
	}
	tb.Skipf("%v (skipped because CI is not set; in CI this fails)", err)
}

// StartT starts a cluster for a test, stopping it in tb.Cleanup. It fails
// the test, with the processes' logs, if the cluster does not come up. When
// the test fails, the logs' last lines are printed.
func StartT(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	if opts.Logf == nil {
		opts.Logf = tb.Logf
	}
	c, err := Start(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Log(c.LogTails(60))
		}
		c.Stop()
	})
	return c
}

// Start starts a cluster. The caller must call Stop. On error nothing is
// left running, and the error holds the last lines of the processes' logs.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	t0 := time.Now()
	if opts.ContextName == "" {
		opts.ContextName = "cld-kubeharness"
	}
	if opts.Nodes == 0 {
		opts.Nodes = 2
	}
	if opts.NodeCPU == "" {
		opts.NodeCPU = "8"
	}
	if opts.NodeMemory == "" {
		opts.NodeMemory = "32Gi"
	}
	if opts.NodePods == "" {
		opts.NodePods = "110"
	}
	if opts.BinDir == "" {
		opts.BinDir = BinDir()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bins, err := checkBinaries(opts.BinDir, opts.Etcd)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "cld-kube-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{Dir: dir, Context: opts.ContextName, logf: logf}
	defer func() {
		if err != nil {
			err = fmt.Errorf("kubeharness: start (after %s): %w\n%s", time.Since(t0).Round(time.Millisecond), err, c.LogTails(40))
			c.Stop()
			c = nil
		}
	}()
	// etcd fsyncs every write; on tmpfs that costs nothing.
	c.etcdDir, err = os.MkdirTemp(shmDir(), "cld-etcd-")
	if err != nil {
		return c, err
	}

	ports, err := freePorts(6)
	if err != nil {
		return c, err
	}
	etcdPort, etcdPeerPort, apiPort, kcmPort, schedPort, kwokPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	c.kwokPort = kwokPort
	c.Server = "https://127.0.0.1:" + strconv.Itoa(apiPort)

	// Certificates.
	p, err := newPKI(filepath.Join(dir, "pki"))
	if err != nil {
		return c, err
	}
	c.pki = p
	loopback := []net.IP{net.IPv4(127, 0, 0, 1)}
	serving, err := p.issue("apiserver", "kube-apiserver", nil, true, false,
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"})
	if err != nil {
		return c, err
	}
	local, err := p.issue("loopback-serving", "localhost", nil, true, false, loopback, []string{"localhost"})
	if err != nil {
		return c, err
	}
	admin, err := p.issue("admin", "cld-admin", []string{"system:masters"}, false, true, nil, nil)
	if err != nil {
		return c, err
	}
	kcm, err := p.issue("kube-controller-manager", "system:kube-controller-manager", nil, false, true, nil, nil)
	if err != nil {
		return c, err
	}
	sched, err := p.issue("kube-scheduler", "system:kube-scheduler", nil, false, true, nil, nil)
	if err != nil {
		return c, err
	}
	kwokClient, err := p.issue("kwok", "kwok-controller", []string{"system:masters"}, false, true, nil, nil)
	if err != nil {
		return c, err
	}
	kubeletClient, err := p.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, false, true, nil, nil)
	if err != nil {
		return c, err
	}
	frontProxy, err := p.issue("front-proxy-client", "front-proxy-client", nil, false, true, nil, nil)
	if err != nil {
		return c, err
	}
	saKey, saPub, err := p.serviceAccountKeys()
	if err != nil {
		return c, err
	}

	// Kubeconfigs.
	c.Kubeconfig = opts.KubeconfigPath
	if c.Kubeconfig == "" {
		c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	}
	if err := writeKubeconfig(c.Kubeconfig, opts.ContextName, c.Server, p.caPEM, admin); err != nil {
		return c, err
	}
	kcmKubeconfig := filepath.Join(dir, "kube-controller-manager.kubeconfig")
	schedKubeconfig := filepath.Join(dir, "kube-scheduler.kubeconfig")
	kwokKubeconfig := filepath.Join(dir, "kwok.kubeconfig")
	for path, kp := range map[string]*keyPair{kcmKubeconfig: kcm, schedKubeconfig: sched, kwokKubeconfig: kwokClient} {
		if err := writeKubeconfig(path, opts.ContextName, c.Server, p.caPEM, kp); err != nil {
			return c, err
		}
	}
	c.Config = &rest.Config{
		Host:            c.Server,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM, CertData: admin.CertPEM, KeyData: admin.KeyPEM},
		QPS:             100,
		Burst:           200,
		Timeout:         30 * time.Second,
	}
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return c, err
	}
	if c.Dynamic, err = dynamic.NewForConfig(c.Config); err != nil {
		return c, err
	}
	tlsHTTP, err := rest.HTTPClientFor(&rest.Config{Host: c.Server, TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM}, Timeout: 5 * time.Second})
	if err != nil {
		return c, err
	}
	c.kwokHTTP = tlsHTTP

	env := os.Environ()
	if runtime.GOARCH != "amd64" {
		env = append(env, "ETCD_UNSUPPORTED_ARCH="+runtime.GOARCH)
	}
	start := func(name string, args ...string) error {
		pr, err := startProc(dir, name, bins[name], args, env)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, pr)
		return nil
	}
	url := func(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

	// etcd and kube-apiserver.
	if err := start("etcd",
		"--name=default",
		"--data-dir="+c.etcdDir,
		"--listen-client-urls="+url(etcdPort),
		"--advertise-client-urls="+url(etcdPort),
		"--listen-peer-urls="+url(etcdPeerPort),
		"--initial-advertise-peer-urls="+url(etcdPeerPort),
		"--initial-cluster=default="+url(etcdPeerPort),
		"--initial-cluster-state=new",
		"--logger=zap",
		"--log-level=warn",
	); err != nil {
		return c, err
	}
	apiArgs := []string{}
	if opts.BearerToken != "" {
		tokenFile := filepath.Join(dir, "tokens.csv")
		line := fmt.Sprintf("%q,cld-bearer,cld-bearer,\"system:masters\"\n", opts.BearerToken)
		if err := os.WriteFile(tokenFile, []byte(line), 0o600); err != nil {
			return c, err
		}
		apiArgs = append(apiArgs, "--token-auth-file="+tokenFile)
	}
	if err := start("kube-apiserver", append(apiArgs,
		"--etcd-servers="+url(etcdPort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort),
		// The kubernetes Service's endpoints would be 127.0.0.1, which
		// Endpoints validation rejects.
		"--endpoint-reconciler-type=none",
		"--cert-dir="+filepath.Join(dir, "apiserver"),
		"--tls-cert-file="+serving.CertFile,
		"--tls-private-key-file="+serving.KeyFile,
		"--client-ca-file="+p.path("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saPub,
		"--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range="+ServiceClusterIPRange,
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		"--kubelet-certificate-authority="+p.path("ca.crt"),
		"--kubelet-client-certificate="+kubeletClient.CertFile,
		"--kubelet-client-key="+kubeletClient.KeyFile,
		"--kubelet-preferred-address-types=InternalIP",
		// Request-header authentication, as for aggregated API servers; the
		// controller manager and scheduler read it for their own serving.
		"--requestheader-client-ca-file="+p.path("ca.crt"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+frontProxy.CertFile,
		"--proxy-client-key-file="+frontProxy.KeyFile,
		"--profiling=false",
		"--v=1",
	)...); err != nil {
		return c, err
	}
	logf("kubeharness: etcd and kube-apiserver started (%s)", time.Since(t0).Round(time.Millisecond))
	if err := c.poll(ctx, 100*time.Millisecond, "kube-apiserver /readyz", func(ctx context.Context) (bool, error) {
		_, err := c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil, nil
	}); err != nil {
		return c, err
	}
	logf("kubeharness: kube-apiserver ready at %s (%s)", c.Server, time.Since(t0).Round(time.Millisecond))

	// Controllers and scheduler.
	if err := start("kube-controller-manager",
		"--kubeconfig="+kcmKubeconfig,
		"--authentication-kubeconfig="+kcmKubeconfig,
		"--authorization-kubeconfig="+kcmKubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(kcmPort),
		"--tls-cert-file="+local.CertFile,
		"--tls-private-key-file="+local.KeyFile,
		"--controllers=*",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+saKey,
		"--root-ca-file="+p.path("ca.crt"),
		"--cluster-signing-cert-file="+p.path("ca.crt"),
		"--cluster-signing-key-file="+p.path("ca.key"),
		"--cluster-name="+opts.ContextName,
		"--leader-elect=false",
		"--profiling=false",
		"--v=1",
	); err != nil {
		return c, err
	}
	if err := start("kube-scheduler",
		"--kubeconfig="+schedKubeconfig,
		"--authentication-kubeconfig="+schedKubeconfig,
		"--authorization-kubeconfig="+schedKubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(schedPort),
		"--tls-cert-file="+local.CertFile,
		"--tls-private-key-file="+local.KeyFile,
		"--leader-elect=false",
		"--profiling=false",
		"--v=1",
	); err != nil {
		return c, err
	}

	// kwok: its Logs and ClusterLogs CRDs first, since it watches them.
	if err := c.installKwokCRDs(ctx); err != nil {
		return c, err
	}
	kwokConfig := filepath.Join(dir, "kwok.yaml")
	if err := os.WriteFile(kwokConfig, []byte(kwokStages), 0o600); err != nil {
		return c, err
	}
	kwokHome := filepath.Join(dir, "kwok-home") // keeps ~/.kwok/kwok.yaml out
	if err := os.MkdirAll(kwokHome, 0o700); err != nil {
		return c, err
	}
	kwokEnv := append(append([]string{}, env...), "HOME="+kwokHome)
	pr, err := startProc(dir, "kwok", bins["kwok"], []string{
		"--kubeconfig=" + kwokKubeconfig,
		"--config=" + kwokConfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + FakeNodeAnnotation + "=fake",
		"--node-ip=127.0.0.1",
		"--node-port=" + strconv.Itoa(kwokPort),
		"--server-address=127.0.0.1:" + strconv.Itoa(kwokPort),
		"--tls-cert-file=" + local.CertFile,
		"--tls-private-key-file=" + local.KeyFile,
		"--cidr=" + PodCIDR,
		"--node-lease-duration-seconds=40",
		"--enable-crds=Logs,ClusterLogs",
	}, kwokEnv)
	if err != nil {
		return c, err
	}
	c.procs = append(c.procs, pr)

	// Fake nodes.
	for i := 0; i < opts.Nodes; i++ {
		name := "kwok-node-" + strconv.Itoa(i)
		if err := c.createNode(ctx, name, i, opts); err != nil {
			return c, err
		}
		c.Nodes = append(c.Nodes, name)
	}

	// Usable: nodes Ready and schedulable, a default service account, and a
	// healthy scheduler.
	if err := c.poll(ctx, 100*time.Millisecond, "nodes Ready without not-ready taints", func(ctx context.Context) (bool, error) {
		for _, n := range c.Nodes {
			node, err := c.Client.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
			if err != nil || !nodeReady(node) {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		return c, err
	}
	logf("kubeharness: %d nodes Ready (%s)", len(c.Nodes), time.Since(t0).Round(time.Millisecond))
	if err := c.poll(ctx, 100*time.Millisecond, "serviceaccount default/default", func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		return c, err
	}
	if err := c.poll(ctx, 100*time.Millisecond, "kube-scheduler /healthz", func(ctx context.Context) (bool, error) {
		return c.httpOK(ctx, "https://127.0.0.1:"+strconv.Itoa(schedPort)+"/healthz"), nil
	}); err != nil {
		return c, err
	}
	c.StartDuration = time.Since(t0)
	logf("kubeharness: cluster %q ready in %s (kubeconfig %s)", opts.ContextName, c.StartDuration.Round(time.Millisecond), c.Kubeconfig)
	return c, nil
}

// Stop stops every process (SIGTERM, then SIGKILL, to each process group) and
// removes the temporary directories (Dir stays if $CLD_KUBE_KEEP is set). It is safe to call more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		var wg sync.WaitGroup
		// Everything but etcd first, so the apiserver does not spend its
		// grace period retrying a dead etcd.
		for _, p := range c.procs {
			if p.name == "etcd" {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.stop(3 * time.Second)
			}()
		}
		wg.Wait()
		for _, p := range c.procs {
			if p.name == "etcd" {
				p.stop(3 * time.Second)
			}
		}
		if c.etcdDir != "" {
			_ = os.RemoveAll(c.etcdDir)
		}
		if c.Dir != "" && os.Getenv(KeepDirEnv) == "" {
			_ = os.RemoveAll(c.Dir)
		} else if c.Dir != "" {
			c.logf("kubeharness: %s is set: keeping %s", KeepDirEnv, c.Dir)
		}
	})
}

// LogTails returns the last n lines of every process's log.
func (c *Cluster) LogTails(n int) string {
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "----- %s (last %d lines of %s) -----\n%s\n", p.name, n, p.logPath, p.tail(n))
	}
	return b.String()
}

// LogPath returns the log file of a process: "etcd", "kube-apiserver",
// "kube-controller-manager", "kube-scheduler" or "kwok".
func (c *Cluster) LogPath(name string) string {
	return filepath.Join(c.Dir, name+".log")
}

// poll calls cond every interval until it returns true, ctx ends, or a
// process dies.
func (c *Cluster) poll(ctx context.Context, interval time.Duration, what string, cond func(context.Context) (bool, error)) error {
	for {
		for _, p := range c.procs {
			if dead, err := p.exited(); dead {
				return fmt.Errorf("waiting for %s: %w", what, err)
			}
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := cond(cctx)
		cancel()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(interval):
		}
	}
}

func (c *Cluster) httpOK(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.kwokHTTP.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (c *Cluster) createNode(ctx context.Context, name string, i int, opts Options) error {
	rl := corev1.ResourceList{}
	for k, v := range map[corev1.ResourceName]string{
		corev1.ResourceCPU: opts.NodeCPU, corev1.ResourceMemory: opts.NodeMemory, corev1.ResourcePods: opts.NodePods,
	} {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return fmt.Errorf("node %s: %w", k, err)
		}
		rl[k] = q
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{FakeNodeAnnotation: "fake"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    rl,
			Allocatable: rl.DeepCopy(),
			Addresses: []corev1.NodeAddress{
				// The apiserver reaches the node's "kubelet" (kwok) here.
				{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
				// Distinct per node, on loopback too.
				{Type: corev1.NodeExternalIP, Address: "127.0.0." + strconv.Itoa(10+i)},
				{Type: corev1.NodeHostName, Address: name},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{
				KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(c.kwokPort)},
			},
		},
	}
	_, err := c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	ready := false
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	return ready
}

func writeKubeconfig(path, name, server string, caPEM []byte, kp *keyPair) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	user := name + "-admin"
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.CertPEM, ClientKeyData: kp.KeyPEM}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: user, Namespace: "default"}
	cfg.CurrentContext = name
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return clientcmd.WriteToFile(*cfg, path)
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func shmDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "cld-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return ""
}
