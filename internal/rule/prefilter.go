package rule

import (
	"slices"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// A guard is what a condition requires of the event's source and kind,
// read from its top-level conjuncts — `event.source == "guardduty"`,
// `event.kind == "alert"`, `event.kind in ["alert", "health"]` — and
// checked in Go before any CEL runs. The pipeline evaluates the rules for
// every event that reaches an OpsItem, and most rules are about one source
// or kind, so most are ruled out without building the CEL activation.
//
// It is exact, never a heuristic: a conjunct that is false makes the whole
// conjunction false in CEL (even when another conjunct errs), so a rule the
// guard rejects is one whose condition is false.
type guard []requirement

// requirement: the event's field (source or kind) is one of values.
type requirement struct {
	field  string
	values []string
}

// guardOf reads the guard of a checked condition.
func guardOf(a *ast.AST) guard {
	var g guard
	var walk func(e ast.Expr)
	walk = func(e ast.Expr) {
		if e.Kind() != ast.CallKind {
			return
		}
		c := e.AsCall()
		args := c.Args()
		switch {
		case c.FunctionName() == operators.LogicalAnd:
			for _, arg := range args {
				walk(arg)
			}
		case c.FunctionName() == operators.Equals && len(args) == 2:
			for _, pair := range [][2]ast.Expr{{args[0], args[1]}, {args[1], args[0]}} {
				if field, ok := guardedField(pair[0]); ok {
					if v, ok := stringLiteral(pair[1]); ok {
						g = append(g, requirement{field: field, values: []string{v}})
						return
					}
				}
			}
		case c.FunctionName() == operators.In && len(args) == 2:
			field, ok := guardedField(args[0])
			if !ok || args[1].Kind() != ast.ListKind {
				return
			}
			l := args[1].AsList()
			if len(l.OptionalIndices()) > 0 {
				return
			}
			var values []string
			for _, el := range l.Elements() {
				v, ok := stringLiteral(el)
				if !ok {
					return
				}
				values = append(values, v)
			}
			g = append(g, requirement{field: field, values: values})
		}
	}
	walk(a.Expr())
	return g
}

// guardedField matches `event.source` and `event.kind`.
func guardedField(e ast.Expr) (string, bool) {
	if e.Kind() != ast.SelectKind {
		return "", false
	}
	s := e.AsSelect()
	if s.IsTestOnly() || s.Operand().Kind() != ast.IdentKind || s.Operand().AsIdent() != "event" {
		return "", false
	}
	switch f := s.FieldName(); f {
	case "source", "kind":
		return f, true
	}
	return "", false
}

func stringLiteral(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

// admits reports whether e may satisfy the condition; a nil event reads as
// empty, as in the activation.
func (g guard) admits(e *event.Event) bool {
	for _, r := range g {
		var v string
		if e != nil {
			switch r.field {
			case "source":
				v = e.Source
			case "kind":
				v = string(e.Kind)
			}
		}
		if !slices.Contains(r.values, v) {
			return false
		}
	}
	return true
}
