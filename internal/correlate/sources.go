package correlate

import (
	"slices"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// filterSources returns the sources a filter can be true for, when the
// filter says so in a way the AST shows — event.source == "x",
// event.source in ["x", "y"], joined by && (either side) or || (both
// sides) — and nil otherwise. Match skips a rule whose sources exclude the
// event's without evaluating its filter. That is exact, not a heuristic:
// such a filter is false for any other source (false && anything is false
// in CEL, even an error), so the skip changes no result, but it saves a
// CEL evaluation per rule of every other source, which is most of them.
func filterSources(e ast.Expr) []string {
	if e.Kind() != ast.CallKind {
		return nil
	}
	c := e.AsCall()
	args := c.Args()
	switch c.FunctionName() {
	case operators.Equals:
		if len(args) != 2 {
			return nil
		}
		for _, pair := range [][2]ast.Expr{{args[0], args[1]}, {args[1], args[0]}} {
			if isEventSource(pair[0]) {
				if s, ok := stringLiteral(pair[1]); ok {
					return []string{s}
				}
			}
		}
	case operators.In:
		if len(args) != 2 || !isEventSource(args[0]) || args[1].Kind() != ast.ListKind {
			return nil
		}
		var out []string
		for _, el := range args[1].AsList().Elements() {
			s, ok := stringLiteral(el)
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return nonNil(out)
	case operators.LogicalAnd:
		// Any side that restricts the source restricts the whole; the
		// intersection when several do.
		var out []string
		found := false
		for _, a := range args {
			s := filterSources(a)
			switch {
			case s == nil:
			case !found:
				out, found = s, true
			default:
				out = slices.DeleteFunc(out, func(x string) bool { return !slices.Contains(s, x) })
			}
		}
		if !found {
			return nil
		}
		return nonNil(out)
	case operators.LogicalOr:
		var out []string
		for _, a := range args {
			s := filterSources(a)
			if s == nil {
				return nil
			}
			out = append(out, s...)
		}
		return nonNil(out)
	}
	return nil
}

// nonNil keeps "no source at all" (a contradiction such as
// source == "a" && source == "b") distinct from "unknown" (nil).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func isEventSource(e ast.Expr) bool {
	if e.Kind() != ast.SelectKind {
		return false
	}
	s := e.AsSelect()
	return !s.IsTestOnly() && s.FieldName() == "source" && isEvent(s.Operand())
}

func stringLiteral(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}
