package spec

import (
	"fmt"
	"strings"
)

// Pos is a place in a definition file, for error messages.
type Pos struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// FieldError is one problem in a definition: where, which field, what.
type FieldError struct {
	Pos   Pos
	Field string // dotted path such as environment.app_deployment.target
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Pos, e.Field, e.Msg)
}

// Errors collects every problem found in one file, so a user fixes them in one pass.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// err returns nil for an empty list so callers can `return errs.err()`.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
