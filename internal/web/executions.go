package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// executionRow is an execution with its step rows, as lists show it.
type executionRow struct {
	store.Execution
	Steps []store.ExecutionStep
}

// Done reports whether the execution has ended.
func (e executionRow) Done() bool { return runbook.IsTerminal(e.Status) }

// executionRows lists up to limit of a tenant's executions, newest first,
// each with its steps.
func (h *Handler) executionRows(ctx context.Context, tenant string, f store.ExecutionFilter, limit int) ([]executionRow, error) {
	list, _, err := h.st.ListExecutions(ctx, tenant, f, store.Page{Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	out := make([]executionRow, len(list))
	for i, e := range list {
		steps, err := h.st.ListExecutionSteps(ctx, tenant, e.ID)
		if err != nil {
			return nil, fmt.Errorf("execution steps: %w", err)
		}
		out[i].Execution, out[i].Steps = h.redact(e, steps)
	}
	return out, nil
}

// executionStatuses are the statuses the executions list filters by.
var executionStatuses = []string{runbook.StatusPending, runbook.StatusWaitingApproval, runbook.StatusRunning,
	runbook.StatusSucceeded, runbook.StatusIneffective, runbook.StatusFailed, runbook.StatusCancelled, runbook.StatusDenied, runbook.StatusTimedOut}

// executionsData is the executions list.
type executionsData struct {
	Status, Runbook string
	Statuses        []option
	Items           []store.Execution
}

// executionsPageSize bounds the executions list.
const executionsPageSize = 100

func (h *Handler) executions(rq *request) (any, error) {
	rq.view.Title = "Executions"
	if h.rb == nil {
		return nil, errNoRunbooks
	}
	q := rq.URL.Query()
	d := executionsData{Status: q.Get("status"), Runbook: q.Get("runbook"), Statuses: options(executionStatuses, nil)}
	if d.Status != "" && !contains(executionStatuses, d.Status) {
		return nil, errBadRequest("Invalid filter: status %q is not an execution status.", d.Status)
	}
	if len(d.Runbook) > 200 {
		return nil, errBadRequest("The runbook name is too long.")
	}
	items, _, err := h.st.ListExecutions(rq.ctx, rq.tenantID(), store.ExecutionFilter{Status: d.Status, Runbook: d.Runbook},
		store.Page{Limit: executionsPageSize})
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	d.Items = items
	return d, nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// executionData is the execution page.
type executionData struct {
	executionRow
	Approvals []store.Approval
	// Parameters, Targets and Outputs as key/value tables (docTable).
	Parameters template.HTML
	Targets    template.HTML
	Outputs    template.HTML
	// Gate is the approval the execution waits at (nil when it does not).
	Gate   *gateView
	CanAct bool
	// OpsItemTitle names the OpsItem the execution is for ("" if none).
	OpsItemTitle string
}

// gateView is an approval gate as a person sees it.
type gateView struct {
	Step      string
	Message   string
	Approvers []string
	Needed    int
	Approved  []string
	// Mine: the session may decide.
	Mine bool
	// Own: the session started the execution, so another principal
	// decides (four eyes).
	Own bool
	// AWS is the server's AWS readiness, for a runbook with aws steps
	// (nil otherwise): approving it is moot if AWS is not set up.
	AWS *awsReadiness
}

// awsReadiness is what an approver of an AWS runbook sees: the setup
// check's tenant-safe sentence, and whether the credentials can act in
// the account the execution names.
type awsReadiness struct {
	OK       bool
	Sentence string
}

// awsGate describes AWS readiness for execution e from the setup check c.
func awsGate(c doctor.Check, e store.Execution) *awsReadiness {
	r := &awsReadiness{OK: c.Status != doctor.Fail && c.Account != "", Sentence: c.Brief}
	var p struct {
		Account string `json:"account"`
	}
	if json.Unmarshal(e.Parameters, &p) == nil && p.Account != "" && c.Account != "" && p.Account != c.Account {
		r.OK = false
		r.Sentence += " They are for another AWS account than this execution's (" + p.Account + "), so AWS will refuse it."
	}
	return r
}

func (h *Handler) execution(rq *request) (any, error) {
	if h.rb == nil {
		return nil, errNoRunbooks
	}
	id := rq.PathValue("id")
	if id == "" || len(id) > 128 {
		return nil, errNotFound("There is no such execution.")
	}
	ctx, tenant := rq.ctx, rq.tenantID()
	e, err := h.st.GetExecution(ctx, tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("There is no execution %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get execution: %w", err)
	}
	rq.view.Title = "Execution of " + e.Runbook
	steps, err := h.st.ListExecutionSteps(ctx, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("execution steps: %w", err)
	}
	e, steps = h.redact(e, steps)
	d := &executionData{executionRow: executionRow{Execution: e}, CanAct: rq.canAct(),
		Parameters: docView(e.Parameters), Targets: docView(e.Targets), Outputs: docView(e.Outputs)}
	d.Steps = steps
	if d.Approvals, err = h.st.ListApprovals(ctx, tenant, id); err != nil {
		return nil, fmt.Errorf("approvals: %w", err)
	}
	d.Gate = h.gate(rq, e, d.Approvals)
	if e.OpsItemID != "" {
		if o, err := h.st.GetOpsItem(ctx, tenant, e.OpsItemID); err == nil {
			d.OpsItemTitle = o.Title
		}
	}
	return d, nil
}

// gate describes the approval e waits at, or nil.
func (h *Handler) gate(rq *request, e store.Execution, approvals []store.Approval) *gateView {
	if e.Status != runbook.StatusWaitingApproval {
		return nil
	}
	p := rq.sess.Principal
	g := &gateView{Approvers: []string{string(store.RoleOperator)}, Needed: 1}
	rb, found := h.rb.Runbooks().Get(e.TenantID, e.Runbook)
	if found && h.doctor != nil && rb.UsesAction("aws") {
		if c, ok := h.doctor.Run(rq.ctx).Find("aws"); ok {
			g.AWS = awsGate(c, e)
		}
	}
	if found && e.Seq >= 0 && e.Cursor < len(rb.Steps) {
		st := rb.Steps[e.Cursor]
		if a, ok := st.Control.(*runbook.Approve); ok {
			g.Step, g.Approvers, g.Needed = st.Name, a.Approvers, max(a.MinApprovals, 1)
			if a.Message != nil {
				g.Message = fmt.Sprint(st.Source.With["message"])
			}
			g.Mine = a.Allows(p.Actor(), p.Role) || a.Allows("name:"+p.TokenName, p.Role)
		}
	} else if sg, ok := h.rb.(interface {
		StartGate(store.Execution) *runbook.Approve
	}); ok {
		// The start gate: the approvers the starting rule names.
		a := sg.StartGate(e)
		g.Approvers = a.Approvers
		g.Mine = a.Allows(p.Actor(), p.Role) || a.Allows("name:"+p.TokenName, p.Role)
	} else {
		g.Mine = p.Allows(store.RoleOperator)
	}
	if e.StartedBy == p.Actor() {
		g.Mine, g.Own = false, true // four eyes: another principal approves
	}
	for _, a := range approvals {
		if a.Seq == e.Seq && a.Decision == "approve" {
			g.Approved = append(g.Approved, a.Approver)
			if a.Approver == p.Actor() {
				g.Mine = false
			}
		}
	}
	return g
}

// decide approves, denies or cancels an execution from its page, the
// approvals inbox or its OpsItem's page (the form's "back" says which to
// return to: "approvals", "opsitem:<ID>", else the execution).
func (h *Handler) decide(d service.Decision) actionFunc {
	return func(rq *request) (string, error) {
		if h.rb == nil {
			return "", errNoRunbooks
		}
		id := rq.PathValue("id")
		if err := h.svc().DecideExecution(rq.ctx, rq.caller(), id, d, rq.PostFormValue("comment")); err != nil {
			return "", servicePage(err)
		}
		back := rq.PostFormValue("back")
		if back == "approvals" {
			return rq.view.Link("/approvals"), nil
		}
		if o, ok := strings.CutPrefix(back, "opsitem:"); ok && o != "" && len(o) <= 128 {
			return rq.view.Link("/opsitems/" + url.PathEscape(o)), nil
		}
		return rq.view.Link("/executions/" + id), nil
	}
}

// approvalsData is the approvals inbox.
type approvalsData struct {
	Items  []approvalItem
	CanAct bool
}

type approvalItem struct {
	store.Execution
	Gate         *gateView
	OpsItemTitle string
}

// approvalsLimit bounds the inbox.
const approvalsLimit = 200

// approvals lists the executions waiting for a decision, marking those the
// session may decide.
func (h *Handler) approvals(rq *request) (any, error) {
	rq.view.Title = "Approvals"
	if h.rb == nil {
		return nil, errNoRunbooks
	}
	ctx, tenant := rq.ctx, rq.tenantID()
	list, _, err := h.st.ListExecutions(ctx, tenant, store.ExecutionFilter{Status: runbook.StatusWaitingApproval}, store.Page{Limit: approvalsLimit})
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	d := approvalsData{CanAct: rq.canAct()}
	for _, e := range list {
		approvals, err := h.st.ListApprovals(ctx, tenant, e.ID)
		if err != nil {
			return nil, fmt.Errorf("approvals: %w", err)
		}
		it := approvalItem{Execution: e, Gate: h.gate(rq, e, approvals)}
		if e.OpsItemID != "" {
			if o, err := h.st.GetOpsItem(ctx, tenant, e.OpsItemID); err == nil {
				it.OpsItemTitle = o.Title
			}
		}
		d.Items = append(d.Items, it)
	}
	return d, nil
}

// decideArgs are what the decide-form template needs, and the
// gate-decision template the gate and whether the session may act.
type decideArgs struct {
	V        *view
	ID, Back string
	Gate     *gateView
	CanAct   bool
}

// redact is an execution and its steps as shown: secret parameters'
// values read runbook.Redacted (runbook.Library.Redact).
func (h *Handler) redact(e store.Execution, steps []store.ExecutionStep) (store.Execution, []store.ExecutionStep) {
	if h.rb == nil {
		return e, steps
	}
	return h.rb.Runbooks().Redact(e, steps)
}
