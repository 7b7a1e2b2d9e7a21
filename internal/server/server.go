// Package server is cld's engine behind a REST API on a unix socket (mode
// 0600). The CLI is a thin client of it; long operations run as jobs here.
package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/cloudark/cld/internal/api"
	"github.com/cloudark/cld/internal/engine"
	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/state"
)

// Options configure a server.
type Options struct {
	Layout  state.Layout
	Targets *provider.Registry
	Log     *slog.Logger
}

// Server serves the API.
type Server struct {
	eng    *engine.Engine
	layout state.Layout
	log    *slog.Logger
	stop   chan struct{}
}

// Run opens the state, resumes interrupted operations and serves on the
// socket until SIGTERM/SIGINT or a shutdown request.
func Run(ctx context.Context, o Options) error {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	store, err := state.OpenSQLite(o.Layout.Database())
	if err != nil {
		return err
	}
	defer store.Close()
	install, err := o.Layout.InstallID()
	if err != nil {
		return fmt.Errorf("installation id: %w", err)
	}
	eng := engine.New(engine.Options{Store: state.NewCached(store), Targets: o.Targets, Layout: o.Layout, Log: o.Log, Install: install})
	s := &Server{eng: eng, layout: o.Layout, log: o.Log, stop: make(chan struct{})}

	ln, err := listenUnix(o.Layout.Socket())
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	if err := eng.Resume(); err != nil {
		o.Log.Error("resume", "err", err)
	}
	pidFile := filepath.Join(o.Layout.Home, "server.pid")
	os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	defer os.Remove(pidFile)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	o.Log.Info("cld server listening", "socket", o.Layout.Socket(), "version", api.Version, "pid", os.Getpid())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	select {
	case <-ctx.Done():
	case <-sig:
	case <-s.stop:
	case err := <-errc:
		return err
	}
	o.Log.Info("cld server stopping")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(shutCtx)
	eng.Shutdown() // running jobs stop where they are; the next start resumes them
	os.Remove(o.Layout.Socket())
	return nil
}

// listenUnix listens on the socket, replacing a stale one, with mode 0600.
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("a cld server already answers on %s", path)
	}
	os.Remove(path)
	old := syscallUmask(0o177)
	ln, err := net.Listen("unix", path)
	syscallUmask(old)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

func syscallUmask(m int) int { return syscall.Umask(m) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/version", s.version)
	mux.HandleFunc("POST /v1/shutdown", s.shutdown)

	mux.HandleFunc("POST /v1/envs", s.createEnv)
	mux.HandleFunc("GET /v1/envs", s.list(state.KindEnv))
	mux.HandleFunc("GET /v1/envs/{name}", s.show(state.KindEnv))
	mux.HandleFunc("DELETE /v1/envs/{name}", s.deleteEnv)
	mux.HandleFunc("GET /v1/envs/{name}/history", s.history)
	mux.HandleFunc("GET /v1/resources", s.resources)

	mux.HandleFunc("POST /v1/containers", s.createContainer)
	mux.HandleFunc("GET /v1/containers", s.list(state.KindContainer))
	mux.HandleFunc("GET /v1/containers/{name}", s.show(state.KindContainer))
	mux.HandleFunc("DELETE /v1/containers/{name}", s.deleteContainer)

	mux.HandleFunc("POST /v1/apps", s.deployApp)
	mux.HandleFunc("POST /v1/apps/{name}/redeploy", s.redeployApp)
	mux.HandleFunc("GET /v1/apps", s.list(state.KindApp))
	mux.HandleFunc("GET /v1/apps/{name}", s.show(state.KindApp))
	mux.HandleFunc("DELETE /v1/apps/{name}", s.deleteApp)
	mux.HandleFunc("GET /v1/apps/{name}/logs", s.logs)

	mux.HandleFunc("GET /v1/operations/{id}", s.operation)
	mux.HandleFunc("GET /v1/doctor", s.doctor)

	mux.HandleFunc("GET /{$}", s.dashboard)
	mux.HandleFunc("GET /ui/envs/{name}", s.dashboardEnv)
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// writeError maps engine errors to HTTP status codes.
func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var in *engine.InputError
	var conflict *engine.ConflictError
	switch {
	case errors.As(err, &in):
		code = http.StatusBadRequest
	case errors.As(err, &conflict):
		code = http.StatusConflict
	case errors.Is(err, state.ErrNotFound):
		code = http.StatusNotFound
	}
	writeJSON(w, code, api.Error{Error: err.Error()})
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, api.ServerInfo{Version: api.Version, PID: os.Getpid(), Running: s.eng.Running(), Targets: s.eng.Targets().Names()})
}

func (s *Server) shutdown(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]string{"status": "stopping"})
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
}

func readDefinition(r *http.Request) (api.Definition, error) {
	var d api.Definition
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&d); err != nil {
		return d, &engine.InputError{Err: fmt.Errorf("bad request body: %w", err)}
	}
	return d, nil
}

func (s *Server) accepted(w http.ResponseWriter, r *http.Request, kind, name string, op *state.Operation, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	o, err := s.eng.Store().GetObject(r.Context(), kind, name)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, api.Accepted{Operation: opView(op), Object: s.objView(o)})
}

func (s *Server) createEnv(w http.ResponseWriter, r *http.Request) {
	d, err := readDefinition(r)
	if err != nil {
		writeError(w, err)
		return
	}
	op, err := s.eng.CreateEnv(r.Context(), d.Name, d.File, d.Source, d.ClientEnv)
	s.accepted(w, r, state.KindEnv, d.Name, op, err)
}

func (s *Server) deleteEnv(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	force, _ := strconv.ParseBool(r.URL.Query().Get("force"))
	op, err := s.eng.DeleteEnv(r.Context(), name, force)
	s.accepted(w, r, state.KindEnv, name, op, err)
}

func (s *Server) deployApp(w http.ResponseWriter, r *http.Request) {
	d, err := readDefinition(r)
	if err != nil {
		writeError(w, err)
		return
	}
	op, err := s.eng.DeployApp(r.Context(), d.Name, d.Env, d.File, d.Source, d.ClientEnv)
	s.accepted(w, r, state.KindApp, d.Name, op, err)
}

func (s *Server) redeployApp(w http.ResponseWriter, r *http.Request) {
	d, err := readDefinition(r)
	if err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	op, err := s.eng.RedeployApp(r.Context(), name, d.File, d.Source, d.ClientEnv)
	s.accepted(w, r, state.KindApp, name, op, err)
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	op, err := s.eng.DeleteApp(r.Context(), name)
	s.accepted(w, r, state.KindApp, name, op, err)
}

// createContainer takes the build context as the request body (a tar stream)
// and keeps it in the container's folder: the build runs from there, so a
// restarted server can build again, and a remote server works the same way.
func (s *Server) createContainer(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, registry := q.Get("name"), q.Get("registry")
	var clientEnv map[string]string
	if v := q.Get("client_env"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err == nil {
			err = json.Unmarshal(b, &clientEnv)
		}
		if err != nil {
			writeError(w, &engine.InputError{Err: fmt.Errorf("client_env: %w", err)})
			return
		}
	}
	dir := s.layout.Folder(state.KindContainer, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		writeError(w, err)
		return
	}
	tmp, err := os.CreateTemp(dir, "context-*.tar")
	if err != nil {
		writeError(w, err)
		return
	}
	_, err = io.Copy(tmp, http.MaxBytesReader(w, r.Body, 8<<30))
	tmp.Close()
	if err != nil {
		os.Remove(tmp.Name())
		writeError(w, &engine.InputError{Err: fmt.Errorf("upload of the build context failed: %w", err)})
		return
	}
	op, err := s.eng.CreateContainer(r.Context(), name, registry, tmp.Name(), clientEnv)
	if err != nil {
		os.Remove(tmp.Name())
	}
	s.accepted(w, r, state.KindContainer, name, op, err)
}

func (s *Server) deleteContainer(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	op, err := s.eng.DeleteContainer(r.Context(), name)
	s.accepted(w, r, state.KindContainer, name, op, err)
}

func (s *Server) list(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		objs, err := s.eng.Store().ListObjects(r.Context(), kind, r.URL.Query().Get("env"))
		if err != nil {
			writeError(w, err)
			return
		}
		out := make([]api.Object, len(objs))
		for i, o := range objs {
			out[i] = s.objView(o)
		}
		writeJSON(w, 200, out)
	}
}

func (s *Server) show(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, err := s.detail(r.Context(), kind, r.PathValue("name"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, 200, d)
	}
}

func (s *Server) detail(ctx context.Context, kind, name string) (*api.Detail, error) {
	o, err := s.eng.Store().GetObject(ctx, kind, name)
	if err != nil {
		return nil, err
	}
	els, err := s.eng.Store().Elements(ctx, state.Owner(kind, name))
	if err != nil {
		return nil, err
	}
	d := &api.Detail{Object: s.objView(o), Elements: []api.Element{}}
	for _, e := range els {
		d.Elements = append(d.Elements, elementView(e))
	}
	if kind == state.KindEnv {
		apps, err := s.eng.Store().ListObjects(ctx, state.KindApp, name)
		if err != nil {
			return nil, err
		}
		for _, a := range apps {
			d.Apps = append(d.Apps, s.objView(a))
		}
	}
	return d, nil
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	ops, err := s.eng.Store().Operations(r.Context(), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	if len(ops) == 0 {
		if _, err := s.eng.Store().GetObject(r.Context(), state.KindEnv, r.PathValue("name")); err != nil {
			writeError(w, err)
			return
		}
	}
	out := make([]api.Operation, len(ops))
	for i, op := range ops {
		out[i] = opView(op)
	}
	writeJSON(w, 200, out)
}

// resources lists bindable resources with every attribute; secret values only
// when asked (secrets=true), masked otherwise.
func (s *Server) resources(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	env := r.URL.Query().Get("env")
	showSecrets, _ := strconv.ParseBool(r.URL.Query().Get("secrets"))
	var envs []*state.Object
	if env != "" {
		o, err := s.eng.Store().GetObject(ctx, state.KindEnv, env)
		if err != nil {
			writeError(w, err)
			return
		}
		envs = []*state.Object{o}
	} else {
		var err error
		if envs, err = s.eng.Store().ListObjects(ctx, state.KindEnv, ""); err != nil {
			writeError(w, err)
			return
		}
	}
	out := []api.Resource{}
	for _, o := range envs {
		els, err := s.eng.Store().Elements(ctx, state.Owner(state.KindEnv, o.Name))
		if err != nil {
			writeError(w, err)
			return
		}
		for _, e := range els {
			if e.BindType == "" {
				continue
			}
			res := api.Resource{Env: o.Name, Type: e.BindType, Name: e.Name, Status: e.Status, Attributes: map[string]string{}}
			for k, v := range e.Outputs {
				res.Attributes[k] = v
			}
			for k, v := range e.Secrets {
				res.Secret = append(res.Secret, k)
				if showSecrets {
					res.Attributes[k] = v
				} else {
					res.Attributes[k] = "********"
				}
			}
			out = append(out, res)
		}
	}
	writeJSON(w, 200, out)
}

// operation answers a long poll: events after `after`, waiting up to `wait`
// for news while the operation runs.
func (s *Server) operation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	wait, _ := time.ParseDuration(r.URL.Query().Get("wait"))
	wait = min(wait, time.Minute)
	deadline := time.After(wait)
	for {
		changed := s.eng.Changed(id)
		op, err := s.eng.Store().GetOperation(ctx, id)
		if err != nil {
			writeError(w, err)
			return
		}
		evs, err := s.eng.Store().Events(ctx, id, after)
		if err != nil {
			writeError(w, err)
			return
		}
		if len(evs) > 0 || op.Status != state.OpRunning || wait == 0 {
			p := api.Progress{Operation: opView(op), Events: []api.Event{}}
			for _, e := range evs {
				p.Events = append(p.Events, api.Event{Seq: e.Seq, Time: e.Time, Message: e.Message})
			}
			writeJSON(w, 200, p)
			return
		}
		select {
		case <-changed:
		case <-deadline:
			wait = 0
		case <-ctx.Done():
			return
		}
	}
}

// flushWriter flushes after every write so `logs --follow` streams.
type flushWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func (fw flushWriter) Write(b []byte) (int, error) {
	n, err := fw.w.Write(b)
	if fw.f != nil {
		fw.f.Flush()
	}
	return n, err
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := provider.LogOptions{Deployment: true, Runtime: true}
	opts.Follow, _ = strconv.ParseBool(q.Get("follow"))
	opts.Tail, _ = strconv.Atoi(q.Get("tail"))
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, &engine.InputError{Err: fmt.Errorf("since: %w", err)})
			return
		}
		opts.Since = t
	}
	switch q.Get("part") {
	case "deployment":
		opts.Runtime = false
	case "runtime":
		opts.Deployment = false
	}
	name := r.PathValue("name")
	if _, err := s.eng.Store().GetObject(r.Context(), state.KindApp, name); err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(200)
	f, _ := w.(http.Flusher)
	fw := flushWriter{w: w, f: f}
	if err := s.eng.Logs(r.Context(), name, opts, fw); err != nil && r.Context().Err() == nil {
		fmt.Fprintf(fw, "cld: logs: %v\n", err)
	}
}

func (s *Server) doctor(w http.ResponseWriter, r *http.Request) {
	strays, targets, drift, errs := s.eng.Doctor(r.Context())
	d := api.Doctor{Strays: []api.Found{}, Drift: []api.Element{}}
	for i, f := range strays {
		d.Strays = append(d.Strays, api.Found{Target: targets[i], Kind: f.Kind, Name: f.Name, Labels: f.Labels})
	}
	for _, e := range drift {
		d.Drift = append(d.Drift, elementView(e))
	}
	for _, e := range errs {
		d.Errors = append(d.Errors, e.Error())
	}
	writeJSON(w, 200, d)
}

func (s *Server) objView(o *state.Object) api.Object {
	return api.Object{Kind: o.Kind, Name: o.Name, Env: o.Env, Target: o.Target, Status: o.Status, Error: o.Error,
		URL: o.URL, Image: o.Image, Base: o.Base, File: o.File, Folder: s.layout.Folder(o.Kind, o.Name),
		Operation: o.Op, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

func elementView(e *state.Element) api.Element {
	return api.Element{Owner: e.Owner, Key: e.Key, Kind: e.Kind, Target: e.Target, Name: e.Name, Status: e.Status,
		Error: e.Error, Ref: e.Ref, Outputs: e.Outputs, Labels: e.Labels}
}

func opView(op *state.Operation) api.Operation {
	return api.Operation{ID: op.ID, Kind: op.Kind, Owner: op.Owner, Env: op.Env, Status: op.Status, Error: op.Error,
		StartedAt: op.StartedAt, EndedAt: op.EndedAt}
}
