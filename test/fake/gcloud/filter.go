package gcloud

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// A small subset of the list filter syntax of Google APIs: terms
// `field OP value` joined by whitespace or AND, optionally parenthesized.
// OP is = : != (exact, ':' with value * means "has field") or eq ne (RE2
// full match, Compute's legacy syntax). Fields are dotted JSON paths
// (labels.env, settings.userLabels.app); an array field matches when any
// element does.

type filterTerm struct {
	field, op, value string
	re               *regexp.Regexp
}

var filterTermRe = regexp.MustCompile(`\(?\s*([A-Za-z0-9_.\-]+)\s*(!=|=|:|\beq\b|\bne\b)\s*("([^"]*)"|'([^']*)'|[^\s()]+)\s*\)?`)

func parseFilter(f string) ([]filterTerm, error) {
	f = strings.TrimSpace(f)
	if f == "" {
		return nil, nil
	}
	var terms []filterTerm
	rest := filterTermRe.ReplaceAllStringFunc(f, func(m string) string {
		sm := filterTermRe.FindStringSubmatch(m)
		t := filterTerm{field: sm[1], op: sm[2], value: sm[3]}
		switch {
		case strings.HasPrefix(sm[3], `"`):
			t.value = sm[4]
		case strings.HasPrefix(sm[3], `'`):
			t.value = sm[5]
		}
		terms = append(terms, t)
		return " "
	})
	rest = strings.TrimSpace(strings.ReplaceAll(rest, "AND", " "))
	if strings.Trim(rest, " ()") != "" {
		return nil, fmt.Errorf("unsupported filter expression %q", f)
	}
	for i := range terms {
		if terms[i].op == "eq" || terms[i].op == "ne" {
			re, err := regexp.Compile("^(?:" + terms[i].value + ")$")
			if err != nil {
				return nil, err
			}
			terms[i].re = re
		}
	}
	return terms, nil
}

func filterError(f string, err error) error {
	return errf(400, "invalid", "Invalid value for field 'filter': '%s'. %v", f, err)
}

// matchFilter reports whether item (any JSON-marshalable value) matches
// every term.
func matchFilter(terms []filterTerm, item any) bool {
	if len(terms) == 0 {
		return true
	}
	b, err := json.Marshal(item)
	if err != nil {
		return false
	}
	var m any
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	for _, t := range terms {
		vals, present := lookupPath(m, strings.Split(t.field, "."))
		ok := false
		switch t.op {
		case "=", ":":
			if t.op == ":" && t.value == "*" {
				ok = present
				break
			}
			for _, v := range vals {
				if v == t.value || (t.op == ":" && strings.Contains(v, t.value)) {
					ok = true
				}
			}
		case "!=":
			ok = true
			for _, v := range vals {
				if v == t.value {
					ok = false
				}
			}
		case "eq":
			for _, v := range vals {
				if t.re.MatchString(v) {
					ok = true
				}
			}
		case "ne":
			ok = true
			for _, v := range vals {
				if t.re.MatchString(v) {
					ok = false
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func lookupPath(v any, path []string) ([]string, bool) {
	if len(path) == 0 {
		switch x := v.(type) {
		case nil:
			return nil, false
		case string:
			return []string{x}, true
		case []any:
			var out []string
			for _, e := range x {
				s, _ := lookupPath(e, nil)
				out = append(out, s...)
			}
			return out, true
		case map[string]any:
			return nil, true
		default:
			return []string{fmt.Sprint(x)}, true
		}
	}
	switch x := v.(type) {
	case map[string]any:
		child, ok := x[path[0]]
		if !ok {
			return nil, false
		}
		return lookupPath(child, path[1:])
	case []any:
		var out []string
		found := false
		for _, e := range x {
			s, ok := lookupPath(e, path)
			out = append(out, s...)
			found = found || ok
		}
		return out, found
	}
	return nil, false
}
