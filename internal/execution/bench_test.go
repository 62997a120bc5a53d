package execution_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// noopRunbook is a runbook of n steps of a no-op I/O action.
func noopRunbook(name string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: flywheel/v1\nkind: Runbook\nmetadata: {name: %s}\nspec:\n  steps:\n", name)
	for i := range n {
		fmt.Fprintf(&b, "    - {name: s%d, action: noop, with: {i: %d}}\n", i, i)
	}
	return b.String()
}

// waitAll polls until every execution has ended.
func waitAll(b *testing.B, st store.Store, ids []string) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for _, id := range ids {
		for {
			e, err := st.GetExecution(context.Background(), tenant, id)
			if err != nil {
				b.Fatal(err)
			}
			if e.Status == runbook.StatusSucceeded {
				break
			}
			if runbook.IsTerminal(e.Status) || time.Now().After(deadline) {
				b.Fatalf("execution %s: %s %q", id, e.Status, e.Error)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// BenchmarkStepOverhead is the executor's cost per step: one execution of
// 100 no-op steps per iteration (the job pickup amortised over them), with
// every step's state written before and after it, and its audit records.
func BenchmarkStepOverhead(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			st := d.open(b)
			seedTenant(b, st)
			acts := newActions(&fake{name: "noop"})
			const steps = 100
			n := startNode(b, st, library(b, acts, noopRunbook("hundred", steps)), acts, nodeOpts{slice: time.Minute})
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				id := start1(b, st, n, "hundred")
				waitAll(b, st, []string{id})
			}
			el := time.Since(start)
			b.ReportMetric(float64(el.Microseconds())/float64(b.N*steps), "µs/step")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkExecutions is throughput: b.N one-step executions started
// together, run by 20 workers.
func BenchmarkExecutions(b *testing.B) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			st := d.open(b)
			seedTenant(b, st)
			acts := newActions(&fake{name: "noop"})
			n := startNode(b, st, library(b, acts, noopRunbook("one", 1)), acts, nodeOpts{workers: 20})
			b.ResetTimer()
			start := time.Now()
			ids := make([]string, b.N)
			for i := range b.N {
				ids[i] = start1(b, st, n, "one")
			}
			waitAll(b, st, ids)
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Seconds(), "executions/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func start1(b *testing.B, st store.Store, n *node, name string) string {
	id, err := startErr(st, n.x, runbook.StartRequest{Runbook: name})
	if err != nil {
		b.Fatal(err)
	}
	return id
}
