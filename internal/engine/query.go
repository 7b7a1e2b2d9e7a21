package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/state"
)

// Running counts operations in progress.
func (e *Engine) Running() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.running)
}

// Logs writes an app's deployment logs (cld's own steps for its last
// operation, then what the platform said) and its runtime logs.
func (e *Engine) Logs(ctx context.Context, app string, opts provider.LogOptions, w io.Writer) error {
	o, err := e.store.GetObject(ctx, state.KindApp, app)
	if err != nil {
		return err
	}
	envObj, err := e.store.GetObject(ctx, state.KindEnv, o.Env)
	if err != nil {
		return err
	}
	els, err := e.store.Elements(ctx, state.Owner(state.KindApp, app))
	if err != nil {
		return err
	}
	if opts.Deployment && o.Op != "" {
		if op, err := e.store.GetOperation(ctx, o.Op); err == nil {
			evs, _ := e.store.Events(ctx, o.Op, 0)
			for _, ev := range evs {
				if opts.Since.IsZero() || !ev.Time.Before(opts.Since) {
					fmt.Fprintf(w, "[cld] %s %s: %s\n", ev.Time.UTC().Format("2006-01-02T15:04:05Z"), op.Kind, ev.Message)
				}
			}
		}
	}
	target := envObj.Target
	if len(els) > 0 {
		target = els[0].Target
	}
	t, err := e.targets.Target(target)
	if err != nil {
		return err
	}
	lg, ok := t.(provider.Logger)
	if !ok {
		return fmt.Errorf("target %s cannot show logs", target)
	}
	ref := provider.AppRef{App: app, Env: o.Env, Created: o.CreatedAt}
	for _, el := range els {
		ref.Elements = append(ref.Elements, &el.Element)
	}
	return lg.Logs(ctx, ref, opts, w)
}

// Strays lists platform objects labelled managed-by=cld that no element row
// names, and rows whose platform object is gone (drift).
func (e *Engine) Doctor(ctx context.Context) (strays []provider.Found, strayTargets []string, drift []*state.Element, errs []error) {
	known := map[string]bool{}
	var rows []*state.Element
	for _, kind := range []string{state.KindEnv, state.KindApp, state.KindContainer} {
		objs, err := e.store.ListObjects(ctx, kind, "")
		if err != nil {
			return nil, nil, nil, []error{err}
		}
		for _, o := range objs {
			els, err := e.store.Elements(ctx, state.Owner(kind, o.Name))
			if err != nil {
				return nil, nil, nil, []error{err}
			}
			if kind == state.KindApp {
				retired, _ := e.store.Elements(ctx, retiredOwner(o.Name))
				els = append(els, retired...)
			}
			rows = append(rows, els...)
		}
	}
	for _, r := range rows {
		known[r.Labels[provider.LabelElement]] = true
		known[r.Name] = true
	}
	for _, t := range e.targets.All() {
		inv, ok := t.(provider.Inventory)
		if !ok {
			continue
		}
		found, err := inv.Inventory(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Name(), err))
			continue
		}
		for _, f := range found {
			if in := f.Labels[provider.LabelInstall]; in != "" && in != e.install {
				continue // another installation's
			}
			el := f.Labels[provider.LabelElement]
			if (el != "" && known[el]) || known[f.Name] {
				continue
			}
			strays = append(strays, f)
			strayTargets = append(strayTargets, t.Name())
		}
	}
	for _, r := range rows {
		if r.Status != state.StatusAvailable {
			continue
		}
		h, err := e.targets.Handler(&r.Element)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		obs, err := h.Observe(ctx, &provider.Request{Element: &r.Element})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", r.Kind, r.Name, err))
			continue
		}
		if !obs.Exists {
			drift = append(drift, r)
		}
	}
	return strays, strayTargets, drift, errs
}
