package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// RunbookService is what the runbook and execution endpoints need: the
// service's (the execution package's Executor is one). Reads go to the
// store directly.
type RunbookService = service.Runbooks

func (s *Server) registerRunbooks() {
	if s.runbooks == nil {
		return
	}
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/runbooks", MinRole: store.RoleViewer}, s.listRunbooks)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/runbooks/{name}", MinRole: store.RoleViewer}, s.getRunbook)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/runbooks/{name}/executions", MinRole: store.RoleOperator}, s.runRunbook)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/opsitems/{id}/runbooks/{name}", MinRole: store.RoleOperator}, s.runOnOpsItem)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/executions", MinRole: store.RoleViewer}, s.listExecutions)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/executions/{id}", MinRole: store.RoleViewer}, s.getExecution)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/executions/{id}/logs", MinRole: store.RoleViewer}, s.executionLogs)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/executions/{id}/approve", MinRole: store.RoleOperator}, s.decideExecution(true))
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/executions/{id}/deny", MinRole: store.RoleOperator}, s.decideExecution(false))
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/executions/{id}/cancel", MinRole: store.RoleOperator}, s.cancelExecution)
}

// RunbookView is a runbook as GET /api/v1/runbooks/{name} shows it.
type RunbookView struct {
	runbook.Summary
	Targets        runbook.TargetSpec `json:"targets"`
	MaxConcurrency string             `json:"max_concurrency"`
	MaxErrors      string             `json:"max_errors"`
	Outputs        map[string]string  `json:"outputs,omitempty"`
	StepList       []StepView         `json:"step_list"`
}

// StepView is one step of a runbook, as written.
type StepView struct {
	Name       string         `json:"name"`
	Action     string         `json:"action"`
	With       map[string]any `json:"with,omitempty"`
	When       string         `json:"when,omitempty"`
	PerTarget  bool           `json:"per_target"`
	Idempotent bool           `json:"idempotent"`
	Timeout    string         `json:"timeout"`
	Retries    int            `json:"retries,omitempty"`
	OnFailure  string         `json:"on_failure"`
}

func runbookView(rb *runbook.Runbook) RunbookView {
	v := RunbookView{Summary: rb.Summary(), Targets: rb.Targets, MaxConcurrency: rb.MaxConcurrency.String(), MaxErrors: rb.MaxErrors.String(),
		Outputs: map[string]string{}}
	for name, e := range rb.Outputs {
		v.Outputs[name] = e.String()
	}
	for _, st := range rb.Steps {
		sv := StepView{Name: st.Name, Action: st.Action, With: st.SourceWith(), PerTarget: st.PerTarget, Idempotent: st.Idempotent,
			Timeout: st.Timeout.String(), Retries: st.Retry.Max, OnFailure: st.Source.OnFailure}
		if sv.OnFailure == "" {
			sv.OnFailure = runbook.FailAbort
		}
		if st.When != nil {
			sv.When = st.When.String()
		}
		v.StepList = append(v.StepList, sv)
	}
	return v
}

func (s *Server) listRunbooks(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var out []runbook.Summary
	for _, rb := range s.runbooks.Runbooks().List(tenant) {
		out = append(out, rb.Summary())
	}
	WriteList(w, out, "")
	return nil
}

func (s *Server) runbookFor(r *http.Request, tenant string) (*runbook.Runbook, error) {
	name, err := PathID(r, "name")
	if err != nil {
		return nil, err
	}
	rb, ok := s.runbooks.Runbooks().Get(tenant, name)
	if !ok {
		return nil, NotFound("runbook %q not found", name)
	}
	return rb, nil
}

func (s *Server) getRunbook(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	rb, err := s.runbookFor(r, tenant)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, runbookView(rb))
	return nil
}

// RunInput is the body of POST /api/v1/runbooks/{name}/executions.
type RunInput struct {
	Parameters map[string]any `json:"parameters,omitempty"`
	// Targets are resource IDs, replacing the runbook's own targeting.
	Targets []string `json:"targets,omitempty"`
	// OpsItem links the execution to an OpsItem.
	OpsItem string `json:"opsitem,omitempty"`
	// DryRun renders every step and runs nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// Approval makes the execution wait for an approval before its first
	// step.
	Approval bool `json:"approval,omitempty"`
}

// ExecutionView is an execution with its step rows and approvals.
type ExecutionView struct {
	store.Execution
	Steps     []store.ExecutionStep `json:"steps"`
	Approvals []store.Approval      `json:"approvals"`
}

func (s *Server) runRunbook(w http.ResponseWriter, r *http.Request) error {
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	rb, err := s.runbookFor(r, c.Tenant)
	if err != nil {
		return err
	}
	var in RunInput
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
	}
	return s.startExecution(w, r, c, rb, in)
}

func (s *Server) runOnOpsItem(w http.ResponseWriter, r *http.Request) error {
	c, id, err := s.callerAndID(r)
	if err != nil {
		return err
	}
	if _, err := s.st.GetOpsItem(r.Context(), c.Tenant, id); errors.Is(err, store.ErrNotFound) {
		return NotFound("opsitem %q not found", id)
	} else if err != nil {
		return err
	}
	rb, err := s.runbookFor(r, c.Tenant)
	if err != nil {
		return err
	}
	var in RunInput
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
	}
	if in.OpsItem != "" && in.OpsItem != id {
		return BadRequest("opsitem %q in the body contradicts the path's %q", in.OpsItem, id)
	}
	in.OpsItem = id
	return s.startExecution(w, r, c, rb, in)
}

func (s *Server) startExecution(w http.ResponseWriter, r *http.Request, c service.Caller, rb *runbook.Runbook, in RunInput) error {
	id, err := s.svc.StartRun(r.Context(), c, service.RunRequest{Runbook: rb.Name, Parameters: in.Parameters, Targets: in.Targets,
		OpsItem: in.OpsItem, DryRun: in.DryRun, Approval: in.Approval})
	if err != nil {
		return err
	}
	v, err := s.executionView(r.Context(), c.Tenant, id)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/executions/"+id)
	WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) executionView(ctx context.Context, tenant, id string) (ExecutionView, error) {
	e, err := s.st.GetExecution(ctx, tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return ExecutionView{}, NotFound("execution %q not found", id)
	}
	if err != nil {
		return ExecutionView{}, err
	}
	v := ExecutionView{Execution: e}
	if v.Steps, err = s.st.ListExecutionSteps(ctx, tenant, id); err != nil {
		return v, err
	}
	if v.Approvals, err = s.st.ListApprovals(ctx, tenant, id); err != nil {
		return v, err
	}
	if v.Steps == nil {
		v.Steps = []store.ExecutionStep{}
	}
	if v.Approvals == nil {
		v.Approvals = []store.Approval{}
	}
	v.Execution, v.Steps = s.runbooks.Runbooks().Redact(v.Execution, v.Steps)
	return v, nil
}

func (s *Server) listExecutions(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.ExecutionFilter{Status: q.Get("status"), Runbook: q.Get("runbook"), OpsItemID: q.Get("opsitem")}
	if f.Status != "" && !contains(runbook.ExecutionStatuses, f.Status) {
		return BadRequest("status %q is not one of %v", f.Status, runbook.ExecutionStatuses)
	}
	for _, v := range []string{f.Runbook, f.OpsItemID} {
		if err := maxLen("filter", v, 256); err != nil {
			return err
		}
	}
	page, err := Page(r)
	if err != nil {
		return err
	}
	items, next, err := s.st.ListExecutions(r.Context(), tenant, f, page)
	if err != nil {
		return err
	}
	return WritePage(w, items, next, func(e store.Execution) string { return e.ID }, func(e store.Execution) store.Execution {
		e, _ = s.runbooks.Runbooks().Redact(e, nil)
		return e
	})
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	v, err := s.executionView(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, v)
	return nil
}

// StepLog is one step row's log.
type StepLog struct {
	Seq       int       `json:"seq"`
	Step      string    `json:"step"`
	Target    string    `json:"target,omitempty"`
	Status    string    `json:"status"`
	Attempt   int       `json:"attempt"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	Log       string    `json:"log"`
	Error     string    `json:"error,omitempty"`
	// Stdout and Stderr are what a command step printed (its outputs'
	// stdout and stderr, as kept: the tail when truncated).
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
}

// commandOutput reads stdout and stderr from a step's outputs, when they
// are strings (an exec step's).
func commandOutput(outputs json.RawMessage) (stdout, stderr string) {
	if len(outputs) == 0 {
		return "", ""
	}
	var o struct {
		Stdout any `json:"stdout"`
		Stderr any `json:"stderr"`
	}
	if json.Unmarshal(outputs, &o) != nil {
		return "", ""
	}
	stdout, _ = o.Stdout.(string)
	stderr, _ = o.Stderr.(string)
	return stdout, stderr
}

func (s *Server) executionLogs(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return err
	}
	e, err := s.st.GetExecution(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("execution %q not found", id)
	} else if err != nil {
		return err
	}
	rows, err := s.st.ListExecutionSteps(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	_, rows = s.runbooks.Runbooks().Redact(e, rows)
	step, target := r.URL.Query().Get("step"), r.URL.Query().Get("target")
	var out []StepLog
	for _, row := range rows {
		if (step != "" && row.Name != step) || (target != "" && row.TargetID != target) || (row.Log == "" && row.Error == "") {
			continue
		}
		sl := StepLog{Seq: row.Seq, Step: row.Name, Target: row.TargetID, Status: row.Status, Attempt: row.Attempt,
			StartedAt: row.StartedAt, EndedAt: row.EndedAt, Log: row.Log, Error: row.Error}
		sl.Stdout, sl.Stderr = commandOutput(row.Outputs)
		out = append(out, sl)
	}
	WriteList(w, out, "")
	return nil
}

// DecisionInput is the body of approve, deny and cancel (optional).
type DecisionInput struct {
	Comment string `json:"comment"`
}

func (s *Server) decideExecution(approve bool) HandlerFunc {
	d := service.Approve
	if !approve {
		d = service.Deny
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.decide(w, r, d, http.StatusOK)
	}
}

func (s *Server) cancelExecution(w http.ResponseWriter, r *http.Request) error {
	return s.decide(w, r, service.Cancel, http.StatusAccepted)
}

// decide carries out a decision on the execution {id} and answers its
// view with status.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, d service.Decision, status int) error {
	c, id, err := s.callerAndID(r)
	if err != nil {
		return err
	}
	var in DecisionInput
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
	}
	if err := s.svc.DecideExecution(r.Context(), c, id, d, in.Comment); err != nil {
		return err
	}
	v, err := s.executionView(r.Context(), c.Tenant, id)
	if err != nil {
		return err
	}
	WriteJSON(w, status, v)
	return nil
}
