package rule

import (
	"context"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ResolvedByPrefix starts the resolved_by of every OpsItem closed by an
// automation rather than by a person ("token:<id>") or by the pipeline
// alone ("system:pipeline"): the flywheel metrics count them as resolved
// by automation.
const ResolvedByPrefix = "automation:"

// ResolvedByRule is the resolved_by of an OpsItem that rule r fixed:
// "automation:rule:<name>".
func ResolvedByRule(name string) string { return ResolvedByPrefix + "rule:" + name }

// automatedActors start the actors of Flywheel's own timeline entries and
// audit records; any other actor ("token:<id>", a user) is a person.
var automatedActors = []string{"system:", "rule:", "execution:", "runbook:", ResolvedByPrefix}

// IsPerson reports whether actor is a person rather than Flywheel itself.
// An empty actor is nobody.
func IsPerson(actor string) bool {
	if actor == "" {
		return false
	}
	for _, p := range automatedActors {
		if strings.HasPrefix(actor, p) {
			return false
		}
	}
	return true
}

// maxExecutionsLooked bounds how many of an OpsItem's executions
// ResolvedBy reads (newest first).
const maxExecutionsLooked = 50

// ResolvedBy answers the pipeline when o's alerts have cleared and it is
// about to resolve o: was it fixed by automation? It returns
// ResolvedByRule(name) only when a verified run preceded the resolution
// within o's current lifetime: an execution that rule started on o (not a
// nested one, not a dry run) succeeded, its runbook declares `verify` (so
// succeeded means the fix was measured to take; see Engine.Verifies), it
// ended after o last (re)opened, and no person acted on o — nobody wrote
// on its timeline (a note, an acknowledgement, a status change, a runbook
// run by hand, an approval). Otherwise "", and the pipeline resolves it as
// itself: an ineffective run, a run blocked by its cool-down, or a run
// from before a reopening earns no credit. The newest such execution
// names the rule.
//
// It costs one indexed query for an OpsItem without executions, which is
// most of them.
func (en *Engine) ResolvedBy(ctx context.Context, tx store.Tx, o *store.OpsItem) (string, error) {
	if o == nil {
		return "", nil
	}
	exs, _, err := tx.ListExecutions(ctx, o.TenantID, store.ExecutionFilter{OpsItemID: o.ID}, store.Page{Limit: maxExecutionsLooked})
	if err != nil {
		return "", err
	}
	var cands []store.Execution
	for _, x := range exs {
		if x.Rule != "" && x.ParentID == "" && !x.DryRun && x.Status == runbook.StatusSucceeded && en.verifies(o.TenantID, x.Runbook) {
			cands = append(cands, x)
		}
	}
	if len(cands) == 0 {
		return "", nil
	}
	tl, err := tx.ListTimeline(ctx, o.TenantID, o.ID)
	if err != nil {
		return "", err
	}
	var opened time.Time
	for _, e := range tl {
		if IsPerson(e.Actor) {
			return "", nil
		}
		if e.Kind == "reopened" && e.At.After(opened) {
			opened = e.At
		}
	}
	for _, x := range cands {
		if !x.EndedAt.Before(opened) {
			return ResolvedByRule(x.Rule), nil
		}
	}
	return "", nil
}

// verifies reports whether a run of the tenant's runbook that succeeded
// was verified.
func (en *Engine) verifies(tenant, rb string) bool {
	if en.Verifies == nil {
		return true
	}
	return en.Verifies(tenant, rb)
}
