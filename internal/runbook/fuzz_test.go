package runbook_test

import (
	"context"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/runbook"
)

// FuzzCompile feeds arbitrary text to every place a runbook takes an
// expression or a template: compiling must not panic, and a runbook that
// compiles must render and dry-run without panicking.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		"${{ params.n + 1 }}", "a ${{ 1 }} b ${{ 'x' }}", "$${{ literal }}", "${{", "}}", "${{ }}",
		"params.n > 3", "steps.a.outputs.x", "[1, 2].map(x, x * 2)", "{'a': {'b': 1}}", "${{ {'a': 1} }}",
		"10%", "0", "goto:a", "${{ params.n / 0 }}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec := &runbook.Spec{
			Parameters:     []runbook.ParamSpec{{Name: "n", Type: runbook.TypeInt, Default: 1}, {Name: "s", Default: s}},
			MaxConcurrency: s,
			Outputs:        map[string]string{"o": s},
			Steps: []runbook.StepSpec{
				{Name: "a", Action: "http", With: map[string]any{"x": s, "l": []any{s}}, When: s, OnFailure: s},
				{Name: "b", Action: "assert", With: map[string]any{"that": s, "message": s}},
			},
		}
		rb, err := runbook.Compile(spec, runbook.ActionNames("http"))
		if err != nil {
			return
		}
		ctx := context.Background()
		params, err := rb.ResolveParams(map[string]any{"s": s})
		if err != nil {
			return
		}
		sc := runbook.Scope{Params: params}
		_ = rb.DryRun(ctx, sc, nil)
		for _, st := range rb.Steps {
			_, _ = st.Render(ctx, &sc)
		}
	})
}
