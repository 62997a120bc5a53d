package stats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Errors of drafting; callers test with errors.Is.
var (
	// ErrNoRunbook: nobody ran a runbook by hand on the OpsItems, and the
	// request named none.
	ErrNoRunbook = errors.New("no runbook was run by hand on these OpsItems; name the runbook the rule should run")
	// ErrDraftExists: the content directory already has a file of the
	// drafted rule's name.
	ErrDraftExists = errors.New("the content directory already has this rule")
	// ErrInvalidDraft wraps what the content loader or the rule's test
	// found wrong with a draft.
	ErrInvalidDraft = errors.New("the drafted rule does not validate")
)

// CandidateDraft drafts a Rule from a candidate: its signature, runbook (the
// one people ran most, unless runbook names another) and the parameters of
// the newest hand run of that runbook.
func CandidateDraft(ctx context.Context, st store.Reader, tenant string, c Candidate, runbook string) (Draft, error) {
	return draftFrom(ctx, st, tenant, c.TitlePattern, c.Category, c.Examples, c.Runbooks, runbook,
		fmt.Sprintf("%d OpsItems resolved by hand", c.Count))
}

// OpsItemDraft drafts a Rule from one OpsItem and the runbooks people ran
// on it.
func OpsItemDraft(ctx context.Context, st store.Reader, tenant string, o store.OpsItem, runbook string) (Draft, error) {
	runs, err := handRuns(ctx, st, tenant, o.ID)
	if err != nil {
		return Draft{}, err
	}
	var rbs []string
	for _, x := range runs {
		if !slices.Contains(rbs, x.Runbook) {
			rbs = append(rbs, x.Runbook)
		}
	}
	return draftFrom(ctx, st, tenant, TitlePattern(o.Title), o.Category, []Example{{ID: o.ID, Title: o.Title}}, rbs, runbook, "OpsItem "+o.ID)
}

func draftFrom(ctx context.Context, st store.Reader, tenant, pattern, category string, examples []Example, handRunbooks []string, runbook, from string) (Draft, error) {
	if runbook == "" {
		if len(handRunbooks) == 0 {
			return Draft{}, ErrNoRunbook
		}
		runbook = handRunbooks[0]
	}
	// The rule is for the tenant whose OpsItems it was drafted from.
	d := Draft{TitlePattern: pattern, Category: category, Runbook: runbook, From: from, Tenant: tenant}
	if len(examples) > 0 {
		d.Example = examples[0].Title
	}
	for _, ex := range examples {
		runs, err := handRuns(ctx, st, tenant, ex.ID)
		if err != nil {
			return d, err
		}
		for _, x := range runs {
			if x.Runbook == runbook && len(x.Parameters) > 0 {
				if err := json.Unmarshal(x.Parameters, &d.Parameters); err != nil {
					return d, fmt.Errorf("parameters of execution %s: %w", x.ID, err)
				}
				return d, nil
			}
		}
	}
	return d, nil
}

// handRuns lists the executions people started on an OpsItem (not rules,
// not dry runs, not nested), newest first.
func handRuns(ctx context.Context, st store.Reader, tenant, opsItemID string) ([]store.Execution, error) {
	xs, _, err := st.ListExecutions(ctx, tenant, store.ExecutionFilter{OpsItemID: opsItemID}, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		return nil, fmt.Errorf("executions of %s: %w", opsItemID, err)
	}
	var out []store.Execution
	for _, x := range xs {
		if x.Rule == "" && !x.DryRun && x.ParentID == "" {
			out = append(out, x)
		}
	}
	return out, nil
}

// CheckDraft loads a drafted Rule with the built-in library and, when
// contentDir is set, the user's content, and runs the rule's tests: what
// this accepts, `flywheel serve` and `flywheel content test` accept.
func CheckDraft(d Draft, contentDir string) ([]byte, error) {
	y, err := d.YAML()
	if err != nil {
		return nil, err
	}
	sources := []content.Source{content.Builtin()}
	if contentDir != "" {
		sources = append(sources, content.Dir(contentDir))
	}
	sources = append(sources, content.Source{Name: "draft", FS: fstest.MapFS{"rules/" + d.Name() + ".yaml": {Data: y}}})
	set, err := content.Load(kinds.NewRegistry(), sources...)
	if err != nil {
		return y, fmt.Errorf("%w: %w", ErrInvalidDraft, err)
	}
	rs, err := rule.Compile(set.Items("Rule"))
	if err != nil {
		return y, fmt.Errorf("%w: %w", ErrInvalidDraft, err)
	}
	for _, r := range rs.Test() {
		if r.Rule == d.Name() && r.Err != nil {
			return y, fmt.Errorf("%w: test %q: %w", ErrInvalidDraft, r.Test, r.Err)
		}
	}
	return y, nil
}

// SaveDraft checks a draft against the content directory and writes it
// there as rules/<name>.yaml, never over an existing file. The running
// server loads it at its next start.
func SaveDraft(contentDir string, d Draft) (string, error) {
	if contentDir == "" {
		return "", errors.New("the server has no content directory")
	}
	path := filepath.Join(contentDir, "rules", d.Name()+".yaml")
	if _, err := os.Stat(path); err == nil {
		return path, fmt.Errorf("%w: %s", ErrDraftExists, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return path, err
	}
	y, err := CheckDraft(d, contentDir)
	if err != nil {
		return path, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return path, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".draft-*.yaml.tmp")
	if err != nil {
		return path, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(y); err != nil {
		tmp.Close()
		return path, err
	}
	if err := tmp.Close(); err != nil {
		return path, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return path, err
	}
	// Link, not rename: a file that appeared meanwhile is not replaced.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return path, fmt.Errorf("%w: %s", ErrDraftExists, path)
		}
		return path, err
	}
	return path, nil
}
