// Package providertest is the conformance suite every target passes with a
// few lines of setup: create, create again (adopt), observe after a "crash"
// (a fresh target instance with no memory), inventory, delete, delete again,
// delete what is missing, and sweep by label.
package providertest

import (
	"context"
	"testing"
	"time"

	"github.com/cloudark/cld/internal/provider"
)

// Suite describes what to exercise.
type Suite struct {
	// New returns a fresh target instance, as a restarted server would have.
	New func() provider.Target
	// Elements returns a chain in dependency order; an element's Deps name
	// earlier keys. Labels must carry managed-by=cld and Owner labels.
	Elements func(t *testing.T) []*provider.Element
	// Owner labels that identify this run's elements for Sweep and Inventory.
	Owner map[string]string
	// ReadyTimeout bounds each wait.
	ReadyTimeout time.Duration
}

// Run runs the suite.
func Run(t *testing.T, s Suite) {
	if s.ReadyTimeout == 0 {
		s.ReadyTimeout = 3 * time.Minute
	}
	ctx := context.Background()
	els := s.Elements(t)
	target := s.New()
	made := map[string]*provider.Element{}
	t.Cleanup(func() {
		// whatever happened, leave nothing behind
		if sw, ok := s.New().(provider.Sweeper); ok {
			sw.Sweep(context.Background(), s.Owner)
		}
	})
	handler := func(t *testing.T, tg provider.Target, el *provider.Element) provider.Handler {
		h, ok := tg.Handler(el.Kind)
		if !ok {
			t.Fatalf("no handler for %s", el.Kind)
		}
		return h
	}
	req := func(el *provider.Element) *provider.Request {
		deps := map[string]*provider.Element{}
		for _, d := range el.Deps {
			deps[d] = made[d]
		}
		return &provider.Request{Element: el, Deps: deps, Progress: func(m string) { t.Logf("%s: %s", el.Key, m) }}
	}
	waitReady := func(t *testing.T, h provider.Handler, el *provider.Element) provider.Observation {
		deadline := time.Now().Add(s.ReadyTimeout)
		for {
			obs, err := h.Observe(ctx, req(el))
			if err != nil && provider.IsPermanent(err) {
				t.Fatalf("%s: observe: %v", el.Key, err)
			}
			if err == nil && obs.Failed != "" {
				t.Fatalf("%s: failed: %s", el.Key, obs.Failed)
			}
			if err == nil && obs.Exists && obs.Ready {
				return obs
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not ready after %s (%+v, %v)", el.Key, s.ReadyTimeout, obs, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitGone := func(t *testing.T, h provider.Handler, el *provider.Element) {
		deadline := time.Now().Add(s.ReadyTimeout)
		for {
			obs, err := h.Observe(ctx, req(el))
			if err == nil && !obs.Exists {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: still there after delete (%+v, %v)", el.Key, obs, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	t.Run("create", func(t *testing.T) {
		for _, el := range els {
			h := handler(t, target, el)
			obs, err := h.Observe(ctx, req(el))
			if err != nil {
				t.Fatalf("%s: observe before create: %v", el.Key, err)
			}
			if obs.Exists {
				t.Fatalf("%s: exists before create", el.Key)
			}
			if err := h.Create(ctx, req(el)); err != nil {
				t.Fatalf("%s: create: %v", el.Key, err)
			}
			obs = waitReady(t, h, el)
			el.Ref, el.Outputs, el.Secrets = obs.Ref, obs.Outputs, obs.Secrets
			made[el.Key] = el
		}
	})
	if t.Failed() {
		return
	}
	t.Run("create-again-adopts", func(t *testing.T) {
		for _, el := range els {
			h := handler(t, target, el)
			if err := h.Create(ctx, req(el)); err != nil {
				t.Fatalf("%s: second create must adopt, got %v", el.Key, err)
			}
			obs := waitReady(t, h, el)
			if obs.Ref != el.Ref {
				t.Fatalf("%s: second create made a new object (%s != %s)", el.Key, obs.Ref, el.Ref)
			}
		}
	})
	t.Run("observe-after-crash", func(t *testing.T) {
		fresh := s.New()
		for _, el := range els {
			obs, err := handler(t, fresh, el).Observe(ctx, req(el))
			if err != nil || !obs.Exists || obs.Ref != el.Ref {
				t.Fatalf("%s: a fresh target does not find it: %+v %v", el.Key, obs, err)
			}
		}
	})
	t.Run("inventory", func(t *testing.T) {
		inv, ok := target.(provider.Inventory)
		if !ok {
			t.Skip("target has no inventory")
		}
		if n := owned(t, inv, s.Owner); n < len(els) {
			t.Fatalf("inventory shows %d of %d elements", n, len(els))
		}
	})
	t.Run("delete-twice-and-missing", func(t *testing.T) {
		for i := len(els) - 1; i >= 0; i-- {
			el := els[i]
			h := handler(t, target, el)
			if err := h.Delete(ctx, req(el)); err != nil {
				t.Fatalf("%s: delete: %v", el.Key, err)
			}
			waitGone(t, h, el)
			if err := h.Delete(ctx, req(el)); err != nil {
				t.Fatalf("%s: deleting what is gone must succeed, got %v", el.Key, err)
			}
		}
	})
	t.Run("sweep-by-label", func(t *testing.T) {
		sw, ok := target.(provider.Sweeper)
		if !ok {
			t.Skip("target has no sweeper")
		}
		// a crash between create and recording it: only labels know it
		first := els[0]
		h := handler(t, target, first)
		if err := h.Create(ctx, req(first)); err != nil {
			t.Fatal(err)
		}
		waitReady(t, h, first)
		removed, err := sw.Sweep(ctx, s.Owner)
		if err != nil || len(removed) == 0 {
			t.Fatalf("sweep removed %v, err %v", removed, err)
		}
		waitGone(t, h, first)
		if inv, ok := target.(provider.Inventory); ok {
			if n := owned(t, inv, s.Owner); n != 0 {
				t.Fatalf("%d elements left after sweep", n)
			}
		}
	})
}

func owned(t *testing.T, inv provider.Inventory, labels map[string]string) int {
	found, err := inv.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range found {
		match := true
		for k, v := range labels {
			if f.Labels[k] != v {
				match = false
			}
		}
		if match {
			n++
		}
	}
	return n
}
