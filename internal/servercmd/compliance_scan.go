package servercmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ScanOutput is what `flywheel compliance scan --json` prints.
type ScanOutput struct {
	Account string                    `json:"account"`
	Regions []string                  `json:"regions"`
	Score   compliance.Score          `json:"score"`
	Packs   []compliance.PackReport   `json:"packs"`
	Errors  []string                  `json:"inventory_errors,omitempty"`
	Checks  int                       `json:"checks"`
	Spent   string                    `json:"evaluation_time"`
	Accts   []compliance.AccountScore `json:"-"`
}

func newComplianceScanCmd(g globals) *cobra.Command {
	var (
		recorded, pack, contentDir, account string
		regions                             []string
	)
	cmd := &cobra.Command{
		Use:   "scan --recorded DIR",
		Short: "Evaluate the conformance packs over a recorded AWS account, offline",
		Long: `Replay a placebo recording of an AWS account (<service>.<Operation>_<n>.json
files, see docs/compliance.md) through the AWS provider's inventory, evaluate
the built-in packs (and those of --content DIR) over it and print each pack's
compliance, control by control. The recording's placebo.json may name the
account and regions; --account and --region override it.`,
		Example: `  flywheel compliance scan --recorded testdata/aws/acme --json
  flywheel compliance scan --recorded testdata/aws/acme --pack cis-aws-foundations-v3.0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if recorded == "" {
				return errors.New("--recorded DIR is required")
			}
			meta, err := readScanMeta(recorded)
			if err != nil {
				return err
			}
			if account == "" {
				account = meta.Account
			}
			if len(regions) == 0 {
				regions = meta.Regions
			}
			if account == "" || len(regions) == 0 {
				return fmt.Errorf("%s names no account or regions; give --account and --region", filepath.Join(recorded, placebo.MetaFile))
			}
			sources := []content.Source{content.Builtin()}
			if contentDir != "" {
				sources = append(sources, content.Dir(contentDir))
			}
			set, err := content.Load(kinds.NewRegistry(), sources...)
			if err != nil {
				return fmt.Errorf("content:\n%w", err)
			}
			lib, err := compliance.NewLibrary(set)
			if err != nil {
				return err
			}
			var packs []*compliance.Pack
			for _, p := range lib.Packs("") {
				if pack == "" || p.Name == pack {
					packs = append(packs, p)
				}
			}
			if len(packs) == 0 {
				return fmt.Errorf("no pack %q (packs: %v)", pack, lib.PackNames())
			}
			pill := placebo.Replay(recorded)
			f := provider.NewFactory(provider.FactoryOptions{LoadBase: placebo.LoadBase, APIOptions: pill.APIOptions(), MaxBackoff: time.Millisecond})
			inv, err := provider.NewInventory(f, provider.InventoryOptions{Now: func() time.Time { return meta.RecordedAt }}).
				Collect(cmd.Context(), store.AWSAccount{ID: account, Name: account, Regions: regions})
			if err != nil {
				return fmt.Errorf("inventory: %w", err)
			}
			subjects := make([]compliance.Subject, 0, len(inv.Resources))
			for _, r := range inv.Resources {
				s, err := compliance.Prepare(r)
				if err != nil {
					return err
				}
				subjects = append(subjects, s)
			}
			start := time.Now()
			plan := compliance.NewPlan(packs)
			rep := plan.Evaluate(subjects).Report("", nil, meta.RecordedAt)
			out := ScanOutput{Account: account, Regions: regions, Score: rep.Score, Packs: rep.Packs, Checks: plan.Checks(),
				Spent: time.Since(start).Round(time.Microsecond).String()}
			for _, e := range inv.Errors {
				out.Errors = append(out.Errors, fmt.Sprint(e))
			}
			if g.JSON() {
				return printJSON(cmd.OutOrStdout(), out)
			}
			return printScan(cmd.OutOrStdout(), out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&recorded, "recorded", "", "the placebo recording to replay")
	fl.StringVar(&pack, "pack", "", "evaluate this pack only")
	fl.StringVar(&contentDir, "content", "", "a content directory loaded over the built-in library")
	fl.StringVar(&account, "account", "", "the recorded account's id (default: placebo.json's)")
	fl.StringSliceVar(&regions, "region", nil, "the recorded regions (default: placebo.json's)")
	return cmd
}

// scanMeta is what scan reads from a recording's placebo.json.
type scanMeta struct {
	RecordedAt time.Time `json:"recorded_at"`
	Account    string    `json:"account"`
	Regions    []string  `json:"regions"`
}

func readScanMeta(dir string) (scanMeta, error) {
	var m scanMeta
	b, err := os.ReadFile(filepath.Join(dir, placebo.MetaFile))
	if err != nil {
		return m, fmt.Errorf("recording: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("recording: %s: %w", filepath.Join(dir, placebo.MetaFile), err)
	}
	return m, nil
}

func printScan(w io.Writer, out ScanOutput) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Account %s (%v): %.2f%% compliant\n", out.Account, out.Regions, out.Score.Percent)
	for _, p := range out.Packs {
		fmt.Fprintf(tw, "\n%s\t%.2f%%\t\n", p.Name, p.CompliancePercent)
		for _, c := range p.Controls {
			fmt.Fprintf(tw, "  %s\t%s\t%d resources\n", c.ID, c.Status, len(c.Resources))
		}
	}
	return tw.Flush()
}
