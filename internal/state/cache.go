package state

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Cached keeps every object's list view in memory in front of a Store, so
// `list` commands do not scan SQLite. The server is the only writer of its
// state (one server per CLD_HOME), so the cache cannot go stale.
type Cached struct {
	Store
	once    sync.Once
	loadErr error
	mu      sync.RWMutex
	objs    map[string]map[string]*Object // kind -> name -> object without Source/Spec
}

// NewCached wraps a store.
func NewCached(s Store) *Cached { return &Cached{Store: s} }

func (c *Cached) load(ctx context.Context) error {
	c.once.Do(func() {
		c.objs = map[string]map[string]*Object{}
		for _, kind := range []string{KindEnv, KindApp, KindContainer} {
			list, err := c.Store.ListObjects(ctx, kind, "")
			if err != nil {
				c.loadErr = err
				return
			}
			c.objs[kind] = map[string]*Object{}
			for _, o := range list {
				c.objs[kind][o.Name] = o
			}
		}
	})
	return c.loadErr
}

// refresh re-reads one object after a write (or forgets it).
func (c *Cached) refresh(ctx context.Context, kind, name string) error {
	if err := c.load(ctx); err != nil {
		return err
	}
	o, err := c.Store.GetObject(ctx, kind, name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.objs[kind] == nil {
		c.objs[kind] = map[string]*Object{}
	}
	if err != nil {
		delete(c.objs[kind], name)
		return nil
	}
	lite := *o
	lite.Source, lite.Spec = nil, nil
	c.objs[kind][name] = &lite
	return nil
}

// CreateObject writes through.
func (c *Cached) CreateObject(ctx context.Context, o *Object) error {
	if err := c.Store.CreateObject(ctx, o); err != nil {
		return err
	}
	return c.refresh(ctx, o.Kind, o.Name)
}

// UpdateObject writes through.
func (c *Cached) UpdateObject(ctx context.Context, kind, name string, fn func(o *Object)) error {
	if err := c.Store.UpdateObject(ctx, kind, name, fn); err != nil {
		return err
	}
	return c.refresh(ctx, kind, name)
}

// DeleteObject writes through.
func (c *Cached) DeleteObject(ctx context.Context, kind, name string) error {
	if err := c.Store.DeleteObject(ctx, kind, name); err != nil {
		return err
	}
	return c.refresh(ctx, kind, name)
}

// ListObjects answers from memory, sorted by name like the store.
func (c *Cached) ListObjects(ctx context.Context, kind, env string) ([]*Object, error) {
	if err := c.load(ctx); err != nil {
		return nil, err
	}
	c.mu.RLock()
	out := make([]*Object, 0, len(c.objs[kind]))
	for _, o := range c.objs[kind] {
		if env == "" || o.Env == env {
			cp := *o
			out = append(out, &cp)
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Object) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
