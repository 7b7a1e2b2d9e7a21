package gcloud

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cloudark/cld/internal/provider"
)

// GKE access without gcloud: the environment's folder holds a kubeconfig
// (cluster endpoint and CA from the GKE API) whose user reads its bearer
// token from a file, an OAuth 2.0 access token of the application default
// credentials, as `gcloud container clusters get-credentials` would arrange
// through gke-gcloud-auth-plugin. cld rewrites the token file whenever it
// works with the cluster and less than refreshMargin of the token is left;
// client-go (and kubectl in `cld env shell`) re-read it.
const (
	kubeconfigFile = "gke-kubeconfig"
	tokenFile      = "gke-token"
	authFile       = "gke-auth.json"
	refreshMargin  = 20 * time.Minute
)

type authState struct {
	Settings Settings  `json:"settings"`
	Expiry   time.Time `json:"expiry"`
}

// kubeconfigSpec is the desired state of the GKE kubeconfig element.
type kubeconfigSpec struct {
	Settings Settings `json:"gcloud"`
	Cluster  string   `json:"cluster"`
	Dir      string   `json:"dir"`
}

// KubeconfigPath is where the GKE kubeconfig of an environment folder is.
func KubeconfigPath(dir string) string { return filepath.Join(dir, kubeconfigFile) }

type kubeconfigHandler struct{ t *Target }

func (h kubeconfigHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s kubeconfigSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	h.t.remember(s.Settings)
	cfg, err := clientcmd.LoadFromFile(KubeconfigPath(s.Dir))
	if os.IsNotExist(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{Exists: true, Incomplete: true}, nil // rewrite it
	}
	ctxName := req.Element.Name
	kc, ok := cfg.Contexts[ctxName]
	if !ok || cfg.Clusters[kc.Cluster] == nil {
		return provider.Observation{Exists: true, Incomplete: true}, nil
	}
	if err := h.t.refreshToken(ctx, s.Dir, false); err != nil {
		return provider.Observation{}, err
	}
	server := cfg.Clusters[kc.Cluster].Server
	return provider.Observation{Exists: true, Ready: true, Ref: server, Outputs: map[string]string{"Context": ctxName, "Server": server}}, nil
}

func (h kubeconfigHandler) Create(ctx context.Context, req *provider.Request) error {
	var s kubeconfigSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	cl, err := c.container.Projects.Locations.Clusters.Get(clusterPath(s.Settings, s.Cluster)).Context(ctx).Do()
	if err != nil {
		return classify(err, "GKE cluster %s", s.Cluster)
	}
	if cl.Endpoint == "" || cl.MasterAuth == nil || cl.MasterAuth.ClusterCaCertificate == "" {
		return fmt.Errorf("GKE cluster %s has no endpoint yet (status %s)", s.Cluster, cl.Status)
	}
	ca, err := base64.StdEncoding.DecodeString(cl.MasterAuth.ClusterCaCertificate)
	if err != nil {
		return provider.Permanent(fmt.Errorf("GKE cluster %s: bad CA certificate: %v", s.Cluster, err))
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return provider.Permanent(err)
	}
	if err := writeJSON(filepath.Join(s.Dir, authFile), authState{Settings: s.Settings}); err != nil {
		return err
	}
	if err := h.t.refreshToken(ctx, s.Dir, true); err != nil {
		return err
	}
	name := req.Element.Name
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: "https://" + cl.Endpoint, CertificateAuthorityData: ca}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{TokenFile: filepath.Join(s.Dir, tokenFile)}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	return clientcmd.WriteToFile(*cfg, KubeconfigPath(s.Dir))
}

func (h kubeconfigHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s kubeconfigSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	for _, f := range []string{kubeconfigFile, tokenFile, authFile} {
		if err := os.Remove(filepath.Join(s.Dir, f)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// refreshToken writes a new access token into dir's token file when the one
// there has less than refreshMargin left (or force). A fresh credentials
// object is used, so the token is new, not the library's cached one.
func (t *Target) refreshToken(ctx context.Context, dir string, force bool) error {
	t.refreshMu.Lock()
	defer t.refreshMu.Unlock()
	var st authState
	b, err := os.ReadFile(filepath.Join(dir, authFile))
	if err != nil {
		if os.IsNotExist(err) {
			return nil // not a GKE kubeconfig
		}
		return err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return provider.Permanent(fmt.Errorf("%s: %v", authFile, err))
	}
	if !force && fileExists(filepath.Join(dir, tokenFile)) && time.Until(st.Expiry) > refreshMargin {
		return nil
	}
	creds, err := st.Settings.credentials()
	if err != nil {
		return err
	}
	tok, err := creds.Token(ctx)
	if err != nil {
		return classifyAuth(err)
	}
	if err := writeFile(filepath.Join(dir, tokenFile), []byte(tok.Value)); err != nil {
		return err
	}
	st.Expiry = tok.Expiry
	if st.Expiry.IsZero() {
		st.Expiry = time.Now().Add(time.Hour)
	}
	return writeJSON(filepath.Join(dir, authFile), st)
}

// refreshFor keeps the token fresh for an element of the Kubernetes runtime
// whose access is a GKE kubeconfig cld wrote.
func (t *Target) refreshFor(ctx context.Context, el *provider.Element) error {
	var a struct {
		Kubeconfig string `json:"kubeconfig"`
	}
	if len(el.Spec) == 0 || json.Unmarshal(el.Spec, &a) != nil || a.Kubeconfig == "" {
		return nil
	}
	for _, p := range filepath.SplitList(a.Kubeconfig) {
		if filepath.Base(p) == kubeconfigFile {
			return t.refreshToken(ctx, filepath.Dir(p), false)
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, b)
}

// writeFile replaces path atomically, readable by its owner only.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// The Kubernetes runtime's handlers, wrapped so the token is fresh before
// each call. The wrapper keeps exactly the optional interfaces (Borrowed,
// Updater, Waiter) of the handler it wraps: the engine decides by them.
type kubeHandler struct {
	t *Target
	h provider.Handler
}

func (k kubeHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	if err := k.t.refreshFor(ctx, req.Element); err != nil {
		return provider.Observation{}, err
	}
	return k.h.Observe(ctx, req)
}

func (k kubeHandler) Create(ctx context.Context, req *provider.Request) error {
	if err := k.t.refreshFor(ctx, req.Element); err != nil {
		return err
	}
	return k.h.Create(ctx, req)
}

func (k kubeHandler) Delete(ctx context.Context, req *provider.Request) error {
	if err := k.t.refreshFor(ctx, req.Element); err != nil {
		return err
	}
	return k.h.Delete(ctx, req)
}

type borrowedPart struct{ b provider.Borrowed }

func (p borrowedPart) Borrowed(el *provider.Element) bool { return p.b.Borrowed(el) }

type updaterPart struct {
	t *Target
	u provider.Updater
}

func (p updaterPart) Update(ctx context.Context, req *provider.Request, old *provider.Element) error {
	if err := p.t.refreshFor(ctx, req.Element); err != nil {
		return err
	}
	return p.u.Update(ctx, req, old)
}

type waiterPart struct{ w provider.Waiter }

func (p waiterPart) ReadyTimeout(el *provider.Element) time.Duration { return p.w.ReadyTimeout(el) }

func (t *Target) wrapKube(h provider.Handler) provider.Handler {
	base := kubeHandler{t: t, h: h}
	b, isB := h.(provider.Borrowed)
	u, isU := h.(provider.Updater)
	w, isW := h.(provider.Waiter)
	bp, up, wp := borrowedPart{b}, updaterPart{t, u}, waiterPart{w}
	switch {
	case isB && isU && isW:
		return struct {
			kubeHandler
			borrowedPart
			updaterPart
			waiterPart
		}{base, bp, up, wp}
	case isB && isU:
		return struct {
			kubeHandler
			borrowedPart
			updaterPart
		}{base, bp, up}
	case isB && isW:
		return struct {
			kubeHandler
			borrowedPart
			waiterPart
		}{base, bp, wp}
	case isU && isW:
		return struct {
			kubeHandler
			updaterPart
			waiterPart
		}{base, up, wp}
	case isB:
		return struct {
			kubeHandler
			borrowedPart
		}{base, bp}
	case isU:
		return struct {
			kubeHandler
			updaterPart
		}{base, up}
	case isW:
		return struct {
			kubeHandler
			waiterPart
		}{base, wp}
	}
	return base
}
