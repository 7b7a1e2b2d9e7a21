// Package client is the Go client of cld's REST API. It starts the server in
// the background when none answers on the socket.
package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/cloudark/cld/internal/api"
	"github.com/cloudark/cld/internal/state"
)

// Client talks to one cld server.
type Client struct {
	layout state.Layout
	http   *http.Client
	// Exe is the binary started as `cld server` when none answers.
	Exe string
}

// New returns a client of the server on the layout's socket.
func New(layout state.Layout) *Client {
	sock := layout.Socket()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		MaxIdleConns: 4,
	}
	exe, _ := os.Executable()
	return &Client{layout: layout, http: &http.Client{Transport: tr}, Exe: exe}
}

// APIError is an error answered by the server.
type APIError struct {
	Status int
	Msg    string
}

func (e *APIError) Error() string { return e.Msg }

// IsNotFound reports a 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// IsBadInput reports a 400: the user's input was refused, nothing was made.
func IsBadInput(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://cld"+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cld server: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e api.Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("cld server answered %s: %s", resp.Status, bytes.TrimSpace(b))
		}
		return &APIError{Status: resp.StatusCode, Msg: e.Error}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, "", out)
}

func (c *Client) sendJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, bytes.NewReader(b), "application/json", out)
}

// Version asks the server who it is.
func (c *Client) Version(ctx context.Context) (*api.ServerInfo, error) {
	var v api.ServerInfo
	return &v, c.getJSON(ctx, "/v1/version", &v)
}

// Ensure makes sure a server of this version answers, starting one if none does.
func (c *Client) Ensure(ctx context.Context) error {
	info, err := c.Version(ctx)
	if err == nil {
		if info.Version == api.Version || info.Running > 0 {
			return nil
		}
		// An older server from before an upgrade: replace it while it is idle.
		c.Shutdown(ctx)
		c.waitGone(ctx, 5*time.Second)
	}
	if err := c.startServer(); err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		if _, err := c.Version(ctx); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("started `cld server` but it did not answer on %s within 15s; see %s", c.layout.Socket(), c.layout.ServerLog())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

func (c *Client) waitGone(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := c.Version(ctx); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startServer starts `cld server` detached from this process (its own session,
// output to the server log), so it outlives the command that started it.
func (c *Client) startServer() error {
	if err := os.MkdirAll(c.layout.Home, 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(c.layout.ServerLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(c.Exe, "server")
	cmd.Env = append(os.Environ(), "CLD_HOME="+c.layout.Home)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start cld server: %w", err)
	}
	return cmd.Process.Release()
}

// Shutdown asks the server to stop; running operations resume at its next start.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.sendJSON(ctx, http.MethodPost, "/v1/shutdown", struct{}{}, nil)
}

// CreateEnv starts creating an environment.
func (c *Client) CreateEnv(ctx context.Context, d api.Definition) (*api.Accepted, error) {
	var a api.Accepted
	return &a, c.sendJSON(ctx, http.MethodPost, "/v1/envs", d, &a)
}

// DeleteEnv starts deleting an environment.
func (c *Client) DeleteEnv(ctx context.Context, name string, force bool) (*api.Accepted, error) {
	var a api.Accepted
	return &a, c.do(ctx, http.MethodDelete, "/v1/envs/"+url.PathEscape(name)+"?force="+fmt.Sprint(force), nil, "", &a)
}

// List lists environments ("envs"), apps or containers.
func (c *Client) List(ctx context.Context, noun, env string) ([]api.Object, error) {
	var out []api.Object
	q := ""
	if env != "" {
		q = "?env=" + url.QueryEscape(env)
	}
	return out, c.getJSON(ctx, "/v1/"+noun+q, &out)
}

// Show returns one environment, app or container with its elements.
func (c *Client) Show(ctx context.Context, noun, name string) (*api.Detail, error) {
	var d api.Detail
	return &d, c.getJSON(ctx, "/v1/"+noun+"/"+url.PathEscape(name), &d)
}

// History lists the operations that changed an environment.
func (c *Client) History(ctx context.Context, env string) ([]api.Operation, error) {
	var out []api.Operation
	return out, c.getJSON(ctx, "/v1/envs/"+url.PathEscape(env)+"/history", &out)
}

// Resources lists bindable resources, with secret values only if asked.
func (c *Client) Resources(ctx context.Context, env string, secrets bool) ([]api.Resource, error) {
	var out []api.Resource
	return out, c.getJSON(ctx, fmt.Sprintf("/v1/resources?env=%s&secrets=%v", url.QueryEscape(env), secrets), &out)
}

// CreateContainer uploads a build context (a tar stream) and starts the build.
// clientEnv (the user's AWS_REGION, CLOUDSDK_CORE_PROJECT...) decides where
// a cloud registry is, as for environments.
func (c *Client) CreateContainer(ctx context.Context, name, registry string, tarball io.Reader, clientEnv map[string]string) (*api.Accepted, error) {
	var a api.Accepted
	path := fmt.Sprintf("/v1/containers?name=%s&registry=%s", url.QueryEscape(name), url.QueryEscape(registry))
	if len(clientEnv) > 0 {
		b, err := json.Marshal(clientEnv)
		if err != nil {
			return nil, err
		}
		path += "&client_env=" + base64.RawURLEncoding.EncodeToString(b)
	}
	return &a, c.do(ctx, http.MethodPost, path, tarball, "application/x-tar", &a)
}

// Delete starts deleting an app or container.
func (c *Client) Delete(ctx context.Context, noun, name string) (*api.Accepted, error) {
	var a api.Accepted
	return &a, c.do(ctx, http.MethodDelete, "/v1/"+noun+"/"+url.PathEscape(name), nil, "", &a)
}

// DeployApp starts deploying an app.
func (c *Client) DeployApp(ctx context.Context, d api.Definition) (*api.Accepted, error) {
	var a api.Accepted
	return &a, c.sendJSON(ctx, http.MethodPost, "/v1/apps", d, &a)
}

// RedeployApp starts replacing an app with a new definition.
func (c *Client) RedeployApp(ctx context.Context, d api.Definition) (*api.Accepted, error) {
	var a api.Accepted
	return &a, c.sendJSON(ctx, http.MethodPost, "/v1/apps/"+url.PathEscape(d.Name)+"/redeploy", d, &a)
}

// Operation long-polls an operation for events after `after`.
func (c *Client) Operation(ctx context.Context, id string, after int, wait time.Duration) (*api.Progress, error) {
	var p api.Progress
	return &p, c.getJSON(ctx, fmt.Sprintf("/v1/operations/%s?after=%d&wait=%s", url.PathEscape(id), after, wait), &p)
}

// LogOptions select an app's logs.
type LogOptions struct {
	Follow bool
	Tail   int
	Since  time.Time
	Part   string // "", "deployment", "runtime"
}

// Logs streams an app's logs into w.
func (c *Client) Logs(ctx context.Context, app string, o LogOptions, w io.Writer) error {
	q := url.Values{}
	q.Set("follow", fmt.Sprint(o.Follow))
	q.Set("tail", fmt.Sprint(o.Tail))
	if !o.Since.IsZero() {
		q.Set("since", o.Since.Format(time.RFC3339Nano))
	}
	q.Set("part", o.Part)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://cld/v1/apps/"+url.PathEscape(app)+"/logs?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e api.Error
		json.NewDecoder(resp.Body).Decode(&e)
		return &APIError{Status: resp.StatusCode, Msg: e.Error}
	}
	_, err = io.Copy(w, resp.Body)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Doctor reports strays and drift.
func (c *Client) Doctor(ctx context.Context) (*api.Doctor, error) {
	var d api.Doctor
	return &d, c.getJSON(ctx, "/v1/doctor", &d)
}

// Proxy returns an HTTP handler that forwards to the server (for the web view on TCP).
func (c *Client) Proxy() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "the web view is read-only", http.StatusMethodNotAllowed)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://cld"+r.URL.RequestURI(), nil)
		resp, err := c.http.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
}
