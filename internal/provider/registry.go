package provider

import (
	"fmt"
	"slices"
	"sort"
)

// Registry holds the named targets this binary knows. It is assembled once,
// explicitly, in package all: no init() registration.
type Registry struct {
	targets map[string]Target
}

// NewRegistry returns a registry of the given targets; a duplicate name panics.
func NewRegistry(targets ...Target) *Registry {
	r := &Registry{targets: map[string]Target{}}
	for _, t := range targets {
		if _, dup := r.targets[t.Name()]; dup {
			panic("provider: duplicate target " + t.Name())
		}
		r.targets[t.Name()] = t
	}
	return r
}

// Target returns the named target or an error that lists the known ones.
func (r *Registry) Target(name string) (Target, error) {
	if t, ok := r.targets[name]; ok {
		return t, nil
	}
	return nil, Permanent(fmt.Errorf("target %q is not available yet in this build (available: %v)", name, r.Names()))
}

// Names lists the registered targets in order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.targets))
	for n := range r.targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Handler finds the handler for an element.
func (r *Registry) Handler(el *Element) (Handler, error) {
	t, err := r.Target(el.Target)
	if err != nil {
		return nil, err
	}
	h, ok := t.Handler(el.Kind)
	if !ok {
		return nil, Permanent(fmt.Errorf("target %s has no handler for element kind %q", el.Target, el.Kind))
	}
	return h, nil
}

// All returns every target, for sweeps and inventories.
func (r *Registry) All() []Target {
	var out []Target
	for _, n := range r.Names() {
		out = append(out, r.targets[n])
	}
	return slices.Clip(out)
}
