package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// reader walks a goccy AST, so every value keeps its file position and every
// error can name file, line and field.
type reader struct {
	file string
	errs Errors
}

func (r *reader) pos(n ast.Node) Pos {
	if n == nil || n.GetToken() == nil {
		return Pos{File: r.file}
	}
	p := n.GetToken().Position
	return Pos{File: r.file, Line: p.Line, Column: p.Column}
}

func (r *reader) fail(n ast.Node, field, format string, args ...any) {
	r.errs = append(r.errs, &FieldError{Pos: r.pos(n), Field: field, Msg: fmt.Sprintf(format, args...)})
}

// parseDocs parses YAML source into its document bodies (nil bodies dropped).
func parseDocs(file string, src []byte) ([]ast.Node, error) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, syntaxError(file, err)
	}
	var bodies []ast.Node
	for _, d := range f.Docs {
		if d.Body != nil {
			bodies = append(bodies, d.Body)
		}
	}
	return bodies, nil
}

func syntaxError(file string, err error) error {
	type withToken interface{ GetMessage() string }
	fe := &FieldError{Pos: Pos{File: file}, Msg: "invalid YAML: " + firstLine(err.Error())}
	if m, ok := err.(withToken); ok {
		fe.Msg = "invalid YAML: " + m.GetMessage()
	}
	// goccy prints "[line:col] message"; recover the position from it.
	var line, col int
	if _, scanErr := fmt.Sscanf(err.Error(), "[%d:%d]", &line, &col); scanErr == nil {
		fe.Pos.Line, fe.Pos.Column = line, col
	}
	return Errors{fe}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// unwrap strips anchors and tags, which carry no meaning for cld.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := unwrap(n).(*ast.NullNode)
	return ok
}

// field is one key of a mapping with its value node.
type field struct {
	key   string
	keyN  ast.Node
	value ast.Node
}

// mapping returns the fields of a mapping node in order, reporting keys that are
// not in allowed (when allowed is non-nil) and duplicate keys.
func (r *reader) mapping(n ast.Node, path string, allowed ...string) ([]field, bool) {
	n = unwrap(n)
	m, ok := n.(*ast.MappingNode)
	if !ok {
		if mv, ok2 := n.(*ast.MappingValueNode); ok2 {
			m = &ast.MappingNode{BaseNode: mv.BaseNode, Values: []*ast.MappingValueNode{mv}}
		} else {
			r.fail(n, path, "expected a mapping, got %s", describe(n))
			return nil, false
		}
	}
	seen := map[string]bool{}
	var out []field
	for _, mv := range m.Values {
		key := strings.TrimSpace(mv.Key.String())
		if k, ok := unwrap(mv.Key).(ast.ScalarNode); ok {
			key = fmt.Sprint(k.GetValue())
		}
		child := join(path, key)
		if seen[key] {
			r.fail(mv.Key, child, "duplicate key")
			continue
		}
		seen[key] = true
		if allowed != nil && !contains(allowed, key) {
			r.fail(mv.Key, child, "unknown field (allowed: %s)", strings.Join(allowed, ", "))
			continue
		}
		out = append(out, field{key: key, keyN: mv.Key, value: mv.Value})
	}
	return out, true
}

func (r *reader) sequence(n ast.Node, path string) ([]ast.Node, bool) {
	s, ok := unwrap(n).(*ast.SequenceNode)
	if !ok {
		r.fail(n, path, "expected a list, got %s", describe(n))
		return nil, false
	}
	return s.Values, true
}

// str reads a scalar as a string; numbers and booleans are accepted as their text
// because YAML users write `version: 8` and mean "8".
func (r *reader) str(n ast.Node, path string) (string, bool) {
	n = unwrap(n)
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	}
	r.fail(n, path, "expected a string, got %s", describe(n))
	return "", false
}

func (r *reader) integer(n ast.Node, path string, min, max int) (int, bool) {
	n = unwrap(n)
	var text string
	switch v := n.(type) {
	case *ast.IntegerNode:
		text = v.GetToken().Value
	case *ast.StringNode:
		text = v.Value
	default:
		r.fail(n, path, "expected an integer, got %s", describe(n))
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		r.fail(n, path, "expected an integer, got %q", text)
		return 0, false
	}
	if i < min || i > max {
		r.fail(n, path, "must be between %d and %d, got %d", min, max, i)
		return 0, false
	}
	return i, true
}

func describe(n ast.Node) string {
	n = unwrap(n)
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return fmt.Sprintf("string %q", v.Value)
	case *ast.IntegerNode:
		return "integer " + v.GetToken().Value
	case *ast.BoolNode:
		return "boolean " + v.GetToken().Value
	case *ast.AliasNode:
		return "an alias (not supported)"
	}
	return n.Type().String()
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
