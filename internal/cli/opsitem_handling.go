package cli

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// handlingCmds are a person's actions on an OpsItem: ack, assign, note,
// resolve, merge, split (POST /api/v1/opsitems/{id}/…). Each prints the OpsItem after
// the change, as a summary line or JSON with --json.
func handlingCmds(g *globals, withTenant func(string, url.Values) string) []*cobra.Command {
	post := func(cmd *cobra.Command, id, path string, in any) error {
		var o apiv1.OpsItem
		p := withTenant("/api/v1/opsitems/"+url.PathEscape(id)+"/"+path, url.Values{})
		if err := g.client().Do(cmd.Context(), "POST", p, in, &o); err != nil {
			return err
		}
		if g.json {
			return printJSON(cmd.OutOrStdout(), o)
		}
		assignee := o.Assignee
		if assignee == "" {
			assignee = "-"
		}
		_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s %s assignee=%s acknowledged_by=%s in_hands=%ds\n",
			o.ID, o.Status, assignee, orDash(o.AcknowledgedBy), o.HumanSeconds)
		return err
	}
	var comment string
	ack := &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge an OpsItem (it moves to in-progress)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return post(cmd, args[0], "acknowledge", apiv1.HandlingInput{Comment: comment})
		},
	}
	var unassign bool
	assign := &cobra.Command{
		Use:   "assign ID [ASSIGNEE]",
		Short: "Assign an OpsItem to a person, or unassign it with --none",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if unassign == (len(args) == 2) {
				return fmt.Errorf("give either an ASSIGNEE or --none")
			}
			in := apiv1.HandlingInput{Comment: comment}
			if len(args) == 2 {
				in.Assignee = args[1]
			}
			return post(cmd, args[0], "assign", in)
		},
	}
	assign.Flags().BoolVar(&unassign, "none", false, "unassign")
	note := &cobra.Command{
		Use:   "note ID TEXT",
		Short: "Add a note to an OpsItem's timeline",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return post(cmd, args[0], "notes", apiv1.HandlingInput{Text: args[1]})
		},
	}
	resolve := &cobra.Command{
		Use:   "resolve ID",
		Short: "Resolve an OpsItem by hand",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return post(cmd, args[0], "resolve", apiv1.HandlingInput{Comment: comment})
		},
	}
	for _, c := range []*cobra.Command{ack, assign, resolve} {
		c.Flags().StringVar(&comment, "comment", "", "comment for the timeline")
	}
	merge := &cobra.Command{
		Use:   "merge TARGET SOURCE...",
		Short: "Merge OpsItems: move the member alerts of each SOURCE into TARGET and close the sources as merged",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return post(cmd, args[0], "merge", apiv1.MergeInput{From: args[1:]})
		},
	}
	split := &cobra.Command{
		Use:   "split ID FINGERPRINT",
		Short: "Split a member alert out of an OpsItem into a new OpsItem (printed)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return post(cmd, args[0], "split", apiv1.SplitInput{Fingerprint: args[1]})
		},
	}
	return []*cobra.Command{ack, assign, note, resolve, merge, split}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
