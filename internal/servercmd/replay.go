package servercmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/replay"
)

func newReplayCmd(g globals) *cobra.Command {
	var input, dir, learnDir string
	cmd := &cobra.Command{
		Use:   "replay --input FILE [--content DIR]",
		Short: "Backtest content on a recorded event stream; prints a report (--json: as JSON)",
		Long: "Feeds FILE (NDJSON, one intake body per line: an Alertmanager webhook unless the line is\n" +
			"{\"source\": NAME, \"body\": {...}}) through the same pipeline as the server, in event time,\n" +
			"against a scratch database, with the built-in content and DIR's. Touches no live data.\n" +
			"The report: received alert occurrences, the OpsItems that would open with their member\n" +
			"fingerprints, root cause and why each member joined, suppressions by reason, and\n" +
			"noise_reduction = 1 - opsitems/received.\n" +
			"--learn DIR also proposes correlation rules: alert names that fire together in a cluster far\n" +
			"more often than chance; each drafted rule is written under DIR and replayed (OpsItems before\n" +
			"and after). Review a draft, then copy it into your content.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.Open(input)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			defer f.Close()
			opts, err := app.ReplayOptions(dir)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			opts.Input = f
			rep, err := replay.Run(cmd.Context(), opts)
			if err != nil {
				return fmt.Errorf("replay %s: %w", input, err)
			}
			var learned []Learned
			if learnDir != "" {
				if learned, err = learnCandidates(cmd.Context(), input, dir, learnDir, rep); err != nil {
					return fmt.Errorf("learn from %s: %w", input, err)
				}
			}
			if g.JSON() {
				if learnDir != "" {
					return printJSON(cmd.OutOrStdout(), struct {
						replay.Report
						Candidates []Learned `json:"candidates"`
					}{rep, learned})
				}
				return printJSON(cmd.OutOrStdout(), rep)
			}
			if err := printReplay(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
			if learnDir != "" {
				printLearned(cmd.OutOrStdout(), learned)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "NDJSON file of recorded intake bodies (required)")
	cmd.Flags().StringVar(&dir, "content", "", "content directory to test, over the built-in library")
	cmd.Flags().StringVar(&learnDir, "learn", "", "propose correlation rules learned from the input; write the drafts under this directory")
	_ = cmd.MarkFlagRequired("input")
	return cmd
}
