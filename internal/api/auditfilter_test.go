package api_test

import (
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestAuditFilters: GET /api/v1/audit narrows by actor, action prefix and
// target prefix.
func TestAuditFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op, admin := h.cred(acme+"/operator"), h.secret(acme+"/admin")
	o := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "Disk almost full", Severity: "high"})
	h.call("POST", "/api/v1/silences", h.secret(acme+"/admin"), api.SilenceInput{Matchers: []string{`alertname="X"`}, Duration: "1h", Comment: "test"}).ok(t, 201, nil)

	list := func(q string) []store.AuditRecord {
		t.Helper()
		var l api.List[store.AuditRecord]
		h.call("GET", "/api/v1/audit"+q, admin, nil).ok(t, 200, &l)
		return l.Items
	}
	if rs := list("?action=silence."); len(rs) != 1 || rs[0].Action != "silence.create" {
		t.Errorf("action=silence.: %+v", rs)
	}
	if rs := list("?actor=" + op.Actor()); len(rs) == 0 {
		t.Error("actor filter: nothing")
	} else {
		for _, r := range rs {
			if r.Actor != op.Actor() {
				t.Errorf("actor filter returned %s", r.Actor)
			}
		}
	}
	if rs := list("?target=opsitem/" + o.ID); len(rs) != 1 || !strings.HasPrefix(rs[0].Action, "opsitem.") {
		t.Errorf("target filter: %+v", rs)
	}
	if rs := list("?action=nothing.like.this"); len(rs) != 0 {
		t.Errorf("no match: %+v", rs)
	}
	h.call("GET", "/api/v1/audit?action="+strings.Repeat("x", 201), admin, nil).fail(t, 400, "bad_request", "action")
}
