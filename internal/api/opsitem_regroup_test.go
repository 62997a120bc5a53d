package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The regrouping routes' isolation cases: another tenant's OpsItems can be
// neither target nor source, and nothing of theirs changes.
func init() {
	unchanged := func(t *testing.T, h *harness, other string, before []store.OpsItem) {
		t.Helper()
		if after := h.opsItemsOf(other); mustJSON(t, after) != mustJSON(t, before) {
			t.Errorf("%s's OpsItems changed:\n%v\n→\n%v", other, before, after)
		}
	}
	isolationCases["POST /api/v1/opsitems/{id}/merge"] = isoCase{body: api.MergeInput{From: []string{"oi_sweep"}}, check: func(t *testing.T, h *harness, self, other string) {
		before := h.opsItemsOf(other)
		own := h.opsItemsOf(self)
		if len(before) == 0 || len(own) == 0 {
			t.Fatalf("no OpsItems to try; the check would prove nothing")
		}
		for _, o := range before {
			for _, key := range []string{"/operator", "/admin"} {
				sec := h.secret(self + key)
				// Their OpsItem as target, as source into ours, and by ?tenant=.
				h.call("POST", "/api/v1/opsitems/"+o.ID+"/merge", sec, api.MergeInput{From: []string{own[0].ID}}).fail(t, 404, "not_found")
				h.call("POST", "/api/v1/opsitems/"+own[0].ID+"/merge", sec, api.MergeInput{From: []string{o.ID}}).fail(t, 404, "not_found")
				h.call("POST", "/api/v1/opsitems/"+o.ID+"/merge?tenant="+other, sec, api.MergeInput{From: []string{o.ID}}).fail(t, 403, "forbidden")
			}
		}
		unchanged(t, h, other, before)
	}}
	isolationCases["POST /api/v1/opsitems/{id}/split"] = isoCase{body: api.SplitInput{Fingerprint: "fp-sweep"}, check: func(t *testing.T, h *harness, self, other string) {
		before := h.opsItemsOf(other)
		for _, o := range before {
			for _, key := range []string{"/operator", "/admin"} {
				sec := h.secret(self + key)
				in := api.SplitInput{Fingerprint: "fp-canary-" + other}
				h.call("POST", "/api/v1/opsitems/"+o.ID+"/split", sec, in).fail(t, 404, "not_found")
				h.call("POST", "/api/v1/opsitems/"+o.ID+"/split?tenant="+other, sec, in).fail(t, 403, "forbidden")
			}
		}
		unchanged(t, h, other, before)
	}}
	isolationCases["GET /api/v1/correlation/candidates"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var got []api.CorrelationCandidate
			got = candidateList(t, h, "/api/v1/correlation/candidates", sec)
			for _, c := range got {
				if strings.Contains(c.A+c.B, other) {
					t.Errorf("%s sees a candidate from %s's merges: %+v", self, other, c)
				}
			}
			h.call("GET", "/api/v1/correlation/candidates?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
}

// seedMembers gives OpsItem id firing member alerts named names (alertname
// label), fingerprints fp-<id>-<name>.
func seedMembers(t *testing.T, h *harness, tenant, id string, names ...string) {
	t.Helper()
	ctx, now := context.Background(), h.clock.Now()
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		for _, n := range names {
			fp := "fp-" + id + "-" + n
			if err := tx.PutAlert(ctx, store.Alert{TenantID: tenant, Fingerprint: fp, Source: "alertmanager", Title: n + " on db-01", Severity: "high",
				Status: "firing", Labels: map[string]string{"alertname": n}, FirstSeen: now, LastSeen: now, LastChange: now, Occurrences: 2, OpsItemID: id}); err != nil {
				return err
			}
			if err := tx.PutOpsItemMember(ctx, store.OpsItemMember{TenantID: tenant, OpsItemID: id, Fingerprint: fp, Title: n + " on db-01",
				Source: "alertmanager", Severity: "high", Status: "firing", Occurrences: 2, FirstSeen: now, LastSeen: now}); err != nil {
				return err
			}
		}
		o, err := tx.GetOpsItem(ctx, tenant, id)
		if err != nil {
			return err
		}
		o.Occurrences += int64(2 * len(names))
		return tx.UpdateOpsItem(ctx, o)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func memberFPs(t *testing.T, h *harness, tenant, id string) []string {
	t.Helper()
	ms, err := h.st.ListOpsItemMembers(context.Background(), tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Fingerprint)
	}
	return out
}

func timelineHas(t *testing.T, h *harness, tenant, id, kind, text string) bool {
	t.Helper()
	es, err := h.st.ListTimeline(context.Background(), tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Kind == kind && strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

// auditHas reports whether the tenant's chain has a record of action on target.
func auditHas(t *testing.T, h *harness, tenant, action, target string) bool {
	t.Helper()
	found := false
	err := h.st.ScanAudit(context.Background(), tenant, 0, func(r store.AuditRecord) error {
		found = found || (r.Action == action && r.Target == target)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestOpsItemMergeSplit: a person merges two OpsItems into a third and
// splits a member back out; members and alerts move, sources close as
// merged, and every OpsItem touched has its timeline entry and audit record.
func TestOpsItemMergeSplit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.cred("acme/operator")
	target := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "Database down"})
	s1 := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "API errors"})
	s2 := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "Probe failing"})
	seedMembers(t, h, "acme", target.ID, "InstanceDown")
	seedMembers(t, h, "acme", s1.ID, "HTTP5xx")
	seedMembers(t, h, "acme", s2.ID, "ProbeFailed", "ProbeSlow")

	var got store.OpsItem
	h.call("POST", "/api/v1/opsitems/"+target.ID+"/merge", op.Secret, api.MergeInput{From: []string{s1.ID, s2.ID}}).ok(t, 200, &got)
	if got.ID != target.ID || got.Occurrences != 8 || got.HumanSince == nil {
		t.Errorf("merged target: %+v", got)
	}
	if fps := memberFPs(t, h, "acme", target.ID); len(fps) != 4 {
		t.Errorf("target members after merge: %v, want 4", fps)
	}
	for _, s := range []store.OpsItem{s1, s2} {
		if fps := memberFPs(t, h, "acme", s.ID); len(fps) != 0 {
			t.Errorf("source %s keeps members %v", s.ID, fps)
		}
		o, _ := h.st.GetOpsItem(context.Background(), "acme", s.ID)
		if o.Status != "resolved" || o.ResolvedBy != op.Actor() {
			t.Errorf("source after merge: %+v", o)
		}
		if !timelineHas(t, h, "acme", s.ID, "merge", "Merged into "+target.ID) || !auditHas(t, h, "acme", "opsitem.merged_into", "opsitem/"+s.ID) {
			t.Errorf("source %s has no merge timeline entry or audit record", s.ID)
		}
	}
	if !timelineHas(t, h, "acme", target.ID, "merge", s1.ID) || !auditHas(t, h, "acme", "opsitem.merge", "opsitem/"+target.ID) {
		t.Errorf("target has no merge timeline entry or audit record")
	}
	if a, err := h.st.GetAlert(context.Background(), "acme", "fp-"+s1.ID+"-HTTP5xx"); err != nil || a.OpsItemID != target.ID {
		t.Errorf("moved alert points at %q (%v), want %s", a.OpsItemID, err, target.ID)
	}

	// Bad requests name the problem.
	h.call("POST", "/api/v1/opsitems/"+target.ID+"/merge", op.Secret, api.MergeInput{From: []string{s1.ID}}).fail(t, 409, "conflict", "resolved")
	h.call("POST", "/api/v1/opsitems/"+target.ID+"/merge", op.Secret, api.MergeInput{}).fail(t, 400, "bad_request", "from")
	h.call("POST", "/api/v1/opsitems/"+target.ID+"/merge", op.Secret, api.MergeInput{From: []string{target.ID}}).fail(t, 400, "bad_request", "target")
	h.call("POST", "/api/v1/opsitems/"+target.ID+"/merge", op.Secret, api.MergeInput{From: []string{"oi_nope"}}).fail(t, 404, "not_found", "oi_nope")
	h.call("POST", "/api/v1/opsitems/"+target.ID+"/split", op.Secret, api.SplitInput{Fingerprint: "fp-nope"}).fail(t, 400, "bad_request", "not a member")

	// Split one member out.
	fp := "fp-" + s2.ID + "-ProbeSlow"
	var n store.OpsItem
	h.call("POST", "/api/v1/opsitems/"+target.ID+"/split", op.Secret, api.SplitInput{Fingerprint: fp}).ok(t, 201, &n)
	if n.ID == "" || n.ID == target.ID || n.Status != "open" || n.Title != "ProbeSlow on db-01" || n.Occurrences != 2 {
		t.Errorf("split OpsItem: %+v", n)
	}
	if fps := memberFPs(t, h, "acme", n.ID); len(fps) != 1 || fps[0] != fp {
		t.Errorf("split OpsItem members %v, want [%s]", fps, fp)
	}
	if o, _ := h.st.GetOpsItem(context.Background(), "acme", target.ID); o.Occurrences != 6 {
		t.Errorf("target occurrences after split: %d, want 6", o.Occurrences)
	}
	if fps := memberFPs(t, h, "acme", target.ID); len(fps) != 3 || strings.Contains(fmt.Sprint(fps), fp) {
		t.Errorf("target members after split: %v", fps)
	}
	if !timelineHas(t, h, "acme", target.ID, "split", n.ID) || !timelineHas(t, h, "acme", n.ID, "split", target.ID) ||
		!auditHas(t, h, "acme", "opsitem.split", "opsitem/"+target.ID) || !auditHas(t, h, "acme", "opsitem.split", "opsitem/"+n.ID) {
		t.Errorf("split has no timeline entries or audit records on both")
	}
	// The only member cannot be split out.
	h.call("POST", "/api/v1/opsitems/"+n.ID+"/split", op.Secret, api.SplitInput{Fingerprint: fp}).fail(t, 409, "conflict", "only member")
	// A viewer may not regroup.
	h.call("POST", "/api/v1/opsitems/"+target.ID+"/split", h.secret("acme/viewer"), api.SplitInput{Fingerprint: fp}).fail(t, 403, "forbidden")
}

// TestMergesMakeCandidate: five merges by people of the same pattern
// through the API make a correlation candidate; four do not, and a split
// of the pattern takes one back.
func TestMergesMakeCandidate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.cred("acme/operator")
	merge := func() {
		t.Helper()
		a := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "Backups slow"})
		b := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "Disk I/O high"})
		seedMembers(t, h, "acme", a.ID, "BackupSlow")
		seedMembers(t, h, "acme", b.ID, "DiskIOHigh")
		h.call("POST", "/api/v1/opsitems/"+a.ID+"/merge", op.Secret, api.MergeInput{From: []string{b.ID}}).ok(t, 200, nil)
	}
	candidates := func() []api.CorrelationCandidate {
		t.Helper()
		var got []api.CorrelationCandidate
		got = candidateList(t, h, "/api/v1/correlation/candidates", h.secret("acme/viewer"))
		return got
	}
	for range 4 {
		merge()
	}
	if cs := candidates(); len(cs) != 0 {
		t.Fatalf("four merges gave candidates %+v", cs)
	}
	merge()
	cs := candidates()
	if len(cs) != 1 || cs[0].A != "BackupSlow" || cs[0].B != "DiskIOHigh" || cs[0].Merges != 5 ||
		!strings.Contains(cs[0].Why, "people merged BackupSlow and DiskIOHigh 5 times") || !strings.Contains(cs[0].Rule, "kind: CorrelationRule") {
		t.Fatalf("five merges: %s", mustJSON(t, cs))
	}
	// The other tenant learnt nothing.
	var other []api.CorrelationCandidate
	other = candidateList(t, h, "/api/v1/correlation/candidates", h.secret("globex/viewer"))
	if len(other) != 0 {
		t.Errorf("globex candidates from acme's merges: %+v", other)
	}
	// A person splitting the pattern apart again counts against it.
	x := h.createOpsItem(op.Secret, api.OpsItemInput{Title: "Mixed"})
	seedMembers(t, h, "acme", x.ID, "BackupSlow", "DiskIOHigh")
	h.call("POST", "/api/v1/opsitems/"+x.ID+"/split", op.Secret, api.SplitInput{Fingerprint: "fp-" + x.ID + "-DiskIOHigh"}).ok(t, 201, nil)
	if cs := candidates(); len(cs) != 0 {
		t.Errorf("after a split: %s", mustJSON(t, cs))
	}
}

func candidateList(t *testing.T, h *harness, path, secret string) []api.CorrelationCandidate {
	t.Helper()
	var l api.List[api.CorrelationCandidate]
	h.call("GET", path, secret, nil).ok(t, 200, &l)
	return l.Items
}
