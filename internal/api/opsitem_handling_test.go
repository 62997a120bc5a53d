package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The handling routes' isolation cases live beside their tests; the
// isolation test requires one per route.
func init() {
	for _, path := range []string{"acknowledge", "assign", "notes", "resolve"} {
		route := "POST /api/v1/opsitems/{id}/" + path
		body := api.HandlingInput{Assignee: "sweeper", Text: "sweep", Comment: "sweep"}
		isolationCases[route] = isoCase{body: body, check: func(t *testing.T, h *harness, self, other string) {
			before := h.opsItemsOf(other)
			if len(before) == 0 {
				t.Fatalf("%s has no OpsItems; the check would prove nothing", other)
			}
			for _, o := range before {
				for _, key := range []string{"/operator", "/admin"} {
					h.call("POST", "/api/v1/opsitems/"+o.ID+"/"+path, h.secret(self+key), body).fail(t, 404, "not_found")
					h.call("POST", "/api/v1/opsitems/"+o.ID+"/"+path+"?tenant="+other, h.secret(self+key), body).fail(t, 403, "forbidden")
				}
			}
			if after := h.opsItemsOf(other); mustJSON(t, after) != mustJSON(t, before) {
				t.Errorf("%s's OpsItems changed:\n%v\n→\n%v", other, before, after)
			}
		}}
	}
}

// TestOpsItemHandling walks an OpsItem through a person's hands: the
// in-hands clock starts at the first action, stops when unassigned,
// restarts, and is final at the resolution; each step is on the timeline
// and in the audit chain, attributed to the token.
func TestOpsItemHandling(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.cred("acme/operator")
	o := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "Disk almost full on db-01"})
	if o.HumanSeconds != 0 || o.HumanSince != nil {
		t.Fatalf("new OpsItem is in hands: %+v", o)
	}
	base := "/api/v1/opsitems/" + o.ID
	step := func(path string, in api.HandlingInput) store.OpsItem {
		t.Helper()
		var got store.OpsItem
		h.call("POST", base+"/"+path, op.Secret, in).ok(t, 200, &got)
		return got
	}

	h.clock.Advance(time.Minute) // waiting in the queue is not human time
	got := step("acknowledge", api.HandlingInput{Comment: "looking"})
	if got.AcknowledgedAt == nil || got.AcknowledgedBy != op.Actor() || got.Status != "in-progress" || got.HumanSince == nil {
		t.Errorf("after acknowledge: %+v", got)
	}
	h.call("POST", base+"/acknowledge", op.Secret, api.HandlingInput{}).fail(t, 409, "conflict", "acknowledged")
	got = step("assign", api.HandlingInput{Assignee: "dana"})
	if got.Assignee != "dana" {
		t.Errorf("assignee = %q", got.Assignee)
	}
	h.clock.Advance(100 * time.Second)
	got = step("assign", api.HandlingInput{Assignee: ""}) // unassigned: interval ends
	if got.HumanSeconds != 100 || got.HumanSince != nil {
		t.Errorf("after unassign: human_seconds %d since %v, want 100, none", got.HumanSeconds, got.HumanSince)
	}
	h.clock.Advance(time.Hour) // nobody holds it
	got = step("notes", api.HandlingInput{Text: "checked the volume: logs"})
	h.clock.Advance(20 * time.Second)
	got = step("resolve", api.HandlingInput{Comment: "rotated logs"})
	if got.Status != "resolved" || got.ResolvedBy != op.Actor() || got.HumanSeconds != 120 || got.HumanSince != nil {
		t.Errorf("after resolve: %+v; want resolved by %s, 120 s", got, op.Actor())
	}
	stored, _ := h.st.GetOpsItem(context.Background(), "acme", o.ID)
	if stored.HumanSeconds != 120 {
		t.Errorf("stored human_seconds %d, want 120", stored.HumanSeconds)
	}
	h.call("POST", base+"/resolve", op.Secret, api.HandlingInput{}).fail(t, 409, "conflict", "already resolved")

	var rel api.Related
	h.call("GET", base+"/related", op.Secret, nil).ok(t, 200, &rel)
	var kinds []string
	for _, e := range rel.Timeline {
		kinds = append(kinds, e.Kind+":"+e.Message)
		if e.Actor != op.Actor() {
			t.Errorf("timeline entry %+v not attributed to %s", e, op.Actor())
		}
	}
	want := []string{"acknowledge:Acknowledged: looking", "assign:Assigned to dana", "assign:Unassigned",
		"note:checked the volume: logs", "status:Status resolved: rotated logs"}
	if mustJSON(t, kinds) != mustJSON(t, want) {
		t.Errorf("timeline %v\nwant %v", kinds, want)
	}
	var actions []string
	for _, rec := range h.auditOf("acme") {
		if rec.Target == "opsitem/"+o.ID && rec.Actor == op.Actor() {
			actions = append(actions, rec.Action)
		}
	}
	wantActions := []string{"opsitem.create", "opsitem.acknowledge", "opsitem.assign", "opsitem.assign", "opsitem.note", "opsitem.resolve"}
	if mustJSON(t, actions) != mustJSON(t, wantActions) {
		t.Errorf("audit %v\nwant %v", actions, wantActions)
	}

	// Bad input names the problem; viewers cannot act.
	h.call("POST", base+"/notes", op.Secret, api.HandlingInput{}).fail(t, 400, "bad_request", "text is required")
	h.call("POST", base+"/notes", op.Secret, `{"txt":"x"}`).fail(t, 400, "bad_request", "unknown field")
	h.call("POST", base+"/assign", op.Secret, api.HandlingInput{Assignee: "a\nb"}).fail(t, 400, "bad_request", "control characters")
	h.call("POST", base+"/notes", h.secret("acme/viewer"), api.HandlingInput{Text: "x"}).fail(t, 403, "forbidden")
	h.call("POST", "/api/v1/opsitems/oi_missing/acknowledge", op.Secret, api.HandlingInput{}).fail(t, 404, "not_found")
}

// TestOpsItemPatchStatusIsHandling: a status change through PATCH counts
// as a person's action like the handling routes, and reopening clears
// the resolution.
func TestOpsItemPatchStatusIsHandling(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.cred("acme/operator")
	o := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "x"})
	var got store.OpsItem
	h.call("PATCH", "/api/v1/opsitems/"+o.ID, op.Secret, api.OpsItemPatch{Status: ptr("in-progress")}).ok(t, 200, &got)
	if got.HumanSince == nil {
		t.Errorf("status change did not start the in-hands clock: %+v", got)
	}
	h.clock.Advance(45 * time.Second)
	h.call("PATCH", "/api/v1/opsitems/"+o.ID, op.Secret, api.OpsItemPatch{Status: ptr("resolved"), Title: ptr("y")}).ok(t, 200, &got)
	if got.HumanSeconds != 45 || got.Title != "y" || got.ResolvedBy != op.Actor() {
		t.Errorf("after resolve by PATCH: %+v", got)
	}
	h.call("PATCH", "/api/v1/opsitems/"+o.ID, op.Secret, api.OpsItemPatch{Status: ptr("open")}).ok(t, 200, &got)
	if got.ResolvedAt != nil || got.ResolvedBy != "" || got.HumanSince == nil || got.HumanSeconds != 45 {
		t.Errorf("after reopen: %+v", got)
	}
	h.call("PATCH", "/api/v1/opsitems/"+o.ID, op.Secret, api.OpsItemPatch{Status: ptr("bogus")}).fail(t, 400, "bad_request", "status")
}

// TestRunOnOpsItemIsHandling: a person running a runbook for an OpsItem
// starts its in-hands clock (a dry run does not), and the timeline has the
// executor's entry for the run once.
func TestRunOnOpsItemIsHandling(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.cred("acme/operator")
	o := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "disk full on web-1"})
	h.call("POST", "/api/v1/opsitems/"+o.ID+"/runbooks/check-host", op.Secret, api.RunInput{DryRun: true}).ok(t, 201, nil)
	var got store.OpsItem
	h.call("GET", "/api/v1/opsitems/"+o.ID, op.Secret, nil).ok(t, 200, &got)
	if got.HumanSince != nil {
		t.Errorf("a dry run started the in-hands clock: %+v", got)
	}
	var ex api.ExecutionView
	h.call("POST", "/api/v1/opsitems/"+o.ID+"/runbooks/check-host", op.Secret, api.RunInput{}).ok(t, 201, &ex)
	h.call("GET", "/api/v1/opsitems/"+o.ID, op.Secret, nil).ok(t, 200, &got)
	if got.HumanSince == nil || !got.HumanSince.Equal(h.clock.Now()) {
		t.Errorf("a run by hand did not start the in-hands clock: %+v", got)
	}
	var rel api.Related
	h.call("GET", "/api/v1/opsitems/"+o.ID+"/related", op.Secret, nil).ok(t, 200, &rel)
	var runs int
	for _, e := range rel.Timeline {
		if strings.Contains(e.Message, ex.ID) && e.Actor == op.Actor() {
			runs++
		}
	}
	if runs != 1 {
		t.Errorf("timeline %+v: want one entry by %s for %s (the executor's)", rel.Timeline, op.Actor(), ex.ID)
	}
}
