package servercmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/correlate/learn"
	"github.com/flywheel-ops/flywheel/internal/replay"
)

// Learned is one candidate `flywheel replay --learn` found, with its
// backtest on the same stream.
type Learned struct {
	learn.Candidate
	File   string `json:"file"`
	Why    string `json:"why"`
	Before int    `json:"opsitems_before"`
	After  int    `json:"opsitems_after"`
	// Changed are the titles of the OpsItems the rule would make, that
	// are not OpsItems without it.
	Changed []string `json:"changed"`
}

// learnCandidates finds correlation candidates in the input stream,
// writes each drafted rule into out, and replays the stream with the
// content and the draft to show the OpsItems before and after.
func learnCandidates(ctx context.Context, input, dir, out string, before replay.Report) ([]Learned, error) {
	f, err := os.Open(input)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	opts, err := app.ReplayOptions(dir)
	if err != nil {
		return nil, err
	}
	opts.Input = f
	history, err := replay.Events(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var res []Learned
	for _, c := range learn.Candidates(history, nil, learn.Options{}, nil) {
		l := Learned{Candidate: c, Why: c.Why(), Before: len(before.OpsItems)}
		// Each draft is replayed alone: its own directory.
		d := filepath.Join(out, c.RuleName)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		l.File = filepath.Join(d, c.RuleName+".yaml")
		if err := os.WriteFile(l.File, []byte(c.Rule), 0o644); err != nil {
			return nil, err
		}
		after, err := replayFile(ctx, input, dir, d)
		if err != nil {
			return nil, fmt.Errorf("candidate %s: %w", c.RuleName, err)
		}
		l.After = len(after.OpsItems)
		was := map[string]bool{}
		for _, o := range before.OpsItems {
			was[o.Title+fmt.Sprint(o.Fingerprints)] = true
		}
		for _, o := range after.OpsItems {
			if !was[o.Title+fmt.Sprint(o.Fingerprints)] && !slices.Contains(l.Changed, o.Title) {
				l.Changed = append(l.Changed, o.Title)
			}
		}
		res = append(res, l)
	}
	return res, nil
}

func replayFile(ctx context.Context, input string, dirs ...string) (replay.Report, error) {
	f, err := os.Open(input)
	if err != nil {
		return replay.Report{}, err
	}
	defer f.Close()
	opts, err := app.ReplayOptions(dirs[0], dirs[1:]...)
	if err != nil {
		return replay.Report{}, err
	}
	opts.Input = f
	return replay.Run(ctx, opts)
}

func printLearned(w io.Writer, ls []Learned) {
	fmt.Fprintln(w)
	if len(ls) == 0 {
		fmt.Fprintln(w, "no correlation candidates: no two alert names fire together far beyond chance")
		return
	}
	for _, l := range ls {
		fmt.Fprintf(w, "candidate %s: %s\n  drafted: %s\n  OpsItems before %d, after %d", l.RuleName, l.Why, l.File, l.Before, l.After)
		if len(l.Changed) > 0 {
			fmt.Fprintf(w, "; new groups: %s", oneLineText(fmt.Sprint(l.Changed), 120))
		}
		fmt.Fprintln(w)
	}
}
