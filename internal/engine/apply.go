package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/state"
)

// defaultReadyTimeout bounds how long an element may take to become ready when
// its handler does not say.
const defaultReadyTimeout = 5 * time.Minute

// reporter sends progress lines of an operation.
type reporter func(format string, args ...any)

// graph orders a plan's elements by their dependencies.
type graph struct {
	els  []*state.Element
	byK  map[string]*state.Element
	deps map[string][]string // key -> keys it needs
	rdep map[string][]string // key -> keys that need it
}

func newGraph(els []*state.Element) (*graph, error) {
	g := &graph{els: els, byK: map[string]*state.Element{}, deps: map[string][]string{}, rdep: map[string][]string{}}
	for _, e := range els {
		g.byK[e.Key] = e
	}
	for _, e := range els {
		for _, d := range e.Deps {
			if _, ok := g.byK[d]; !ok {
				continue // a dependency outside this plan (already available) imposes no order
			}
			g.deps[e.Key] = append(g.deps[e.Key], d)
			g.rdep[d] = append(g.rdep[d], e.Key)
		}
	}
	// Kahn's algorithm, only to reject cycles early.
	indeg := map[string]int{}
	for _, e := range els {
		indeg[e.Key] = len(g.deps[e.Key])
	}
	var queue []string
	for _, e := range els {
		if indeg[e.Key] == 0 {
			queue = append(queue, e.Key)
		}
	}
	seen := 0
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		seen++
		for _, r := range g.rdep[k] {
			if indeg[r]--; indeg[r] == 0 {
				queue = append(queue, r)
			}
		}
	}
	if seen != len(els) {
		return nil, fmt.Errorf("plan has a dependency cycle")
	}
	return g, nil
}

// walk runs fn on every element, concurrently, each one after the elements it
// waits for (its deps, or in reverse its dependents). It stops starting new
// work after the first error and returns it once running work has ended.
func (g *graph) walk(ctx context.Context, reverse bool, fn func(ctx context.Context, e *state.Element) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := map[string]chan struct{}{}
	for _, e := range g.els {
		done[e.Key] = make(chan struct{})
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for _, e := range g.els {
		wait := g.deps[e.Key]
		if reverse {
			wait = g.rdep[e.Key]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[e.Key])
			for _, w := range wait {
				select {
				case <-done[w]:
				case <-ctx.Done():
					return
				}
			}
			mu.Lock()
			failed := firstErr != nil
			mu.Unlock()
			if failed || ctx.Err() != nil {
				return
			}
			if err := fn(ctx, e); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// apply brings every element of a plan to available: observe, create if
// absent, wait until ready. Independent elements proceed concurrently.
func (e *Engine) apply(ctx context.Context, els []*state.Element, say reporter) error {
	return e.applyUpdating(ctx, els, nil, say)
}

// applyUpdating is apply where some elements (by key) replace a previous
// version in place through their handler's Updater (a rolling update).
func (e *Engine) applyUpdating(ctx context.Context, els []*state.Element, updates map[string]*state.Element, say reporter) error {
	g, err := newGraph(els)
	if err != nil {
		return err
	}
	available := map[string]*provider.Element{}
	var mu sync.Mutex
	for _, el := range els {
		if el.Status == state.StatusAvailable {
			available[el.Key] = &el.Element
		}
	}
	return g.walk(ctx, false, func(ctx context.Context, el *state.Element) error {
		var err error
		mu.Lock()
		deps := map[string]*provider.Element{}
		for _, d := range el.Deps {
			if a, ok := available[d]; ok {
				deps[d] = a
			}
		}
		mu.Unlock()
		for _, d := range el.Deps {
			if deps[d] == nil {
				if x, ok := e.extraDeps(ctx, el, d); ok {
					deps[d] = x
				}
			}
		}
		if prev, ok := updates[el.Key]; ok {
			err = e.update(ctx, el, prev, deps, say)
		} else {
			err = e.ensure(ctx, el, deps, say)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", el.Kind, el.Name, err)
		}
		mu.Lock()
		available[el.Key] = &el.Element
		mu.Unlock()
		return nil
	})
}

// extraDeps finds dependencies that live outside the plan (an app depends on
// its environment's network). They are named "<owner>:<key>".
func (e *Engine) extraDeps(ctx context.Context, el *state.Element, dep string) (*provider.Element, bool) {
	owner, key, ok := strings.Cut(dep, ":")
	if !ok {
		return nil, false
	}
	rows, err := e.store.Elements(ctx, owner)
	if err != nil {
		return nil, false
	}
	for _, r := range rows {
		if r.Key == key {
			return &r.Element, true
		}
	}
	return nil, false
}

// ensure makes one element available. The intent row exists already.
func (e *Engine) ensure(ctx context.Context, el *state.Element, deps map[string]*provider.Element, say reporter) error {
	h, err := e.targets.Handler(&el.Element)
	if err != nil {
		return err
	}
	req := &provider.Request{Element: &el.Element, Deps: deps, Progress: func(m string) { say("%s: %s", el.Key, m) }}
	start := time.Now()
	obs, err := h.Observe(ctx, req)
	if err != nil {
		return err
	}
	if why := provider.Foreign(obs.Labels, el.Labels); obs.Exists && why != "" {
		return provider.Permanent(fmt.Errorf("the name %s is taken on the platform and %s: cld leaves it alone (try again: a new name is chosen)", el.Name, why))
	}
	if !obs.Exists || obs.Incomplete {
		el.Status = state.StatusCreating
		if err := e.store.UpdateElement(ctx, el); err != nil {
			return err
		}
		say("creating %s %s", el.Kind, el.Name)
		if err := e.retry(ctx, func() error { return e.createCall(ctx, h, req) }); err != nil {
			return err
		}
	} else if el.Status != state.StatusAvailable {
		say("found %s %s already there: adopting it", el.Kind, el.Name)
	}
	obs, err = e.waitReady(ctx, h, req, obs)
	if err != nil {
		el.Error = err.Error()
		return err
	}
	if el.Status != state.StatusAvailable {
		say("%s %s available (%s)", el.Kind, el.Name, time.Since(start).Round(10*time.Millisecond))
	}
	el.Status, el.Error = state.StatusAvailable, ""
	el.Ref, el.Outputs, el.Secrets = obs.Ref, obs.Outputs, obs.Secrets
	return e.store.UpdateElement(ctx, el)
}

// createCallTimeout bounds one Create call that a failing sibling no longer
// cancels (an image build, a cloud API request).
const createCallTimeout = 15 * time.Minute

// createCall runs h.Create so that a sibling's failure does not cancel it
// half-way: a cloud request cancelled in flight may still be carried out,
// and the rollback would then miss what it made (an RDS instance appearing
// after the rollback looked, holding its security group forever). Once the
// call returns, the rollback sees the outcome. Stopping the server still
// cancels it: the intent rows let the next start resume.
func (e *Engine) createCall(ctx context.Context, h provider.Handler, req *provider.Request) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createCallTimeout)
	defer cancel()
	stop := context.AfterFunc(e.ctx, cancel)
	defer stop()
	return h.Create(cctx, req)
}

// update changes an element in place from its previous version, then waits
// until it is ready again.
func (e *Engine) update(ctx context.Context, el, prev *state.Element, deps map[string]*provider.Element, say reporter) error {
	h, err := e.targets.Handler(&el.Element)
	if err != nil {
		return err
	}
	u, ok := h.(provider.Updater)
	if !ok {
		return fmt.Errorf("internal: %s cannot be updated in place", el.Kind)
	}
	req := &provider.Request{Element: &el.Element, Deps: deps, Progress: func(m string) { say("%s: %s", el.Key, m) }}
	start := time.Now()
	el.Status = state.StatusUpdating
	if err := e.store.UpdateElement(ctx, el); err != nil {
		return err
	}
	say("updating %s %s in place", el.Kind, el.Name)
	if err := e.retry(ctx, func() error { return u.Update(ctx, req, &prev.Element) }); err != nil {
		return err
	}
	obs, err := e.waitReady(ctx, h, req, provider.Observation{})
	if err != nil {
		el.Error = err.Error()
		return err
	}
	say("%s %s updated (%s)", el.Kind, el.Name, time.Since(start).Round(10*time.Millisecond))
	el.Status, el.Error = state.StatusAvailable, ""
	el.Ref, el.Outputs, el.Secrets = obs.Ref, obs.Outputs, obs.Secrets
	return e.store.UpdateElement(ctx, el)
}

// waitReady polls Observe with backoff until the element is ready, failed, or
// out of time.
func (e *Engine) waitReady(ctx context.Context, h provider.Handler, req *provider.Request, obs provider.Observation) (provider.Observation, error) {
	timeout := defaultReadyTimeout
	if w, ok := h.(provider.Waiter); ok {
		timeout = w.ReadyTimeout(req.Element)
	}
	start := time.Now()
	deadline := start.Add(timeout)
	interval := e.pollMin
	lastProgress := ""
	for {
		var err error
		obs, err = h.Observe(ctx, req)
		if err != nil && !provider.IsPermanent(err) && time.Now().Before(deadline) {
			// transient: observe again
		} else if err != nil {
			return obs, err
		} else {
			switch {
			case obs.Failed != "":
				return obs, provider.Permanent(errors.New(obs.Failed))
			case obs.Exists && obs.Ready:
				return obs, nil
			}
			if obs.Progress != "" && obs.Progress != lastProgress {
				req.Say("%s", obs.Progress)
				lastProgress = obs.Progress
			}
		}
		if time.Now().After(deadline) {
			why := "not ready"
			if obs.Progress != "" {
				why = obs.Progress
			}
			return obs, provider.Permanent(fmt.Errorf("not ready after %s (%s)", timeout, why))
		}
		select {
		case <-ctx.Done():
			return obs, ctx.Err()
		case <-time.After(interval):
		}
		interval = e.nextPoll(interval, start)
	}
}

// nextPoll keeps the shortest interval for the first seconds, when most
// elements become ready (an app answering: deploy latency is a feature), then
// backs off to pollMax so long waits (a cloud database) stay cheap.
func (e *Engine) nextPoll(interval time.Duration, since time.Time) time.Duration {
	if time.Since(since) < 2*time.Second {
		return e.pollMin
	}
	return min(interval*5/4+time.Millisecond, e.pollMax)
}

// retry calls fn until it succeeds, fails permanently, or attempts run out.
func (e *Engine) retry(ctx context.Context, fn func() error) error {
	var err error
	delay := 200 * time.Millisecond
	for attempt := 1; attempt <= 4; attempt++ {
		if err = fn(); err == nil || provider.IsPermanent(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
	return err
}

// destroy deletes elements in reverse dependency order and removes their rows.
// It goes on past failures so one stuck element does not leak the others, and
// returns every error.
func (e *Engine) destroy(ctx context.Context, els []*state.Element, say reporter) error {
	g, err := newGraph(els)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var errs []error
	// walk stops at the first error; collect instead so siblings still go.
	walkErr := g.walk(ctx, true, func(ctx context.Context, el *state.Element) error {
		if err := e.remove(ctx, el, say); err != nil {
			mu.Lock()
			errs = append(errs, fmt.Errorf("%s %s: %w", el.Kind, el.Name, err))
			mu.Unlock()
		}
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	return errors.Join(errs...)
}

// remove deletes one element, waits until it is gone, and drops its row.
func (e *Engine) remove(ctx context.Context, el *state.Element, say reporter) error {
	h, err := e.targets.Handler(&el.Element)
	if err != nil {
		return err
	}
	req := &provider.Request{Element: &el.Element, Progress: func(m string) { say("%s: %s", el.Key, m) }}
	if b, ok := h.(provider.Borrowed); ok && b.Borrowed(&el.Element) {
		say("forgetting %s %s (cld did not make it)", el.Kind, el.Name)
		return e.store.DeleteElement(ctx, el.Owner, el.Key)
	}
	el.Status = state.StatusDeleting
	if err := e.store.UpdateElement(ctx, el); err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	obs, err := h.Observe(ctx, req)
	if err != nil {
		return err
	}
	if why := provider.Foreign(obs.Labels, el.Labels); obs.Exists && why != "" {
		say("leaving %s %s: %s", el.Kind, el.Name, why)
		return e.store.DeleteElement(ctx, el.Owner, el.Key)
	}
	if obs.Exists {
		say("deleting %s %s", el.Kind, el.Name)
		if err := e.retry(ctx, func() error { return h.Delete(ctx, req) }); err != nil {
			return err
		}
		started := time.Now()
		// an element slow to create is slow to delete too (a cloud database)
		timeout := defaultReadyTimeout
		if w, ok := h.(provider.Waiter); ok {
			timeout = max(timeout, w.ReadyTimeout(req.Element))
		}
		deadline := started.Add(timeout)
		interval := e.pollMin
		// A create still in flight on the platform (cancelled by a rollback
		// but already accepted) can land after the delete: an object that
		// stays whole is deleted again, or the wait would never end.
		redelete := max(2*e.pollMax, time.Second)
		lastDelete := started
		for {
			obs, err = h.Observe(ctx, req)
			if err == nil && !obs.Exists {
				break
			}
			if err == nil && obs.Ready && time.Since(lastDelete) >= redelete {
				// errors are not fatal here: the wait goes on to the deadline
				_ = h.Delete(ctx, req)
				lastDelete = time.Now()
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("still there after %s", timeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(interval):
			}
			interval = e.nextPoll(interval, started)
		}
		say("deleted %s %s", el.Kind, el.Name)
	}
	return e.store.DeleteElement(ctx, el.Owner, el.Key)
}

// sweep asks every target to remove what still carries the owner's labels.
func (e *Engine) sweep(ctx context.Context, labels map[string]string, say reporter) error {
	var errs []error
	for _, t := range e.targets.All() {
		s, ok := t.(provider.Sweeper)
		if !ok {
			continue
		}
		removed, err := s.Sweep(ctx, labels)
		for _, r := range removed {
			say("removed stray %s (%s)", r, t.Name())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", t.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// toRows turns a plan into intent rows in order.
func toRows(plan []*provider.Element) []*state.Element {
	rows := make([]*state.Element, len(plan))
	for i, p := range plan {
		rows[i] = &state.Element{Element: *p, Seq: i, Status: state.StatusPending}
	}
	return rows
}

func keysOf(els []*state.Element) []string {
	out := make([]string, len(els))
	for i, e := range els {
		out[i] = e.Key
	}
	return slices.Clip(out)
}
