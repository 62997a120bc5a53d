package servercmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/pack"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
)

// Exit codes of `flywheel content test`.
const (
	contentTestFailed = 1 // a test failed
	contentTestNoLoad = 2 // the content does not load
)

func newContentTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run every runbook's and rule's offline tests (built-in library, pack catalogue, DIR)",
		Long: "Loads the built-in library, the pack catalogue and DIR (if given) as `serve --content DIR` would, then runs\n" +
			"the tests of every runbook (mocked I/O steps) and of every rule (among all the rules it is\n" +
			"evaluated with), offline: nothing is called, started or changed.\n\n" +
			"Prints one line per test, PASS or FAIL with what did not hold, and a summary.\n" +
			"Exits 1 when a test fails, 2 when the content does not load.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sources := []content.Source{content.Builtin()}
			// Every catalogue pack's tests run too (docs/packs.md).
			catalogue, err := pack.Catalogue()
			if err != nil {
				for _, e := range content.Errors(err) {
					fmt.Fprintln(cmd.OutOrStdout(), e)
				}
				return &ExitError{Code: contentTestNoLoad, Err: fmt.Errorf("the pack catalogue does not load: %w", err)}
			}
			for _, p := range catalogue {
				sources = append(sources, p.Source(""))
			}
			if len(args) == 1 {
				if fi, err := os.Stat(args[0]); err != nil || !fi.IsDir() {
					return &ExitError{Code: contentTestNoLoad, Err: fmt.Errorf("content directory %s: not a directory (%v)", args[0], err)}
				}
				sources = append(sources, content.Dir(args[0]))
			}
			return runContentTests(cmd.Context(), cmd.OutOrStdout(), sources)
		},
	}
}

// contentTally counts tests by outcome.
type contentTally struct{ passed, failed int }

func (c *contentTally) line(out io.Writer, ok bool, kind, name, test string, origin content.Origin, problems []string) {
	mark := "PASS"
	if ok {
		c.passed++
	} else {
		mark = "FAIL"
		c.failed++
	}
	fmt.Fprintf(out, "%s %s %s: %s (%s)\n", mark, kind, name, test, origin)
	for _, p := range problems {
		fmt.Fprintf(out, "     %s\n", p)
	}
}

// runContentTests loads sources and runs every runbook test, then every
// rule test, printing one line per test.
func runContentTests(ctx context.Context, out io.Writer, sources []content.Source) error {
	notLoaded := func(err error) error {
		errs := content.Errors(err)
		for _, e := range errs {
			fmt.Fprintln(out, e)
		}
		return &ExitError{Code: contentTestNoLoad, Err: fmt.Errorf("content does not load: %d problem(s)", len(errs))}
	}
	set, err := content.Load(kinds.NewRegistry(), sources...)
	if err != nil {
		return notLoaded(err)
	}
	actions := registry.New(registry.Options{}).Get
	var tally contentTally
	var untested []string
	for _, it := range set.Items(runbook.KindName) {
		rb, err := runbook.FromItem(it, actions)
		if err != nil {
			return notLoaded(&content.Error{Origin: it.Origin, Msg: err.Error()})
		}
		if len(rb.Tests) == 0 {
			untested = append(untested, "Runbook "+rb.Name)
		}
		for _, res := range rb.RunTests(ctx) {
			tally.line(out, res.Passed(), "Runbook", rb.Name, res.Name, rb.Origin, res.Problems)
		}
	}
	rules, err := rule.Compile(set.Items(rule.KindName))
	if err != nil {
		return notLoaded(err)
	}
	tested := map[string]bool{}
	for _, res := range rules.Test() {
		tested[res.Rule] = true
		var problems []string
		if res.Err != nil {
			problems = strings.Split(res.Err.Error(), "\n")
		}
		tally.line(out, res.Err == nil, "Rule", res.Rule, res.Test, res.Origin, problems)
	}
	for _, r := range rules.List() {
		if !tested[r.Name] {
			untested = append(untested, "Rule "+r.Name)
		}
	}
	fmt.Fprintf(out, "\n%d tests: %d passed, %d failed\n", tally.passed+tally.failed, tally.passed, tally.failed)
	if len(untested) > 0 {
		fmt.Fprintf(out, "without tests: %s\n", strings.Join(untested, ", "))
	}
	if tally.failed > 0 {
		return &ExitError{Code: contentTestFailed, Err: fmt.Errorf("%d of %d content tests failed", tally.failed, tally.passed+tally.failed)}
	}
	return nil
}
