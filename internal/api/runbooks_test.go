package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The harness serves runbooks from testRunbooks through a real executor.
// Its jobs go nowhere until a test switches on a real queue (useQueue), so
// most tests pay nothing for it.
const testRunbooks = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: check-host, description: Look at a host}
spec:
  version: 4
  parameters: [{name: note, default: "", description: Free text}, {name: level, type: int, default: 1}]
  outputs: {seen: steps.look.outputs.with.note}
  verify: {condition: outputs.seen != "broken", message: the host still looks broken}
  steps:
    - {name: look, action: noop, with: {note: "${{ params.note }}"}}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: approve-then-act}
spec:
  steps:
    - {name: gate, action: approve, with: {approvers: [operator], message: "ok?"}}
    - {name: act, action: noop, with: {on: "${{ opsitem.title }}"}}
    - {name: close, action: opsitem, with: {resolve: true, note: "fixed by automation"}}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: with-secret}
spec:
  parameters: [{name: password, secret: true}, {name: user}]
  steps:
    - {name: login, action: noop, with: {pw: "${{ params.password }}", user: "${{ params.user }}"}}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: private-acme, tenant: acme}
spec: {steps: [{name: a, action: noop}]}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: private-globex, tenant: globex}
spec: {steps: [{name: a, action: noop}]}
`

// noop is the harness's I/O action: it returns its inputs.
type noop struct{ calls atomic.Int64 }

func (*noop) Name() string                  { return "noop" }
func (*noop) Validate(map[string]any) error { return nil }
func (n *noop) Run(_ context.Context, in action.Input) (action.Output, error) {
	n.calls.Add(1)
	return action.Output{Values: map[string]any{"with": in.With}, Log: "noop ran\n"}, nil
}

var harnessLibrary = sync.OnceValues(func() (*runbook.Library, error) {
	lookup := func(name string) (action.Action, bool) { return &noop{}, name == "noop" }
	reg := content.NewRegistry()
	reg.Register(runbook.Kind(lookup))
	set, err := content.Load(reg, content.Source{Name: "test", FS: fstest.MapFS{"rb.yaml": {Data: []byte(testRunbooks)}}})
	if err != nil {
		return nil, err
	}
	return runbook.NewLibrary(set, lookup)
})

// switchQueue drops jobs until a real queue is set.
type switchQueue struct {
	mu sync.Mutex
	q  execution.Enqueuer
}

func (s *switchQueue) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	s.mu.Lock()
	q := s.q
	s.mu.Unlock()
	if q == nil {
		return nil
	}
	return q.InsertTx(ctx, tx, args, opts)
}

// harnessRunbooks is the harness's runbook service.
type harnessRunbooks struct {
	x    *execution.Executor
	q    *switchQueue
	noop *noop
}

func newHarnessRunbooks(t *testing.T, st store.Store) *harnessRunbooks {
	t.Helper()
	lib, err := harnessLibrary()
	if err != nil {
		t.Fatalf("harness runbooks: %v", err)
	}
	h := &harnessRunbooks{q: &switchQueue{}, noop: &noop{}}
	lookup := func(name string) (action.Action, bool) { return h.noop, name == "noop" }
	h.x, err = execution.New(execution.Options{Store: st, Queue: h.q, Runbooks: lib, Actions: lookup, LeaseTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// useQueue runs the executor's jobs on a real queue from now on.
func (h *harness) useQueue(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	q, err := jobs.New(ctx, h.st, jobs.Options{Logger: slog.New(slog.DiscardHandler), PollInterval: 20 * time.Millisecond, HardStopTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.runbooks.x.Register(q); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	h.runbooks.q.mu.Lock()
	h.runbooks.q.q = q
	h.runbooks.q.mu.Unlock()
}

func (h *harness) waitExecution(t *testing.T, secret, id string, statuses ...string) api.ExecutionView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var v api.ExecutionView
		h.call("GET", "/api/v1/executions/"+id, secret, nil).ok(t, http.StatusOK, &v)
		for _, s := range statuses {
			if v.Status == s {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s is %s (%q), want %v", id, v.Status, v.Error, statuses)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunbookAPI(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessOn(t, d.open(t))
			h.useQueue(t)
			op, viewer := h.secret("acme/operator"), h.secret("acme/viewer")

			var list api.List[runbook.Summary]
			h.call("GET", "/api/v1/runbooks", viewer, nil).ok(t, http.StatusOK, &list)
			var names []string
			for _, s := range list.Items {
				names = append(names, s.Name)
			}
			if strings.Join(names, ",") != "approve-then-act,check-host,private-acme,with-secret" {
				t.Errorf("runbooks = %v", names)
			}
			var rb api.RunbookView
			h.call("GET", "/api/v1/runbooks/check-host", viewer, nil).ok(t, http.StatusOK, &rb)
			if rb.Version != 4 || len(rb.Parameters) != 2 || rb.Parameters[1].Default != float64(1) || rb.StepList[0].With["note"] != "${{ params.note }}" ||
				rb.Outputs["seen"] != "steps.look.outputs.with.note" || rb.MaxConcurrency != "10" {
				t.Errorf("runbook view = %+v", rb)
			}
			h.call("GET", "/api/v1/runbooks/nope", viewer, nil).fail(t, http.StatusNotFound, "not_found", `runbook "nope" not found`)

			// Run: viewers may not; bad parameters are a 400.
			h.call("POST", "/api/v1/runbooks/check-host/executions", viewer, api.RunInput{}).fail(t, http.StatusForbidden, "forbidden")
			h.call("POST", "/api/v1/runbooks/check-host/executions", op, api.RunInput{Parameters: map[string]any{"level": "high"}}).
				fail(t, http.StatusBadRequest, "bad_request", `parameter "level": "high" is not an int`)
			var ex api.ExecutionView
			r := h.call("POST", "/api/v1/runbooks/check-host/executions", op, api.RunInput{Parameters: map[string]any{"note": "hello", "level": 3}})
			r.ok(t, http.StatusCreated, &ex)
			if r.Header.Get("Location") != "/api/v1/executions/"+ex.ID || ex.StartedBy != h.cred("acme/operator").Actor() || len(ex.Steps) != 1 {
				t.Errorf("created %+v", ex)
			}
			ex = h.waitExecution(t, viewer, ex.ID, runbook.StatusSucceeded)
			if string(ex.Outputs) != `{"seen":"hello"}` {
				t.Errorf("outputs %s", ex.Outputs)
			}
			var logs api.List[api.StepLog]
			h.call("GET", "/api/v1/executions/"+ex.ID+"/logs", viewer, nil).ok(t, http.StatusOK, &logs)
			if len(logs.Items) != 1 || logs.Items[0].Log != "noop ran\n" {
				t.Errorf("logs %+v", logs)
			}

			// Dry run: rendered, nothing run.
			before := h.runbooks.noop.calls.Load()
			h.call("POST", "/api/v1/runbooks/check-host/executions", op, api.RunInput{DryRun: true, Parameters: map[string]any{"note": "dry"}}).
				ok(t, http.StatusCreated, &ex)
			if ex.Status != runbook.StatusSucceeded || !ex.DryRun || string(ex.Steps[0].Inputs) != `{"note":"dry"}` || ex.Steps[0].Status != runbook.StepSkipped {
				t.Errorf("dry run %+v", ex)
			}

			// On an OpsItem, with an approval step: it waits; approving
			// through the API proceeds, and the runbook resolves the item.
			item := h.createOpsItem(op, api.OpsItemInput{Title: "disk full on web-1", Severity: "high"})
			h.call("POST", "/api/v1/opsitems/"+item.ID+"/runbooks/approve-then-act", op, nil).ok(t, http.StatusCreated, &ex)
			ex = h.waitExecution(t, viewer, ex.ID, runbook.StatusWaitingApproval)
			h.call("POST", "/api/v1/executions/"+ex.ID+"/approve", viewer, api.DecisionInput{Comment: "yes"}).fail(t, http.StatusForbidden, "forbidden")
			// Four eyes: the operator who started it may not approve it.
			h.call("POST", "/api/v1/executions/"+ex.ID+"/approve", op, api.DecisionInput{Comment: "mine"}).
				fail(t, http.StatusForbidden, "forbidden", "four eyes", "started this execution")
			admin := h.secret("acme/admin")
			h.call("POST", "/api/v1/executions/"+ex.ID+"/approve", admin, api.DecisionInput{Comment: "go ahead"}).ok(t, http.StatusOK, &ex)
			ex = h.waitExecution(t, viewer, ex.ID, runbook.StatusSucceeded)
			if len(ex.Approvals) != 1 || ex.Approvals[0].Approver != h.cred("acme/admin").Actor() || ex.Approvals[0].Comment != "go ahead" ||
				string(ex.Steps[1].Inputs) != `{"on":"disk full on web-1"}` {
				t.Errorf("approved execution %+v", ex)
			}
			h.call("POST", "/api/v1/executions/"+ex.ID+"/approve", op, nil).fail(t, http.StatusConflict, "conflict", "not waiting for approval")
			var got store.OpsItem
			h.call("GET", "/api/v1/opsitems/"+item.ID, viewer, nil).ok(t, http.StatusOK, &got)
			if got.Status != "resolved" || got.ResolvedBy != "automation:runbook:approve-then-act" {
				t.Errorf("OpsItem after the runbook: %+v", got)
			}
			var execs api.List[store.Execution]
			h.call("GET", "/api/v1/executions?opsitem="+item.ID, viewer, nil).ok(t, http.StatusOK, &execs)
			if len(execs.Items) != 1 || execs.Items[0].ID != ex.ID {
				t.Errorf("executions of the OpsItem: %+v", execs.Items)
			}
			h.call("GET", "/api/v1/executions?status=done", viewer, nil).fail(t, http.StatusBadRequest, "bad_request")

			// Deny and cancel.
			h.call("POST", "/api/v1/opsitems/"+item.ID+"/runbooks/approve-then-act", op, api.RunInput{}).ok(t, http.StatusCreated, &ex)
			h.waitExecution(t, viewer, ex.ID, runbook.StatusWaitingApproval)
			h.call("POST", "/api/v1/executions/"+ex.ID+"/deny", h.secret("acme/admin"), api.DecisionInput{Comment: "wrong host"}).ok(t, http.StatusOK, &ex)
			if ex.Status != runbook.StatusDenied {
				t.Errorf("denied: %+v", ex)
			}
			h.call("POST", "/api/v1/runbooks/approve-then-act/executions", op, api.RunInput{Approval: true}).ok(t, http.StatusCreated, &ex)
			h.call("POST", "/api/v1/executions/"+ex.ID+"/cancel", op, nil).ok(t, http.StatusAccepted, &ex)
			if ex.Status != runbook.StatusCancelled {
				t.Errorf("cancelled: %+v", ex)
			}
			h.call("POST", "/api/v1/executions/"+ex.ID+"/cancel", op, nil).fail(t, http.StatusConflict, "conflict")
			if calls := h.runbooks.noop.calls.Load(); calls != before+1 {
				t.Errorf("noop ran %d more times, want 1 (the approved run)", calls-before)
			}

			// Every decision is in the audit chain, by who made it.
			var acts []string
			for _, rec := range h.auditOf(acme) {
				if rec.Action == "execution.approve" || rec.Action == "execution.deny" || rec.Action == "execution.cancel" ||
					(rec.Action == "api.post" && strings.HasSuffix(rec.Target, "/approve")) {
					acts = append(acts, rec.Action+" "+rec.Actor+" "+rec.Result)
				}
			}
			want := []string{
				"api.post " + h.cred("acme/viewer").Actor() + " denied: needs operator",
				// The self-approval: refused by the executor and by the API.
				"execution.approve " + h.cred("acme/operator").Actor() + " denied: not an approver",
				"api.post " + h.cred("acme/operator").Actor() + " denied: not an approver: four eyes: " + h.cred("acme/operator").Actor() +
					" started this execution, so another principal must approve",
				"execution.approve " + h.cred("acme/admin").Actor() + " ok",
				"execution.deny " + h.cred("acme/admin").Actor() + " ok",
				"execution.cancel " + h.cred("acme/operator").Actor() + " ok",
			}
			if strings.Join(acts, "\n") != strings.Join(want, "\n") {
				t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(acts, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// seedExecutions gives each customer an execution waiting for approval,
// written straight to the store (no audit records, so the isolation
// snapshots stay put), carrying the tenant's canary in its parameters and
// log.
func seedExecutions(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	for _, tenant := range customers {
		if len(executionsOf(t, h, tenant)) > 0 {
			continue
		}
		now := h.clock.Now()
		e := store.Execution{ID: store.NewID("ex", now), TenantID: tenant, Runbook: "approve-then-act", Status: runbook.StatusWaitingApproval,
			Parameters: json.RawMessage(`{"note":"canary-` + tenant + `-params"}`), Targets: json.RawMessage(`[]`), StartedBy: "test:seed",
			Mode: "auto", Seq: 0, NextSeq: 3, DueAt: now, CreatedAt: now, UpdatedAt: now}
		err := h.st.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateExecution(ctx, e); err != nil {
				return err
			}
			return tx.PutExecutionSteps(ctx, []store.ExecutionStep{
				{TenantID: tenant, ExecutionID: e.ID, Seq: 0, Index: 0, Name: "gate", Action: "approve", Status: runbook.StatusRunning, Log: "canary-" + tenant + "-log"},
				{TenantID: tenant, ExecutionID: e.ID, Seq: 1, Index: 1, Name: "act", Action: "noop", Status: runbook.StatusPending},
				{TenantID: tenant, ExecutionID: e.ID, Seq: 2, Index: 2, Name: "close", Action: "opsitem", Status: runbook.StatusPending},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func executionsOf(t *testing.T, h *harness, tenant string) []store.Execution {
	t.Helper()
	l, _, err := h.st.ListExecutions(context.Background(), tenant, store.ExecutionFilter{}, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// checkExecutionsUntouched fails if other's seeded executions changed.
func checkExecutionsUntouched(t *testing.T, h *harness, other string, before []store.Execution) {
	t.Helper()
	if after := executionsOf(t, h, other); mustJSON(t, after) != mustJSON(t, before) {
		t.Errorf("%s's executions changed:\n%s\n→\n%s", other, mustJSON(t, before), mustJSON(t, after))
	}
}

func init() {
	isolationCases["GET /api/v1/runbooks"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			r := h.call("GET", "/api/v1/runbooks", sec, nil)
			r.ok(t, 200, nil)
			if strings.Contains(string(r.Body), "private-"+other) || !strings.Contains(string(r.Body), "private-"+self) {
				t.Errorf("%s %s lists %s", self, role, r.Body)
			}
			h.call("GET", "/api/v1/runbooks?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["GET /api/v1/runbooks/{name}"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			h.call("GET", "/api/v1/runbooks/private-"+other, sec, nil).fail(t, 404, "not_found")
			h.call("GET", "/api/v1/runbooks/private-"+self, sec, nil).ok(t, 200, nil)
			h.call("GET", "/api/v1/runbooks/check-host?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	isolationCases["POST /api/v1/runbooks/{name}/executions"] = isoCase{body: api.RunInput{DryRun: true}, check: func(t *testing.T, h *harness, self, other string) {
		seedExecutions(t, h)
		before := executionsOf(t, h, other)
		otherItem := h.opsItemsOf(other)[0]
		for _, key := range []string{"/operator", "/admin"} {
			sec := h.secret(self + key)
			h.call("POST", "/api/v1/runbooks/private-"+other+"/executions", sec, api.RunInput{}).fail(t, 404, "not_found")
			h.call("POST", "/api/v1/runbooks/check-host/executions?tenant="+other, sec, api.RunInput{}).fail(t, 403, "forbidden")
			r := h.call("POST", "/api/v1/runbooks/check-host/executions", sec, api.RunInput{OpsItem: otherItem.ID, DryRun: true})
			r.fail(t, 400, "bad_request", "not found")
			if strings.Contains(string(r.Body), otherItem.Title) {
				t.Errorf("error leaks the OpsItem's title: %s", r.Body)
			}
		}
		// Runs land in the caller's tenant.
		var ex api.ExecutionView
		h.call("POST", "/api/v1/runbooks/private-"+self+"/executions", h.secret(self+"/operator"), api.RunInput{DryRun: true}).ok(t, 201, &ex)
		if ex.TenantID != self {
			t.Errorf("execution made in %s", ex.TenantID)
		}
		checkExecutionsUntouched(t, h, other, before)
	}}
	isolationCases["POST /api/v1/opsitems/{id}/runbooks/{name}"] = isoCase{body: api.RunInput{DryRun: true}, check: func(t *testing.T, h *harness, self, other string) {
		seedExecutions(t, h)
		before := executionsOf(t, h, other)
		for _, o := range h.opsItemsOf(other) {
			for _, key := range []string{"/operator", "/admin"} {
				sec := h.secret(self + key)
				r := h.call("POST", "/api/v1/opsitems/"+o.ID+"/runbooks/check-host", sec, api.RunInput{DryRun: true})
				r.fail(t, 404, "not_found")
				if strings.Contains(string(r.Body), o.Title) {
					t.Errorf("404 leaks the title: %s", r.Body)
				}
				h.call("POST", "/api/v1/opsitems/"+o.ID+"/runbooks/check-host?tenant="+other, sec, api.RunInput{DryRun: true}).fail(t, 403, "forbidden")
			}
		}
		checkExecutionsUntouched(t, h, other, before)
	}}
	isolationCases["GET /api/v1/executions"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		seedExecutions(t, h)
		want := len(executionsOf(t, h, self))
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var l api.List[store.Execution]
			r := h.call("GET", "/api/v1/executions?limit=500", sec, nil)
			r.ok(t, 200, &l)
			if len(l.Items) != want || strings.Contains(string(r.Body), "canary-"+other) {
				t.Errorf("%s %s lists %d executions (own %d): %s", self, role, len(l.Items), want, r.Body)
			}
			for _, e := range l.Items {
				if e.TenantID != self {
					t.Errorf("%s %s sees execution %s of %s", self, role, e.ID, e.TenantID)
				}
			}
			h.call("GET", "/api/v1/executions?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
	getOne := func(suffix string) func(t *testing.T, h *harness, self, other string) {
		return func(t *testing.T, h *harness, self, other string) {
			seedExecutions(t, h)
			for _, e := range executionsOf(t, h, other) {
				for _, role := range roles {
					sec := h.secret(self + "/" + string(role))
					r := h.call("GET", "/api/v1/executions/"+e.ID+suffix, sec, nil)
					r.fail(t, 404, "not_found")
					if strings.Contains(string(r.Body), "canary-") {
						t.Errorf("404 leaks: %s", r.Body)
					}
					h.call("GET", "/api/v1/executions/"+e.ID+suffix+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
				}
			}
			own := executionsOf(t, h, self)[0]
			h.call("GET", "/api/v1/executions/"+own.ID+suffix, h.secret(self+"/viewer"), nil).ok(t, 200, nil)
		}
	}
	isolationCases["GET /api/v1/executions/{id}"] = isoCase{check: getOne("")}
	isolationCases["GET /api/v1/executions/{id}/logs"] = isoCase{check: getOne("/logs")}
	decide := func(verb string) func(t *testing.T, h *harness, self, other string) {
		return func(t *testing.T, h *harness, self, other string) {
			seedExecutions(t, h)
			before := executionsOf(t, h, other)
			for _, e := range before {
				for _, key := range []string{"/operator", "/admin"} {
					sec := h.secret(self + key)
					h.call("POST", "/api/v1/executions/"+e.ID+"/"+verb, sec, api.DecisionInput{Comment: "pwned"}).fail(t, 404, "not_found")
					h.call("POST", "/api/v1/executions/"+e.ID+"/"+verb+"?tenant="+other, sec, api.DecisionInput{}).fail(t, 403, "forbidden")
				}
			}
			checkExecutionsUntouched(t, h, other, before)
			for _, e := range before {
				if as, _ := h.st.ListApprovals(context.Background(), other, e.ID); len(as) != 0 {
					t.Errorf("decisions recorded on %s's execution: %+v", other, as)
				}
			}
		}
	}
	isolationCases["POST /api/v1/executions/{id}/approve"] = isoCase{body: api.DecisionInput{Comment: "sweep"}, check: decide("approve")}
	isolationCases["POST /api/v1/executions/{id}/deny"] = isoCase{body: api.DecisionInput{Comment: "sweep"}, check: decide("deny")}
	isolationCases["POST /api/v1/executions/{id}/cancel"] = isoCase{check: decide("cancel")}
}

// TestRunbookRoutesNeedTheService: without a runbook service the routes
// are absent, not broken.
func TestRunbookRoutesNeedTheService(t *testing.T) {
	t.Parallel()
	srv := api.New(api.Options{Store: openSQLite(t)})
	for _, rt := range srv.Routes() {
		if strings.Contains(rt.Pattern, "runbooks") || strings.Contains(rt.Pattern, "executions") {
			t.Errorf("route %s %s registered without a runbook service", rt.Method, rt.Pattern)
		}
	}
}

// TestSecretParamsRedacted: a parameter the runbook declares secret reads
// [redacted] in the execution's view, the executions list and the step
// logs, its value nowhere in them (in parameters, step inputs, outputs,
// log or error), while other parameters show.
func TestSecretParamsRedacted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	const pw = "hunter2-s3cret"
	id := store.NewID("ex", epoch)
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateExecution(ctx, store.Execution{ID: id, TenantID: "acme", Runbook: "with-secret", Status: "failed",
			StartedBy: "token:x", Parameters: []byte(`{"password":"` + pw + `","user":"bob"}`), CreatedAt: epoch, UpdatedAt: epoch}); err != nil {
			return err
		}
		return tx.PutExecutionSteps(ctx, []store.ExecutionStep{{TenantID: "acme", ExecutionID: id, Name: "login", Action: "noop", Status: "failed",
			Inputs: []byte(`{"pw":"` + pw + `","user":"bob"}`), Outputs: []byte(`{"with":{"pw":"` + pw + `"}}`),
			Log: "logging in with " + pw + "\n", Error: "bad password " + pw}})
	})
	if err != nil {
		t.Fatal(err)
	}
	viewer := h.secret("acme/viewer")
	for _, path := range []string{"/api/v1/executions/" + id, "/api/v1/executions", "/api/v1/executions/" + id + "/logs"} {
		r := h.call("GET", path, viewer, nil)
		r.ok(t, 200, nil)
		if body := string(r.Body); strings.Contains(body, pw) || !strings.Contains(body, "[redacted]") {
			t.Errorf("GET %s shows the secret or no [redacted]: %.600s", path, body)
		}
	}
	var v api.ExecutionView
	h.call("GET", "/api/v1/executions/"+id, viewer, nil).ok(t, 200, &v)
	if string(v.Parameters) != `{"password":"[redacted]","user":"bob"}` {
		t.Errorf("parameters: %s", v.Parameters)
	}

	// The audit record of an approval names the parameters, redacted.
	gated := store.NewID("ex", epoch.Add(time.Second))
	err = h.st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateExecution(ctx, store.Execution{ID: gated, TenantID: "acme", Runbook: "with-secret", Status: "waiting_approval", Seq: -1,
			Mode: "approval", StartedBy: "token:x", Parameters: []byte(`{"password":"` + pw + `","user":"bob"}`), CreatedAt: epoch, UpdatedAt: epoch})
	})
	if err != nil {
		t.Fatal(err)
	}
	h.call("POST", "/api/v1/executions/"+gated+"/approve", h.secret("acme/operator"), map[string]any{}).ok(t, 200, nil)
	r := h.call("GET", "/api/v1/audit?action=execution.approve", h.secret("acme/admin"), nil)
	r.ok(t, 200, nil)
	if body := string(r.Body); strings.Contains(body, pw) || !strings.Contains(body, "[redacted]") {
		t.Errorf("the approval's audit record shows the secret or no [redacted]: %.600s", body)
	}
}
