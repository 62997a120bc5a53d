package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/doctor"
)

func newDoctorCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the server's setup: notification channels rules need, whether AWS credentials work",
		Long: `Show GET /api/v1/doctor (platform admin): each check is ok, a setup task
(todo: works, but something is not set up) or failed, with what to do. It
exits 1 when a check failed.`,
		Example: `  flywheel doctor
  flywheel doctor --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rep doctor.Report
			if err := g.client().Do(cmd.Context(), "GET", "/api/v1/doctor", nil, &rep); err != nil {
				return err
			}
			if g.json {
				if err := printJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				printDoctor(cmd.OutOrStdout(), rep)
			}
			if rep.Failed() {
				return &ExitError{Code: 1, Err: errors.New("a setup check failed")}
			}
			return nil
		},
	}
}

func printDoctor(w io.Writer, rep doctor.Report) {
	mark := map[doctor.Status]string{doctor.OK: "ok  ", doctor.Todo: "todo", doctor.Fail: "FAIL"}
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "%s  %-13s  %s\n", mark[c.Status], c.Name, c.Summary)
		for _, d := range c.Details {
			fmt.Fprintf(w, "        %s\n", d)
		}
		if c.Fix != "" {
			fmt.Fprintf(w, "        → %s\n", c.Fix)
		}
	}
	if n := len(rep.Tasks()); n == 0 {
		fmt.Fprintln(w, "\nnothing to set up")
	} else {
		fmt.Fprintf(w, "\n%d %s\n", n, strings.TrimSpace(map[bool]string{true: "setup task", false: "setup tasks"}[n == 1]))
	}
}
