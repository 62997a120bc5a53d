package cli

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// newPatchCmd is `flywheel patch`: baselines, scans and installs (the
// patch-scan and patch-install runbooks), compliance and its drill-down,
// and expedites.
func newPatchCmd(g *globals) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{Use: "patch", Short: "Patch baselines, scans, installs, compliance and expedited updates (docs/patching.md)"}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "tenant (platform tokens)")

	baseline := &cobra.Command{
		Use:   "baseline",
		Short: "List the patch baselines (content) and their approval rules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var l apiv1.List[apiv1.BaselineView]
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/patch/baselines", tenant, nil), nil, &l); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), l.Items)
			}
			rows := make([][]string, len(l.Items))
			for i, b := range l.Items {
				rows[i] = []string{b.Name, b.Spec.OperatingSystem, strconv.Itoa(len(b.Spec.ApprovalRules)), strings.Join(b.Spec.RejectedPatches, ","), b.Spec.RejectedPatchesAction, oneLineText(b.Description, 60)}
			}
			return printTable(cmd.OutOrStdout(), []string{"NAME", "OS", "RULES", "REJECTED", "REJECTED ACTION", "DESCRIPTION"}, rows)
		},
	}

	run := func(use, runbook, short string) *cobra.Command {
		return &cobra.Command{
			Use:     use + " RESOURCE_ID...",
			Short:   short,
			Example: "  flywheel patch " + use + " res_…",
			Args:    cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var x apiv1.ExecutionView
				if err := g.client().Do(cmd.Context(), "POST", tenantPath("/api/v1/runbooks/"+runbook+"/executions", tenant, nil), apiv1.RunInput{Targets: args}, &x); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), x)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s started (%s on %d hosts); follow it with: flywheel runbook execution %s\n", x.ID, runbook, len(args), x.ID)
				return nil
			},
		}
	}
	scan := run("scan", "patch-scan", "Scan hosts against their baselines now (the patch-scan runbook)")
	install := run("install", "patch-install", "Install the approved updates on hosts now, out of window (the patch-install runbook); windows run it on schedule")

	var days int
	compliance := &cobra.Command{
		Use:     "compliance [RESOURCE_ID]",
		Example: "  flywheel patch compliance",
		Short:   "Compliance by group, application and host; with a host, its packages and why it is not compliant",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if len(args) == 1 {
				var h apiv1.HostCompliance
				if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/patch/hosts/"+url.PathEscape(args[0]), tenant, nil), nil, &h); err != nil {
					return err
				}
				if g.json {
					return printJSON(w, h)
				}
				verdict := "compliant"
				if !h.Compliant {
					verdict = "NOT compliant"
				}
				fmt.Fprintf(w, "%s (%s): %s — group %s, baseline %s, scanned %s\n", h.Hostname, h.ResourceID, verdict, orNone(h.Group), h.Baseline, fmtTime(h.ScannedAt))
				for _, why := range h.Detail.Why {
					fmt.Fprintf(w, "  - %s\n", why)
				}
				rows := make([][]string, len(h.Detail.Decisions))
				for i, d := range h.Detail.Decisions {
					rows[i] = []string{d.Name, d.Installed, d.Candidate, d.Status, d.Rule, d.ComplianceLevel, oneLineText(d.Reason, 60)}
				}
				return printTable(w, []string{"PACKAGE", "INSTALLED", "AVAILABLE", "STATUS", "RULE", "LEVEL", "REASON"}, rows)
			}
			var rep apiv1.Report
			q := url.Values{"days": {strconv.Itoa(days)}}
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/patch/compliance", tenant, q), nil, &rep); err != nil {
				return err
			}
			if g.json {
				return printJSON(w, rep)
			}
			fmt.Fprintf(w, "Compliance: %.1f%% (%d of %d hosts); missing by level: %s; failed %d; pending reboot %d\n",
				rep.Tenant.Percent, rep.Tenant.Compliant, rep.Tenant.Hosts, levels(rep.MissingByLevel), rep.Failed, rep.PendingReboot)
			shares := func(kind string, l []apiv1.Share) [][]string {
				rows := make([][]string, len(l))
				for i, s := range l {
					rows[i] = []string{kind, s.Name, strconv.Itoa(s.Hosts), strconv.Itoa(s.Compliant), fmt.Sprintf("%.1f%%", s.Percent)}
				}
				return rows
			}
			if err := printTable(w, []string{"BY", "NAME", "HOSTS", "COMPLIANT", "%"}, append(shares("group", rep.Groups), shares("application", rep.Applications)...)); err != nil {
				return err
			}
			rows := make([][]string, len(rep.Hosts))
			for i, h := range rep.Hosts {
				rows[i] = []string{h.ResourceID, h.Hostname, orNone(h.Group), strconv.FormatBool(h.Compliant), levels(h.MissingByLevel), strconv.Itoa(h.Failed), strconv.FormatBool(h.PendingReboot), fmtTime(h.ScannedAt)}
			}
			return printTable(w, []string{"HOST", "NAME", "GROUP", "COMPLIANT", "MISSING", "FAILED", "REBOOT", "SCANNED"}, rows)
		},
	}
	compliance.Flags().IntVar(&days, "days", 30, "trend length in days (1-366)")

	var ex apiv1.ExpediteRequest
	expedite := &cobra.Command{
		Use:   "expedite [PACKAGE --source WHAT --target RESOURCE_ID...]",
		Short: "Install a critical update out of window after an admin's approval, due by the next business day; without a package, list expedites",
		Example: `  flywheel patch expedite openssl --source "DSA-5801-1" --reason "remote code execution" --target res_…
  flywheel patch expedite`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if len(args) == 0 {
				var l apiv1.List[apiv1.Expedite]
				if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/patch/expedites", tenant, nil), nil, &l); err != nil {
					return err
				}
				if g.json {
					return printJSON(w, l.Items)
				}
				rows := make([][]string, len(l.Items))
				for i, e := range l.Items {
					rows[i] = []string{e.ID, e.Package, e.Status, fmtTime(e.RequestedAt), fmtTime(e.DueAt), fmtTimePtr(e.InstalledAt), e.ExecutionID, e.OpsItemID}
				}
				return printTable(w, []string{"EXPEDITE", "PACKAGE", "STATUS", "REQUESTED", "DUE", "INSTALLED", "EXECUTION", "OPSITEM"}, rows)
			}
			ex.Package = args[0]
			var e apiv1.Expedite
			if err := g.client().Do(cmd.Context(), "POST", tenantPath("/api/v1/patch/expedites", tenant, nil), ex, &e); err != nil {
				return err
			}
			if g.json {
				return printJSON(w, e)
			}
			fmt.Fprintf(w, "%s: %s on %d hosts, due %s; waiting for approval: flywheel runbook approve %s\n", e.ID, e.Package, len(e.Targets), fmtTime(e.DueAt), e.ExecutionID)
			return nil
		},
	}
	expedite.Flags().StringVar(&ex.Source, "source", "", "what flagged it: finding, advisory, repository")
	expedite.Flags().StringVar(&ex.Reason, "reason", "", "why it cannot wait")
	expedite.Flags().StringVar(&ex.Version, "version", "", "version (default the candidate)")
	expedite.Flags().StringArrayVar(&ex.Targets, "target", nil, "host resource ID (repeatable)")

	cmd.AddCommand(baseline, scan, install, compliance, expedite)
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// levels prints counts by compliance level, most severe first.
func levels(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k, n := range m {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	rank := func(l string) int {
		for i, x := range apiv1.Levels {
			if x == l {
				return i
			}
		}
		return len(apiv1.Levels)
	}
	sort.Slice(keys, func(i, j int) bool { return rank(keys[i]) < rank(keys[j]) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
