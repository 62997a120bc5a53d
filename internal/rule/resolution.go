package rule

import (
	"context"
	"strings"

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
// ResolvedByRule(name) when an execution that rule started on o (not a
// nested one, not a dry run) succeeded and no person acted on o — nobody
// wrote on its timeline (a note, an acknowledgement, a status change, a
// runbook run by hand, an approval); otherwise "", and the pipeline
// resolves it as itself. The newest such execution names the rule.
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
	rule := ""
	for _, x := range exs {
		if x.Rule != "" && x.ParentID == "" && !x.DryRun && x.Status == runbook.StatusSucceeded {
			rule = x.Rule
			break
		}
	}
	if rule == "" {
		return "", nil
	}
	tl, err := tx.ListTimeline(ctx, o.TenantID, o.ID)
	if err != nil {
		return "", err
	}
	for _, e := range tl {
		if IsPerson(e.Actor) {
			return "", nil
		}
	}
	return ResolvedByRule(rule), nil
}
