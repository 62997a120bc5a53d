package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func newAutomationCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "automation",
		Short: "What to automate next: candidates, and Rules drafted from them (see docs/ui.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	cmd.AddCommand(newCandidatesCmd(g, &tenant), newDraftCmd(g, &tenant), newSaveRuleCmd(g, &tenant))
	return cmd
}

func newCandidatesCmd(g *globals, tenant *string) *cobra.Command {
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "candidates",
		Short: "Recurring OpsItems people resolved by hand, most human minutes first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if since > 0 {
				q.Set("from", time.Now().Add(-since).UTC().Format(time.RFC3339))
			}
			var l apiv1.List[apiv1.Candidate]
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/automation/candidates", *tenant, q), nil, &l); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), l.Items)
			}
			var rows [][]string
			for _, c := range l.Items {
				rbs := strings.Join(c.Runbooks, ",")
				if rbs == "" {
					rbs = "-"
				}
				rows = append(rows, []string{c.ID, strconv.Itoa(c.Count), strconv.FormatFloat(c.HumanMinutes, 'f', 0, 64), c.Category, rbs, c.TitlePattern})
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "COUNT", "HUMAN MIN", "AREA", "RUNBOOKS", "PATTERN"}, rows)
		},
	}
	cmd.Flags().DurationVar(&since, "since", 0, "look back this long (default 720h)")
	return cmd
}

// draftFlags name what a Rule is drafted from.
type draftFlags struct {
	candidate, opsitem, runbook string
}

func (f *draftFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.candidate, "candidate", "", "draft from this automation candidate (see candidates)")
	cmd.Flags().StringVar(&f.opsitem, "opsitem", "", "draft from this OpsItem")
	cmd.Flags().StringVar(&f.runbook, "runbook", "", "the runbook the rule runs (default: the one people ran by hand most)")
}

func (f *draftFlags) check() error {
	if (f.candidate == "") == (f.opsitem == "") {
		return errors.New("give one of --candidate and --opsitem")
	}
	return nil
}

func newDraftCmd(g *globals, tenant *string) *cobra.Command {
	var (
		f      draftFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "draft",
		Short: "Print a Rule (mode suggest) drafted from a candidate or an OpsItem",
		Example: `  flywheel automation draft --candidate cand_… --runbook restart-service > ops/rules/nginx.yaml
  flywheel automation draft --opsitem oi_… --runbook restart-service --output ops/rules/nginx.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			path := "/api/v1/opsitems/" + url.PathEscape(f.opsitem) + "/rule"
			if f.candidate != "" {
				path = "/api/v1/automation/candidates/" + url.PathEscape(f.candidate) + "/rule"
			}
			q := url.Values{}
			if f.runbook != "" {
				q.Set("runbook", f.runbook)
			}
			var y json.RawMessage
			if err := g.client().Do(cmd.Context(), "GET", tenantPath(path, *tenant, q), nil, &y); err != nil {
				return err
			}
			if output != "" {
				return os.WriteFile(output, y, 0o644)
			}
			_, err := cmd.OutOrStdout().Write(y)
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the rule to this file instead of printing it")
	return cmd
}

func newSaveRuleCmd(g *globals, tenant *string) *cobra.Command {
	var f draftFlags
	cmd := &cobra.Command{
		Use:   "save",
		Short: "Save a drafted Rule into the server's content directory (admin; loaded at the next start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			var out apiv1.SavedRule
			in := apiv1.DraftRuleInput{Candidate: f.candidate, OpsItem: f.opsitem, Runbook: f.runbook}
			if err := g.client().Do(cmd.Context(), "POST", tenantPath("/api/v1/automation/rules", *tenant, nil), in, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved rule %s to %s (loaded when the server next starts)\n", out.Name, out.Path)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}
