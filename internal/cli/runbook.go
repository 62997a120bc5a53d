package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func newRunbookCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "runbook",
		Aliases: []string{"runbooks"},
		Short:   "Run runbooks and follow their executions (see docs/runbooks.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	path := func(p string, q url.Values) string { return tenantPath(p, tenant, q) }

	list := &cobra.Command{
		Use:   "list",
		Short: "List the runbooks you can run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var l apiv1.List[apiv1.Summary]
			if err := g.client().Do(cmd.Context(), "GET", path("/api/v1/runbooks", nil), nil, &l); err != nil || g.json {
				return orJSON(cmd, l.Items, err)
			}
			rows := make([][]string, len(l.Items))
			for i, s := range l.Items {
				var params []string
				for _, p := range s.Parameters {
					params = append(params, p.Name)
				}
				rows[i] = []string{s.Name, fmt.Sprint(s.Version), fmt.Sprint(s.Steps), strings.Join(params, ","), s.Description}
			}
			return printTable(cmd.OutOrStdout(), []string{"NAME", "VERSION", "STEPS", "PARAMETERS", "DESCRIPTION"}, rows)
		},
	}

	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a runbook: parameters, targets, rate limits, steps",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var v apiv1.RunbookView
			if err := g.client().Do(cmd.Context(), "GET", path("/api/v1/runbooks/"+url.PathEscape(args[0]), nil), nil, &v); err != nil || g.json {
				return orJSON(cmd, v, err)
			}
			return printRunbook(cmd.OutOrStdout(), v)
		},
	}

	var (
		params  []string
		targets []string
		opsitem string
		wait    bool
		approve bool
	)
	runFn := func(dry bool) func(cmd *cobra.Command, args []string) error {
		return func(cmd *cobra.Command, args []string) error {
			in := apiv1.RunInput{Targets: targets, DryRun: dry, Approval: approve, Parameters: map[string]any{}}
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return fmt.Errorf("--param %q: write NAME=VALUE", p)
				}
				in.Parameters[k] = v
			}
			target := "/api/v1/runbooks/" + url.PathEscape(args[0]) + "/executions"
			if opsitem != "" {
				target = "/api/v1/opsitems/" + url.PathEscape(opsitem) + "/runbooks/" + url.PathEscape(args[0])
			}
			var ex apiv1.ExecutionView
			if err := g.client().Do(cmd.Context(), "POST", path(target, nil), in, &ex); err != nil {
				return err
			}
			if wait && !dry {
				var err error
				if ex, err = waitExecution(cmd.Context(), g, path, ex.ID, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), ex)
			}
			if !dry && !wait {
				fmt.Fprintln(cmd.OutOrStdout(), ex.ID)
				return nil
			}
			if err := printExecution(cmd.OutOrStdout(), ex, dry); err != nil {
				return err
			}
			if wait && ex.Status != apiv1.StatusSucceeded {
				return &ExitError{Code: 2, Err: fmt.Errorf("execution %s %s", ex.ID, ex.Status)}
			}
			return nil
		}
	}
	run := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a runbook; prints the execution ID (or, with --wait, how it ended)",
		Example: `  flywheel runbook run disk-cleanup --param mountpoint=/var --param report_only=true --target res_… --wait
  flywheel runbook run restart-service --opsitem oi_… --param unit=nginx.service --approval`,
		Args: cobra.ExactArgs(1),
		RunE: runFn(false),
	}
	dry := &cobra.Command{
		Use:     "dry-run NAME",
		Short:   "Resolve parameters and targets and render every step, running nothing",
		Example: `  flywheel runbook dry-run disk-cleanup --param mountpoint=/var --target res_…`,
		Args:    cobra.ExactArgs(1),
		RunE:    runFn(true),
	}
	for _, c := range []*cobra.Command{run, dry} {
		c.Flags().StringArrayVarP(&params, "param", "p", nil, "parameter NAME=VALUE, repeatable (lists: a,b or JSON)")
		c.Flags().StringArrayVar(&targets, "target", nil, "target resource ID, repeatable (default: the runbook's targeting)")
		c.Flags().StringVar(&opsitem, "opsitem", "", "run on this OpsItem (its resources are the default targets)")
	}
	run.Flags().BoolVar(&wait, "wait", false, "wait for the execution to end; exit code 2 unless it succeeded")
	run.Flags().BoolVar(&approve, "approval", false, "wait for an approval before the first step")

	var f executionFilter
	executions := &cobra.Command{
		Use:     "executions [ID]",
		Aliases: []string{"execution", "ex"},
		Short:   "List executions, newest first, or show one with its steps",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				var ex apiv1.ExecutionView
				if err := g.client().Do(cmd.Context(), "GET", path("/api/v1/executions/"+url.PathEscape(args[0]), nil), nil, &ex); err != nil || g.json {
					return orJSON(cmd, ex, err)
				}
				return printExecution(cmd.OutOrStdout(), ex, ex.DryRun)
			}
			q := url.Values{}
			for k, v := range map[string]string{"status": f.Status, "runbook": f.Runbook, "opsitem": f.OpsItemID, "tenant": tenant} {
				if v != "" {
					q.Set(k, v)
				}
			}
			items, err := listAll[apiv1.Execution](cmd, g, "/api/v1/executions", q)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, e := range items {
				rows[i] = []string{e.ID, e.Runbook, statusText(e), e.StartedBy, orDash(e.OpsItemID), fmtTime(e.CreatedAt), duration(e), clipLine(e.Error, 60)}
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "RUNBOOK", "STATUS", "STARTED BY", "OPSITEM", "CREATED", "TOOK", "ERROR"}, rows)
		},
	}
	executions.Flags().StringVar(&f.Status, "status", "", "only this status (pending, waiting_approval, running, succeeded, failed, …)")
	executions.Flags().StringVar(&f.Runbook, "runbook", "", "only this runbook")
	executions.Flags().StringVar(&f.OpsItemID, "opsitem", "", "only executions on this OpsItem")

	var step, target string
	logs := &cobra.Command{
		Use:   "logs ID",
		Short: "Print an execution's step logs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if step != "" {
				q.Set("step", step)
			}
			if target != "" {
				q.Set("target", target)
			}
			var l apiv1.List[apiv1.StepLog]
			if err := g.client().Do(cmd.Context(), "GET", path("/api/v1/executions/"+url.PathEscape(args[0])+"/logs", q), nil, &l); err != nil || g.json {
				return orJSON(cmd, l.Items, err)
			}
			w := cmd.OutOrStdout()
			for _, s := range l.Items {
				head := s.Step
				if s.Target != "" {
					head += " [" + s.Target + "]"
				}
				fmt.Fprintf(w, "==> %s: %s (attempt %d)\n", head, s.Status, s.Attempt)
				if s.Log != "" {
					fmt.Fprint(w, strings.TrimRight(s.Log, "\n")+"\n")
				}
				for _, o := range []struct{ name, text string }{{"stdout", s.Stdout}, {"stderr", s.Stderr}} {
					if o.text != "" {
						fmt.Fprintf(w, "--- %s\n%s\n", o.name, strings.TrimRight(o.text, "\n"))
					}
				}
				if s.Error != "" {
					fmt.Fprintf(w, "error: %s\n", s.Error)
				}
			}
			return nil
		},
	}
	logs.Flags().StringVar(&step, "step", "", "only this step")
	logs.Flags().StringVar(&target, "target", "", "only this target")

	var comment string
	decide := func(verb, done string) *cobra.Command {
		c := &cobra.Command{
			Use:   verb + " ID",
			Short: strings.ToUpper(verb[:1]) + verb[1:] + " the approval an execution waits for",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var ex apiv1.ExecutionView
				err := g.client().Do(cmd.Context(), "POST", path("/api/v1/executions/"+url.PathEscape(args[0])+"/"+verb, nil), apiv1.DecisionInput{Comment: comment}, &ex)
				if err != nil || g.json {
					return orJSON(cmd, ex, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "execution %s %s; now %s\n", ex.ID, done, ex.Status)
				return nil
			},
		}
		c.Flags().StringVarP(&comment, "comment", "c", "", "why (recorded with the decision)")
		return c
	}
	cancel := decide("cancel", "cancelled")
	cancel.Short = "Cancel an execution (it stops at once, or when the running step notices)"

	cmd.AddCommand(list, show, run, dry, executions, logs, decide("approve", "approved"), decide("deny", "denied"), cancel)
	return cmd
}

// waitExecution polls until the execution ends or waits for approval,
// writing each step's progress to progress as it changes ("[2/5] verify:
// running", then "succeeded"), so a long run is not silent.
func waitExecution(ctx context.Context, g *globals, path func(string, url.Values) string, id string, progress io.Writer) (apiv1.ExecutionView, error) {
	var ex apiv1.ExecutionView
	delay := 200 * time.Millisecond
	seen := map[string]string{} // step row → last status shown
	for {
		if err := g.client().Do(ctx, "GET", path("/api/v1/executions/"+url.PathEscape(id), nil), nil, &ex); err != nil {
			return ex, err
		}
		showProgress(progress, ex, seen)
		if apiv1.ExecutionEnded(ex.Status) || ex.Status == apiv1.StatusWaitingApproval {
			return ex, nil
		}
		select {
		case <-ctx.Done():
			return ex, errors.Join(ctx.Err(), fmt.Errorf("execution %s is still %s", id, ex.Status))
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// showProgress writes the steps whose status changed since the last poll.
// Pending steps are not news; a step that went by between two polls is
// shown at its latest status.
func showProgress(w io.Writer, ex apiv1.ExecutionView, seen map[string]string) {
	total := 0
	for _, s := range ex.Steps {
		if s.TargetID == "" {
			total = max(total, s.Index+1)
		}
	}
	for _, s := range ex.Steps {
		key := fmt.Sprintf("%d/%s", s.Seq, s.TargetID)
		if s.Status == apiv1.StatusPending || seen[key] == s.Status {
			continue
		}
		seen[key] = s.Status
		name := s.Name
		if s.TargetID != "" {
			name += " [" + s.TargetID + "]"
		}
		line := fmt.Sprintf("[%d/%d] %s: %s", s.Index+1, total, name, s.Status)
		if s.Error != "" {
			line += ": " + clipLine(s.Error, 100)
		}
		fmt.Fprintln(w, line)
	}
}

// statusText is an execution's status, marked when it was a dry run (it
// rendered its steps and ran nothing).
func statusText(e apiv1.Execution) string {
	if e.DryRun {
		return e.Status + " (dry run)"
	}
	return e.Status
}

func duration(e apiv1.Execution) string {
	if e.StartedAt.IsZero() || e.EndedAt.IsZero() {
		return "-"
	}
	return e.EndedAt.Sub(e.StartedAt).Round(time.Millisecond).String()
}

func clipLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func printRunbook(w io.Writer, v apiv1.RunbookView) error {
	fmt.Fprintf(w, "%s (version %d) — %s\n", v.Name, v.Version, v.Description)
	if v.EstimateMinutes > 0 {
		fmt.Fprintf(w, "a manual run takes about %d minutes\n", v.EstimateMinutes)
	}
	fmt.Fprintf(w, "max_concurrency %s, max_errors %s\n", v.MaxConcurrency, v.MaxErrors)
	if len(v.Parameters) > 0 {
		fmt.Fprintln(w, "\nPARAMETERS")
		rows := make([][]string, len(v.Parameters))
		for i, p := range v.Parameters {
			def := "-"
			if p.Default != nil {
				def = fmt.Sprint(p.Default)
			}
			if p.Required {
				def = "(required)"
			}
			rows[i] = []string{p.Name, string(p.Type), def, p.Description}
		}
		if err := printTable(w, []string{"NAME", "TYPE", "DEFAULT", "DESCRIPTION"}, rows); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nSTEPS")
	rows := make([][]string, len(v.StepList))
	for i, s := range v.StepList {
		flags := []string{}
		if s.PerTarget {
			flags = append(flags, "per target")
		}
		if s.Idempotent {
			flags = append(flags, "idempotent")
		}
		if s.When != "" {
			flags = append(flags, "when "+s.When)
		}
		rows[i] = []string{fmt.Sprint(i + 1), s.Name, s.Action, s.OnFailure, strings.Join(flags, ", ")}
	}
	if err := printTable(w, []string{"#", "STEP", "ACTION", "ON FAILURE", ""}, rows); err != nil {
		return err
	}
	if len(v.Outputs) > 0 {
		fmt.Fprintln(w, "\nOUTPUTS")
		names := make([]string, 0, len(v.Outputs))
		for n := range v.Outputs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "  %s = %s\n", n, v.Outputs[n])
		}
	}
	return nil
}

func printExecution(w io.Writer, ex apiv1.ExecutionView, dry bool) error {
	fmt.Fprintf(w, "execution %s: runbook %s (version %d) %s", ex.ID, ex.Runbook, ex.RunbookVersion, ex.Status)
	if dry {
		fmt.Fprint(w, " (dry run: nothing ran)")
	}
	fmt.Fprintln(w)
	if ex.Error != "" {
		fmt.Fprintf(w, "error: %s\n", ex.Error)
	}
	rows := make([][]string, 0, len(ex.Steps))
	for _, s := range ex.Steps {
		detail := clipLine(s.Error, 60)
		if dry || (detail == "" && len(s.Inputs) > 0 && s.Status == apiv1.StatusPending) {
			detail = clipLine(string(s.Inputs), 80)
		}
		name := s.Name
		if s.TargetID != "" {
			name = "  " + s.TargetID
		}
		rows = append(rows, []string{name, s.Action, s.Status, fmt.Sprint(s.Attempt), detail})
	}
	if err := printTable(w, []string{"STEP", "ACTION", "STATUS", "ATTEMPTS", "DETAIL"}, rows); err != nil {
		return err
	}
	if len(ex.Outputs) > 0 {
		fmt.Fprintf(w, "outputs: %s\n", ex.Outputs)
	}
	return nil
}
