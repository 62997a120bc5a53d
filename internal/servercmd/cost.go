package servercmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/cost"
)

// newScheduleHolidaysCmd is `flywheel schedule holidays`: it reads a
// calendar offline with the cost package's parser, a server package.
func newScheduleHolidaysCmd(g globals) *cobra.Command {
	holidays := &cobra.Command{
		Use:   "holidays FILE.ics",
		Short: "Read an iCalendar file's holidays as a schedule imports them (offline), printed as holidays.dates",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			hs, err := cost.ParseICal(string(b))
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if g.JSON() {
				return printJSON(cmd.OutOrStdout(), hs)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "holidays:\n  dates:")
			for _, h := range hs {
				fmt.Fprintf(cmd.OutOrStdout(), "    - %s  # %s\n", h.Date, h.Name)
			}
			return nil
		},
	}
	return holidays
}
