package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// addComplianceAPICmds adds the commands that talk to the server's
// compliance API: results, history, trend and exceptions.
func addComplianceAPICmds(cmd *cobra.Command, g *globals) {
	var tenant string
	flag := func(c *cobra.Command) *cobra.Command {
		c.Flags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
		return c
	}

	var rule, resource, status string
	var limit int
	results := &cobra.Command{
		Use:     "results",
		Short:   "List each config rule's current result on each resource",
		Example: "  flywheel compliance results --status NON_COMPLIANT\n  flywheel compliance results --rule linux-sshd-root-login-disabled --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			for k, v := range map[string]string{"rule": rule, "resource": resource, "status": status} {
				if v != "" {
					q.Set(k, v)
				}
			}
			var out apiv1.List[apiv1.ComplianceResult]
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/compliance/results", tenant, q), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			rows := make([][]string, 0, len(out.Items))
			for _, r := range out.Items {
				rows = append(rows, []string{r.Rule, r.ResourceID, r.Status, r.Since.Format(time.RFC3339), r.Annotation})
			}
			return printTable(cmd.OutOrStdout(), []string{"RULE", "RESOURCE", "STATUS", "SINCE", "ANNOTATION"}, rows)
		},
	}
	results.Flags().StringVar(&rule, "rule", "", "only this rule")
	results.Flags().StringVar(&resource, "resource", "", "only this resource id")
	results.Flags().StringVar(&status, "status", "", "only this status (COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, ERROR, EXEMPT)")
	results.Flags().IntVar(&limit, "limit", apiv1.DefaultPageLimit, "at most this many")

	var scope, name string
	trend := &cobra.Command{
		Use:     "trend",
		Short:   "The compliance % over time of the tenant, a pack, a control or an account",
		Example: "  flywheel compliance trend\n  flywheel compliance trend --scope pack --name linux-host-baseline",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"scope": {scope}}
			if name != "" {
				q.Set("name", name)
			}
			var out apiv1.List[apiv1.ComplianceScore]
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/compliance/scores", tenant, q), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			rows := make([][]string, 0, len(out.Items))
			for _, s := range out.Items {
				rows = append(rows, []string{s.At.Format(time.RFC3339), s.Name, fmt.Sprintf("%.2f%%", s.Percent), strconv.Itoa(s.Compliant), strconv.Itoa(s.NonCompliant)})
			}
			return printTable(cmd.OutOrStdout(), []string{"AT", "NAME", "COMPLIANT %", "COMPLIANT", "NON_COMPLIANT"}, rows)
		},
	}
	trend.Flags().StringVar(&scope, "scope", apiv1.ScopeTenant, "tenant, pack, control or account")
	trend.Flags().StringVar(&name, "name", "", "the pack, control (PACK/CONTROL) or account")

	exceptions := &cobra.Command{Use: "exception", Aliases: []string{"exceptions"}, Short: "Exempt a rule, a resource or a tag until a date"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List exceptions, expired ones included",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out apiv1.List[apiv1.ComplianceException]
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/compliance/exceptions", tenant, nil), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			rows := make([][]string, 0, len(out.Items))
			for _, e := range out.Items {
				scope := e.Rule
				if e.ResourceID != "" {
					scope += " resource=" + e.ResourceID
				}
				if e.TagKey != "" {
					scope += " tag=" + e.TagKey + "=" + e.TagValue
				}
				rows = append(rows, []string{e.ID, scope, e.Owner, e.ExpiresAt.Format(time.RFC3339), e.Reason})
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "EXEMPTS", "OWNER", "EXPIRES", "REASON"}, rows)
		},
	}
	var in apiv1.ComplianceExceptionInput
	var tag string
	var duration time.Duration
	add := &cobra.Command{
		Use:     "add",
		Short:   "Create an exception; prints its ID",
		Example: `  flywheel compliance exception add --rule linux-ip-forwarding-disabled --tag role=router --owner netops --reason "routers forward" --duration 2160h`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if duration <= 0 {
				return errors.New("--duration is required (e.g. 720h)")
			}
			in.ExpiresAt = time.Now().Add(duration).UTC()
			if tag != "" {
				k, v, _ := cutTag(tag)
				in.TagKey, in.TagValue = k, v
			}
			var out apiv1.ComplianceException
			if err := g.client().Do(cmd.Context(), "POST", tenantPath("/api/v1/compliance/exceptions", tenant, nil), in, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), out.ID)
			return err
		},
	}
	add.Flags().StringVar(&in.Rule, "rule", "", "the rule exempted (every rule when not given)")
	add.Flags().StringVar(&in.ResourceID, "resource", "", "the resource exempted")
	add.Flags().StringVar(&tag, "tag", "", "exempt resources with this tag: KEY or KEY=VALUE")
	add.Flags().StringVar(&in.Reason, "reason", "", "why (required)")
	add.Flags().StringVar(&in.Owner, "owner", "", "who answers for it (required)")
	add.Flags().DurationVar(&duration, "duration", 0, "how long it lasts (at most 8784h)")
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an exception: its results count again at the next evaluation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.client().Do(cmd.Context(), "DELETE", tenantPath("/api/v1/compliance/exceptions/"+url.PathEscape(args[0]), tenant, nil), nil, nil)
		},
	}
	exceptions.AddCommand(flag(list), flag(add), flag(del))
	cmd.AddCommand(flag(results), flag(trend), exceptions)
}

// cutTag splits KEY=VALUE (VALUE may be empty: any value).
func cutTag(s string) (key, value string, hasValue bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
