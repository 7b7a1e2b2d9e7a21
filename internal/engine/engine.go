// Package engine runs cld's operations as jobs: plan, record intent, apply
// (concurrently, in dependency order), roll back on failure, resume after a
// restart, and keep every operation as history.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/state"
)

// Engine executes operations against the registered targets.
type Engine struct {
	store   state.Store
	targets *provider.Registry
	layout  state.Layout
	log     *slog.Logger

	pollMin, pollMax time.Duration
	install          string // label cld-install of every element

	mu      sync.Mutex
	running map[string]*job
	notify  map[string]chan struct{}
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	now     func() time.Time
}

type job struct {
	op     *state.Operation
	done   chan struct{}
	cancel context.CancelFunc
}

// Options configure an Engine.
type Options struct {
	Store   state.Store
	Targets *provider.Registry
	Layout  state.Layout
	Log     *slog.Logger
	// PollMin and PollMax bound the interval between readiness checks.
	PollMin, PollMax time.Duration
	// Install is this installation's identity: every element is labelled
	// with it, and sweeps and Doctor are confined to it ("" for none).
	Install string
}

// New returns an engine. Call Resume once to pick up interrupted operations.
func New(o Options) *Engine {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PollMin == 0 {
		o.PollMin = 10 * time.Millisecond
	}
	if o.PollMax == 0 {
		o.PollMax = 2 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		store: o.Store, targets: o.Targets, layout: o.Layout, log: o.Log,
		pollMin: o.PollMin, pollMax: o.PollMax, install: o.Install,
		running: map[string]*job{}, notify: map[string]chan struct{}{},
		ctx: ctx, cancel: cancel, now: time.Now,
	}
}

// Store returns the engine's state store (the server reads from it).
func (e *Engine) Store() state.Store { return e.store }

// Targets returns the registry of targets.
func (e *Engine) Targets() *provider.Registry { return e.targets }

// Layout returns where artifacts live.
func (e *Engine) Layout() state.Layout { return e.layout }

// Shutdown stops running jobs where they stand (they resume at next start)
// and waits for them to return.
func (e *Engine) Shutdown() {
	e.cancel()
	e.wg.Wait()
}

// request is what an operation needs to run again after a restart.
type request struct {
	Action string `json:"action"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Force  bool   `json:"force,omitempty"`
	// Retired is the owner holding an app's previous elements during a redeploy.
	Retired string `json:"retired,omitempty"`
}

func newID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}

// start records an operation and runs fn as a job.
func (e *Engine) start(kind, owner, env string, req request, fn func(ctx context.Context, op *state.Operation, say reporter) error) (*state.Operation, error) {
	raw, _ := json.Marshal(req)
	op := &state.Operation{ID: newID(), Kind: kind, Owner: owner, Env: env, Request: raw}
	if err := e.store.CreateOperation(context.Background(), op); err != nil {
		return nil, err
	}
	e.launch(op, fn)
	return op, nil
}

func (e *Engine) launch(op *state.Operation, fn func(ctx context.Context, op *state.Operation, say reporter) error) {
	ctx, cancel := context.WithCancel(e.ctx)
	j := &job{op: op, done: make(chan struct{}), cancel: cancel}
	e.mu.Lock()
	e.running[op.ID] = j
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer cancel()
		say := e.reporter(op.ID)
		err := fn(ctx, op, say)
		if e.ctx.Err() != nil {
			// The server is stopping: leave the operation running in state so the
			// next start resumes it.
			e.finishJob(op.ID)
			return
		}
		status, msg := state.OpSucceeded, ""
		if err != nil {
			status, msg = state.OpFailed, err.Error()
			var rb *rolledBack
			if errors.As(err, &rb) {
				status = state.OpRolledBack
			}
			say("failed: %s", msg)
		} else {
			say("done")
		}
		if ferr := e.store.FinishOperation(context.Background(), op.ID, status, msg); ferr != nil {
			e.log.Error("finish operation", "op", op.ID, "err", ferr)
		}
		e.finishJob(op.ID)
	}()
}

func (e *Engine) finishJob(id string) {
	e.mu.Lock()
	if j, ok := e.running[id]; ok {
		close(j.done)
		delete(e.running, id)
	}
	e.mu.Unlock()
	e.poke(id)
}

// reporter returns a function that records progress lines for an operation.
func (e *Engine) reporter(opID string) reporter {
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if err := e.store.AddEvent(context.Background(), opID, msg); err != nil {
			e.log.Error("event", "op", opID, "err", err)
		}
		e.log.Debug(msg, "op", opID)
		e.poke(opID)
	}
}

// poke wakes whoever waits for news of an operation.
func (e *Engine) poke(id string) {
	e.mu.Lock()
	if ch, ok := e.notify[id]; ok {
		close(ch)
		delete(e.notify, id)
	}
	e.mu.Unlock()
}

// Changed returns a channel closed at the next event or end of an operation.
func (e *Engine) Changed(id string) <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, ok := e.notify[id]
	if !ok {
		ch = make(chan struct{})
		e.notify[id] = ch
	}
	return ch
}

// Wait blocks until an operation ends (or ctx ends) and returns it.
func (e *Engine) Wait(ctx context.Context, id string) (*state.Operation, error) {
	for {
		e.mu.Lock()
		j, running := e.running[id]
		e.mu.Unlock()
		if !running {
			return e.store.GetOperation(ctx, id)
		}
		select {
		case <-j.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Busy reports whether an operation is running on an object (one at a time).
func (e *Engine) busy(owner string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, j := range e.running {
		if j.op.Owner == owner {
			return true
		}
	}
	return false
}

// rolledBack wraps the error of an operation that undid what it made.
type rolledBack struct {
	err         error
	rollbackErr error
}

func (r *rolledBack) Error() string {
	if r.rollbackErr != nil {
		return fmt.Sprintf("%v; rollback also failed, `cld doctor` lists what remains: %v", r.err, r.rollbackErr)
	}
	return fmt.Sprintf("%v (rolled back: nothing it made remains)", r.err)
}

func (r *rolledBack) Unwrap() error { return r.err }

// stamp returns the timestamp used in element names.
func (e *Engine) stamp() string { return fmt.Sprintf("%d", e.now().Unix()) }

// Resume picks up operations a previous server left running: creates continue
// (observing before creating, so nothing is made twice), deletes finish.
func (e *Engine) Resume() error {
	ops, err := e.store.RunningOperations(context.Background())
	if err != nil {
		return err
	}
	for _, op := range ops {
		var req request
		if err := json.Unmarshal(op.Request, &req); err != nil {
			e.store.FinishOperation(context.Background(), op.ID, state.OpFailed, "cannot resume: "+err.Error())
			continue
		}
		fn, err := e.resumeFunc(req)
		if err != nil {
			e.store.FinishOperation(context.Background(), op.ID, state.OpFailed, "cannot resume: "+err.Error())
			continue
		}
		e.reporter(op.ID)("server restarted: resuming %s", op.Kind)
		e.launch(op, fn)
	}
	return nil
}

func (e *Engine) resumeFunc(req request) (func(ctx context.Context, op *state.Operation, say reporter) error, error) {
	switch req.Action {
	case "create":
		return e.createJob(req.Kind, req.Name), nil
	case "delete":
		return e.deleteJob(req.Kind, req.Name), nil
	case "redeploy":
		return e.redeployJob(req.Name, req.Retired), nil
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}
