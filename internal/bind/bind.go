// Package bind resolves $CLOUDARK_<TYPE>_<Attribute> references in an app
// definition against the output attributes of an environment's resources.
package bind

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/cloudark/cld/internal/spec"
)

// Resource is what binding needs of one environment resource.
type Resource struct {
	Type    string            // upper case: MYSQL, POSTGRES, RDS, CLOUDSQL
	Name    string            // platform name, for messages
	Outputs map[string]string // plain attributes
	Secrets map[string]string // secret attributes (passwords)
}

// ref matches $CLOUDARK_TYPE_Attr and ${CLOUDARK_TYPE_Attr}. TYPE has no '_'
// (RDS, MYSQL); the attribute may (Root_Password).
var ref = regexp.MustCompile(`\$\{CLOUDARK_([A-Z0-9]+)_([A-Za-z][A-Za-z0-9_]*)\}|\$CLOUDARK_([A-Z0-9]+)_([A-Za-z][A-Za-z0-9_]*)`)

// Binder resolves references against one environment's resources.
type Binder struct {
	env       string
	resources []Resource
}

// New returns a binder for an environment's resources.
func New(env string, resources []Resource) *Binder {
	return &Binder{env: env, resources: resources}
}

// Value resolves every reference in s. It reports whether any resolved value was secret.
func (b *Binder) Value(s string) (string, bool, error) {
	var secret bool
	var firstErr error
	out := ref.ReplaceAllStringFunc(s, func(m string) string {
		sub := ref.FindStringSubmatch(m)
		typ, attr := sub[1], sub[2]
		if typ == "" {
			typ, attr = sub[3], sub[4]
		}
		v, isSecret, err := b.lookup(typ, attr)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return m
		}
		secret = secret || isSecret
		return v
	})
	return out, secret, firstErr
}

func (b *Binder) lookup(typ, attr string) (string, bool, error) {
	var matches []Resource
	for _, r := range b.resources {
		if r.Type == typ {
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 0:
		have := b.types()
		if len(have) == 0 {
			return "", false, fmt.Errorf("$CLOUDARK_%s_%s: environment %s has no resources to bind to", typ, attr, b.env)
		}
		return "", false, fmt.Errorf("$CLOUDARK_%s_%s: environment %s has no %s resource (it has: %s)", typ, attr, b.env, typ, strings.Join(have, ", "))
	case 1:
	default:
		return "", false, fmt.Errorf("$CLOUDARK_%s_%s: environment %s has %d %s resources, so the reference is ambiguous", typ, attr, b.env, len(matches), typ)
	}
	r := matches[0]
	if v, ok := r.Secrets[attr]; ok {
		return v, true, nil
	}
	if v, ok := r.Outputs[attr]; ok {
		return v, false, nil
	}
	attrs := slices.Sorted(maps.Keys(r.Outputs))
	attrs = append(attrs, slices.Sorted(maps.Keys(r.Secrets))...)
	slices.Sort(attrs)
	return "", false, fmt.Errorf("$CLOUDARK_%s_%s: %s resource %s has no attribute %q (it has: %s)", typ, attr, typ, r.Name, attr, strings.Join(attrs, ", "))
}

func (b *Binder) types() []string {
	set := map[string]bool{}
	for _, r := range b.resources {
		set[r.Type] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// Var is an environment variable after binding.
type Var struct {
	Name   string
	Value  string
	Secret bool
}

// Env binds the `env:` of a single-container app. Every error carries the
// file, line and variable, and all of them are reported at once.
func (b *Binder) Env(vars []spec.EnvVar) ([]Var, error) {
	var errs spec.Errors
	out := make([]Var, 0, len(vars))
	for _, v := range vars {
		val, secret, err := b.Value(v.Value)
		if err != nil {
			errs = append(errs, &spec.FieldError{Pos: v.Pos, Field: "app.env." + v.Name, Msg: err.Error()})
			continue
		}
		out = append(out, Var{Name: v.Name, Value: val, Secret: secret})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// Tree binds every string inside a decoded document (Kubernetes or ECS YAML),
// returning a resolved copy and the names of fields that received secrets.
func (b *Binder) Tree(doc map[string]any, pos spec.Pos, path string) (map[string]any, []string, error) {
	var errs spec.Errors
	var secrets []string
	var walk func(v any, p string) any
	walk = func(v any, p string) any {
		switch t := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(t))
			for k, x := range t {
				m[k] = walk(x, p+"."+k)
			}
			return m
		case []any:
			s := make([]any, len(t))
			for i, x := range t {
				s[i] = walk(x, fmt.Sprintf("%s[%d]", p, i))
			}
			return s
		case string:
			val, secret, err := b.Value(t)
			if err != nil {
				errs = append(errs, &spec.FieldError{Pos: pos, Field: p, Msg: err.Error()})
				return t
			}
			if secret {
				secrets = append(secrets, p)
			}
			return val
		}
		return v
	}
	out := walk(doc, path).(map[string]any)
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return out, secrets, nil
}

// References lists the $CLOUDARK references in s, for validation before deploy.
func References(s string) [][2]string {
	var out [][2]string
	for _, m := range ref.FindAllStringSubmatch(s, -1) {
		if m[1] != "" {
			out = append(out, [2]string{m[1], m[2]})
		} else {
			out = append(out, [2]string{m[3], m[4]})
		}
	}
	return out
}
