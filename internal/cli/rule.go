package cli

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// newRuleCmd is `flywheel rule`: automation rules' runtime state (their
// definitions are content: `flywheel content`).
func newRuleCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "rule",
		Aliases: []string{"rules"},
		Short:   "Automation rules' state: circuit breakers (see docs/rules.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	breaker := &cobra.Command{
		Use:   "breaker",
		Short: "List and reset rules' circuit breakers (per rule and target group)",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the breakers that are open or have counted failures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out apiv1.List[apiv1.BreakerView]
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/rules/breakers", tenant, nil), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out.Items)
			}
			if len(out.Items) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no breaker is open or counting failures")
				return nil
			}
			rows := make([][]string, len(out.Items))
			for i, b := range out.Items {
				state := "closed"
				if b.Open {
					state = "open since " + fmtTimePtr(b.OpenedAt)
				}
				group := b.Group
				if group == "" {
					group = "(all targets)"
				}
				rows[i] = []string{b.Rule, group, state, strconv.Itoa(b.Failures), b.OpsItemID}
			}
			return printTable(cmd.OutOrStdout(), []string{"RULE", "TARGET GROUP", "STATE", "FAILURES", "OPSITEM"}, rows)
		},
	}
	var group string
	reset := &cobra.Command{
		Use:   "reset RULE",
		Short: "Close a rule's breaker for one target group (--group) or all of them; audited",
		Example: `  flywheel rule breaker reset disk-cleanup
  flywheel rule breaker reset disk-cleanup --group res_06h0abc`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out apiv1.BreakerResetResult
			path := tenantPath("/api/v1/rules/"+url.PathEscape(args[0])+"/breaker/reset", tenant, nil)
			if err := g.client().Do(cmd.Context(), "POST", path, apiv1.BreakerReset{Group: group}, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			switch {
			case out.Closed == 0:
				fmt.Fprintf(cmd.OutOrStdout(), "rule %s: no breaker to reset\n", out.Rule)
			default:
				fmt.Fprintf(cmd.OutOrStdout(), "rule %s: %d breaker(s) reset\n", out.Rule, out.Closed)
			}
			return nil
		},
	}
	reset.Flags().StringVar(&group, "group", "", "the target group (as `rule breaker list` shows it); default every group")
	breaker.AddCommand(list, reset)
	cmd.AddCommand(breaker, newRuleListCmd(g, &tenant))
	return cmd
}

// newRuleListCmd is `flywheel rule list`: GET /api/v1/rules.
func newRuleListCmd(g *globals, tenant *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the rules in evaluation order: what each does, its rate limit, breaker, last action and executions",
		Example: `  flywheel rule list
  flywheel rule list --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out apiv1.List[apiv1.RuleStatus]
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/rules", *tenant, nil), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out.Items)
			}
			rows := make([][]string, len(out.Items))
			for i, r := range out.Items {
				does := "classifies"
				switch {
				case r.Runbook != "":
					does = "runs " + r.Runbook + " (" + r.Mode + ")"
				case r.Notify != "":
					does = "notifies " + r.Notify
				case r.Suppress:
					does = "suppresses"
				}
				breaker := "closed"
				if r.BreakerOpen {
					breaker = "open"
				} else if len(r.Breakers) > 0 {
					breaker = "counting"
				}
				rows[i] = []string{r.Name, does, strconv.Itoa(r.RateMax) + "/" + r.RatePer, breaker, fmtTimePtr(r.LastActedAt), strconv.FormatInt(r.Executions, 10)}
			}
			return printTable(cmd.OutOrStdout(), []string{"RULE", "DOES", "RATE LIMIT", "BREAKER", "LAST ACTED", "EXECUTIONS"}, rows)
		},
	}
}
