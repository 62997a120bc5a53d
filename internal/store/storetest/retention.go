package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// testRetention: each class removes only the tenant's rows older than the
// cut-off, only finished ones where rows can still change, at most limit
// per call, with their child rows, and never another tenant's.
func testRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	day := 24 * time.Hour
	prune := func(tenant string, class store.RetentionClass, before time.Time, limit int) int64 {
		t.Helper()
		var n int64
		mustTx(t, s, func(tx store.Tx) (err error) {
			n, err = tx.PruneExpired(ctx, tenant, class, before, limit)
			return err
		})
		return n
	}
	gone := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want it pruned (not found)", what, err)
		}
	}
	kept := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v, want it kept", what, err)
		}
	}

	t.Run("Events", func(t *testing.T) {
		// acme: events received 0..5 days before t0; globex: one, 9 days.
		ev := func(tenant string, ago int) store.Event {
			at := t0.Add(-time.Duration(ago) * day)
			return store.Event{ID: fmt.Sprintf("ev_%s_%d", tenant, ago), TenantID: tenant, Source: "test", Fingerprint: "fp", Kind: "alert",
				Severity: "high", Status: "firing", Title: "disk", OccurredAt: at.Add(-time.Hour), ReceivedAt: at,
				Raw: json.RawMessage(`{"n":1}`), Decision: "opened"}
		}
		var evs []store.Event
		for ago := range 6 {
			evs = append(evs, ev("acme", ago))
		}
		evs = append(evs, ev("globex", 9))
		mustTx(t, s, func(tx store.Tx) error { return tx.InsertEvents(ctx, evs) })
		raw := func(id, tenant string) string {
			t.Helper()
			e, err := s.GetEvent(ctx, tenant, id)
			if err != nil {
				t.Fatalf("event %s: %v", id, err)
			}
			return string(e.Raw)
		}

		// Raw payloads older than 2.5 days: 3, 4 and 5, two per call.
		cut := t0.Add(-60 * time.Hour)
		if n1, n2, n3 := prune("acme", store.RetainRawBodies, cut, 2), prune("acme", store.RetainRawBodies, cut, 2),
			prune("acme", store.RetainRawBodies, cut, 2); n1 != 2 || n2 != 1 || n3 != 0 {
			t.Errorf("raw bodies emptied per call = %d, %d, %d; want 2, 1, 0", n1, n2, n3)
		}
		for ago, want := range []string{`{"n":1}`, `{"n":1}`, `{"n":1}`, "", "", ""} {
			if got := raw(fmt.Sprintf("ev_acme_%d", ago), "acme"); got != want {
				t.Errorf("event %d days old: raw %q, want %q", ago, got, want)
			}
		}
		if got := raw("ev_globex_9", "globex"); got == "" {
			t.Error("another tenant's raw payload was emptied")
		}

		// Events older than 3.5 days: 4 and 5.
		if n := prune("acme", store.RetainEvents, t0.Add(-84*time.Hour), 10); n != 2 {
			t.Errorf("events pruned = %d, want 2", n)
		}
		_, err := s.GetEvent(ctx, "acme", "ev_acme_4")
		gone("event 4 days old", err)
		_, err = s.GetEvent(ctx, "acme", "ev_acme_3")
		kept("event 3 days old", err)
		_, err = s.GetEvent(ctx, "globex", "ev_globex_9")
		kept("another tenant's old event", err)

		// At most 2 events: the oldest two of the four left go.
		var n int64
		mustTx(t, s, func(tx store.Tx) (err error) {
			n, err = tx.TrimEvents(ctx, "acme", 2, 10)
			return err
		})
		if n != 2 {
			t.Errorf("TrimEvents removed %d, want 2", n)
		}
		mustTx(t, s, func(tx store.Tx) (err error) {
			n, err = tx.TrimEvents(ctx, "acme", 2, 10)
			return err
		})
		if n != 0 {
			t.Errorf("TrimEvents at the bound removed %d, want 0", n)
		}
		list, _, err := s.ListEvents(ctx, "acme", store.EventFilter{}, store.Page{})
		left := map[string]bool{}
		for _, e := range list {
			left[e.ID] = true
		}
		if err != nil || len(list) != 2 || !left["ev_acme_0"] || !left["ev_acme_1"] {
			t.Errorf("events left = %v, %v; want the newest two", list, err)
		}
	})

	t.Run("Timeline", func(t *testing.T) {
		mustTx(t, s, func(tx store.Tx) error {
			return tx.AddTimelines(ctx, []store.TimelineEntry{
				{ID: "tl_old", TenantID: "acme", OpsItemID: "oi_1", At: t0.Add(-2 * day), Kind: "opened", Message: "opened"},
				{ID: "tl_new", TenantID: "acme", OpsItemID: "oi_1", At: t0, Kind: "note", Message: "still here"},
				{ID: "tl_other", TenantID: "globex", OpsItemID: "oi_2", At: t0.Add(-9 * day), Kind: "opened", Message: "opened"},
			})
		})
		if n := prune("acme", store.RetainTimeline, t0.Add(-day), 10); n != 1 {
			t.Errorf("timeline entries pruned = %d, want 1", n)
		}
		if l, err := s.ListTimeline(ctx, "acme", "oi_1"); err != nil || len(l) != 1 || l[0].ID != "tl_new" {
			t.Errorf("timeline left = %+v, %v", l, err)
		}
		if l, _ := s.ListTimeline(ctx, "globex", "oi_2"); len(l) != 1 {
			t.Errorf("another tenant's timeline = %+v", l)
		}
	})

	t.Run("Executions", func(t *testing.T) {
		ex := func(i int, status string, ended time.Time) store.Execution {
			e := newExecution("acme", i)
			e.Status, e.EndedAt = status, ended
			return e
		}
		old := ex(1, "succeeded", t0.Add(-10*day))
		running := ex(2, "running", time.Time{})
		running.CreatedAt = t0.Add(-20 * day)
		waiting := ex(3, "waiting_approval", time.Time{})
		recent := ex(4, "failed", t0.Add(-time.Hour))
		foreign := newExecution("globex", 5)
		foreign.Status, foreign.EndedAt = "succeeded", t0.Add(-10*day)
		mustTx(t, s, func(tx store.Tx) error {
			for _, e := range []store.Execution{old, running, waiting, recent, foreign} {
				if err := tx.CreateExecution(ctx, e); err != nil {
					return err
				}
			}
			if err := tx.PutExecutionSteps(ctx, []store.ExecutionStep{
				{TenantID: "acme", ExecutionID: old.ID, Seq: 0, Name: "check", Action: "exec", Status: "succeeded", Log: "ok\n"},
				{TenantID: "acme", ExecutionID: running.ID, Seq: 0, Name: "check", Action: "exec", Status: "running"},
			}); err != nil {
				return err
			}
			return tx.AddApproval(ctx, store.Approval{TenantID: "acme", ExecutionID: old.ID, Seq: -1, Approver: "token:op", Decision: "approve", At: t0.Add(-11 * day)})
		})
		if n := prune("acme", store.RetainExecutions, t0.Add(-day), 10); n != 1 {
			t.Errorf("executions pruned = %d, want 1 (the one that ended 10 days ago)", n)
		}
		_, err := s.GetExecution(ctx, "acme", old.ID)
		gone("finished execution", err)
		if st, _ := s.ListExecutionSteps(ctx, "acme", old.ID); len(st) != 0 {
			t.Errorf("pruned execution's steps left: %+v", st)
		}
		if ap, _ := s.ListApprovals(ctx, "acme", old.ID); len(ap) != 0 {
			t.Errorf("pruned execution's approvals left: %+v", ap)
		}
		for _, e := range []store.Execution{running, waiting, recent, foreign} {
			_, err := s.GetExecution(ctx, e.TenantID, e.ID)
			kept(e.Status+" execution", err)
		}
		if st, _ := s.ListExecutionSteps(ctx, "acme", running.ID); len(st) != 1 {
			t.Errorf("running execution's steps = %+v", st)
		}
	})

	t.Run("AgentCommands", func(t *testing.T) {
		cmd := func(i int, tenant, status string, ended *time.Time) store.AgentCommand {
			return store.AgentCommand{ID: fmt.Sprintf("cmd_%d", i), TenantID: tenant, AgentID: "agt_1", Spec: store.CommandSpec{Argv: []string{"true"}},
				Status: status, CreatedAt: t0.Add(-30 * day), Deadline: t0.Add(-29 * day), EndedAt: ended}
		}
		oldEnd, newEnd := t0.Add(-10*day), t0.Add(-time.Minute)
		cmds := []store.AgentCommand{cmd(1, "acme", store.CommandSucceeded, &oldEnd), cmd(2, "acme", store.CommandQueued, nil),
			cmd(3, "acme", store.CommandRunning, nil), cmd(4, "acme", store.CommandLost, &newEnd), cmd(5, "globex", store.CommandFailed, &oldEnd)}
		mustTx(t, s, func(tx store.Tx) error {
			for _, c := range cmds {
				if err := tx.CreateAgentCommand(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if n := prune("acme", store.RetainAgentCommands, t0.Add(-day), 10); n != 1 {
			t.Errorf("agent commands pruned = %d, want 1", n)
		}
		_, err := s.GetAgentCommand(ctx, "acme", "cmd_1")
		gone("finished command", err)
		for _, c := range cmds[1:] {
			_, err := s.GetAgentCommand(ctx, c.TenantID, c.ID)
			kept(c.TenantID+" "+c.Status+" command", err)
		}
	})

	t.Run("Intake", func(t *testing.T) {
		b := func(id, tenant string, ago time.Duration) store.IntakeBatch {
			return store.IntakeBatch{ID: id, TenantID: tenant, Source: "test", ReceivedAt: t0.Add(-ago), Body: []byte(`[]`)}
		}
		mustTx(t, s, func(tx store.Tx) error {
			return tx.InsertIntakeBatches(ctx, []store.IntakeBatch{b("ib_done_old", "acme", 10*day), b("ib_waiting_old", "acme", 10*day),
				b("ib_done_new", "acme", time.Hour), b("ib_globex", "globex", 10*day)})
		})
		mustTx(t, s, func(tx store.Tx) error {
			_, err := tx.ClaimIntakeBatches(ctx, []string{"ib_done_old", "ib_done_new", "ib_globex"})
			return err
		})
		if n := prune("acme", store.RetainIntake, t0.Add(-day), 10); n != 1 {
			t.Errorf("intake deliveries pruned = %d, want 1", n)
		}
		_, err := s.IntakeProcessed(ctx, "ib_done_old")
		gone("processed delivery", err)
		for _, id := range []string{"ib_waiting_old", "ib_done_new", "ib_globex"} {
			_, err := s.IntakeProcessed(ctx, id)
			kept(id, err)
		}
	})

	t.Run("WindowRuns", func(t *testing.T) {
		run := func(i int, status string, ended *time.Time) store.WindowRun {
			at := t0.Add(-20*day + time.Duration(i)*time.Hour)
			return store.WindowRun{ID: fmt.Sprintf("wr_%d", i), TenantID: "acme", WindowID: "mw_1", WindowName: "patching", Trigger: store.TriggerManual,
				ScheduledAt: at, CutoffAt: at.Add(time.Hour), EndsAt: at.Add(2 * time.Hour), Status: status, CreatedAt: at, UpdatedAt: at, EndedAt: ended}
		}
		oldEnd, newEnd := t0.Add(-10*day), t0.Add(-time.Minute)
		done, open, recent := run(1, store.WindowRunSucceeded, &oldEnd), run(2, store.WindowRunRunning, nil), run(3, store.WindowRunFailed, &newEnd)
		mustTx(t, s, func(tx store.Tx) error {
			for _, r := range []store.WindowRun{done, open, recent} {
				if err := tx.CreateWindowRun(ctx, r, []store.WindowRunTarget{{TenantID: "acme", RunID: r.ID, Task: "patch", TargetID: "web-1", Status: store.WindowRunPending}}); err != nil {
					return err
				}
			}
			return nil
		})
		if n := prune("acme", store.RetainWindowRuns, t0.Add(-day), 10); n != 1 {
			t.Errorf("window runs pruned = %d, want 1", n)
		}
		_, err := s.GetWindowRun(ctx, "acme", done.ID)
		gone("finished window run", err)
		if rows, _ := s.ListWindowRunTargets(ctx, "acme", done.ID); len(rows) != 0 {
			t.Errorf("pruned run's targets left: %+v", rows)
		}
		for _, r := range []store.WindowRun{open, recent} {
			_, err := s.GetWindowRun(ctx, "acme", r.ID)
			kept(r.Status+" window run", err)
		}
	})

	t.Run("Sessions", func(t *testing.T) {
		mustTx(t, s, func(tx store.Tx) error {
			for _, se := range []store.UISession{
				{IDHash: "ret-old", TenantID: "acme", TokenID: "tok_x", TokenHash: "h", CreatedAt: t0.Add(-5 * day), LastSeenAt: t0.Add(-3 * day)},
				{IDHash: "ret-seen", TenantID: "acme", TokenID: "tok_x", TokenHash: "h", CreatedAt: t0.Add(-5 * day), LastSeenAt: t0},
				{IDHash: "ret-globex", TenantID: "globex", TokenID: "tok_y", TokenHash: "h", CreatedAt: t0.Add(-5 * day), LastSeenAt: t0.Add(-3 * day)},
			} {
				if err := tx.CreateUISession(ctx, se); err != nil {
					return err
				}
			}
			return nil
		})
		if n := prune("acme", store.RetainSessions, t0.Add(-day), 10); n != 1 {
			t.Errorf("sessions pruned = %d, want 1", n)
		}
		_, err := s.GetUISession(ctx, "ret-old")
		gone("idle session", err)
		_, err = s.GetUISession(ctx, "ret-seen")
		kept("session seen recently", err)
		_, err = s.GetUISession(ctx, "ret-globex")
		kept("another tenant's session", err)
	})

	if err := s.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.PruneExpired(ctx, "acme", "no-such-class", t0, 10)
		return err
	}); err == nil {
		t.Error("an unknown retention class was accepted")
	}
}
