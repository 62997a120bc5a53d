package rule

import (
	"slices"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// A guard is what a condition requires of the event's source, kind and
// labels, read from its top-level conjuncts — `event.source ==
// "guardduty"`, `event.kind in ["alert", "health"]`,
// `event.labels[?"alertname"].orValue("") == "DiskFull"` — and checked in
// Go before any CEL runs. The pipeline evaluates the rules for
// every event that reaches an OpsItem, and most rules are about one source
// or kind, so most are ruled out without building the CEL activation.
//
// It is exact, never a heuristic: a conjunct that is false makes the whole
// conjunction false in CEL (even when another conjunct errs), so a rule the
// guard rejects is one whose condition is false.
type guard []requirement

// requirement: the event's field (source or kind), or its label (read as
// def when missing), is one of values.
type requirement struct {
	field  string // "source", "kind" or "label"
	label  string
	def    string
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
				if r, ok := guardedField(pair[0]); ok {
					if v, ok := stringLiteral(pair[1]); ok {
						r.values = []string{v}
						g = append(g, r)
						return
					}
				}
			}
		case c.FunctionName() == operators.In && len(args) == 2:
			r, ok := guardedField(args[0])
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
			r.values = values
			g = append(g, r)
		}
	}
	walk(a.Expr())
	return g
}

// guardedField matches `event.source`, `event.kind` and
// `event.labels[?"name"].orValue("default")` (a label read without the
// chance of an error: `event.labels.name` errs when it is missing, and an
// error is not false).
func guardedField(e ast.Expr) (requirement, bool) {
	switch e.Kind() {
	case ast.SelectKind:
		if f, ok := eventSelect(e); ok && (f == "source" || f == "kind") {
			return requirement{field: f}, true
		}
	case ast.CallKind:
		c := e.AsCall()
		if c.FunctionName() != "orValue" || !c.IsMemberFunction() || len(c.Args()) != 1 {
			break
		}
		def, ok := stringLiteral(c.Args()[0])
		if !ok || c.Target().Kind() != ast.CallKind {
			break
		}
		idx := c.Target().AsCall()
		if idx.FunctionName() != operators.OptIndex || len(idx.Args()) != 2 {
			break
		}
		if f, ok := eventSelect(idx.Args()[0]); !ok || f != "labels" {
			break
		}
		if name, ok := stringLiteral(idx.Args()[1]); ok {
			return requirement{field: "label", label: name, def: def}, true
		}
	}
	return requirement{}, false
}

// eventSelect matches `event.<field>`.
func eventSelect(e ast.Expr) (string, bool) {
	if e.Kind() != ast.SelectKind {
		return "", false
	}
	s := e.AsSelect()
	if s.IsTestOnly() || s.Operand().Kind() != ast.IdentKind || s.Operand().AsIdent() != "event" {
		return "", false
	}
	return s.FieldName(), true
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
		switch {
		case r.field == "label":
			v = r.def
			if e != nil {
				if lv, ok := e.Labels[r.label]; ok {
					v = lv
				}
			}
		case e == nil:
		case r.field == "source":
			v = e.Source
		case r.field == "kind":
			v = string(e.Kind)
		}
		if !slices.Contains(r.values, v) {
			return false
		}
	}
	return true
}
