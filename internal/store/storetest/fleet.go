package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// testFleet covers enrollment tokens, agents, their commands and the
// resources they report.
func testFleet(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")

	t.Run("EnrollTokens", func(t *testing.T) {
		et := store.EnrollToken{ID: store.NewID("etk", t0), TenantID: "acme", Prefix: "fwe_abc", Tags: map[string]string{"env": "prod"},
			CreatedAt: t0, CreatedBy: "token:x", ExpiresAt: t0.Add(time.Hour)}
		mustTx(t, s, func(tx store.Tx) error { return tx.CreateEnrollToken(ctx, et, "ehash-1") })
		got, err := s.EnrollTokenByHash(ctx, "ehash-1")
		if err != nil || got.ID != et.ID || got.Tags["env"] != "prod" || !got.ExpiresAt.Equal(et.ExpiresAt) || got.UsedAt != nil {
			t.Fatalf("EnrollTokenByHash = %+v, %v", got, err)
		}
		if _, err := s.EnrollTokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown hash: %v", err)
		}
		// Single use, even when two enrollments race.
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.InTx(ctx, func(tx store.Tx) error {
					return tx.UseEnrollToken(ctx, et.ID, "agt_"+string(rune('a'+i)), t0.Add(time.Minute))
				})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrNotFound):
			default:
				// PostgreSQL may abort a racing transaction instead; it
				// must not have used the token either.
				t.Logf("racing use: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d enrollments used one token, want 1 (%v)", ok, errs)
		}
		got, _ = s.EnrollTokenByHash(ctx, "ehash-1")
		if got.UsedAt == nil || !strings.HasPrefix(got.UsedBy, "agt_") {
			t.Errorf("used token = %+v", got)
		}
		l, _, err := s.ListEnrollTokens(ctx, "globex", store.Page{})
		if err != nil || len(l) != 0 {
			t.Errorf("globex lists %v, %v", l, err)
		}
		l, _, _ = s.ListEnrollTokens(ctx, "acme", store.Page{})
		if len(l) != 1 {
			t.Errorf("acme lists %v", l)
		}
	})

	a := store.Agent{ID: store.NewID("agt", t0), TenantID: "acme", Hostname: "web-1", Version: "v1", OS: "linux", Arch: "amd64",
		Tags: map[string]string{"role": "web"}, ResourceID: "res_web1", EnrolledAt: t0}
	b := store.Agent{ID: store.NewID("agt", t0.Add(time.Millisecond)), TenantID: "globex", Hostname: "db-1", EnrolledAt: t0}
	mustTx(t, s, func(tx store.Tx) error {
		if err := tx.CreateAgent(ctx, a, "ahash-a"); err != nil {
			return err
		}
		return tx.CreateAgent(ctx, b, "ahash-b")
	})

	t.Run("Agents", func(t *testing.T) {
		got, err := s.GetAgent(ctx, "acme", a.ID)
		if err != nil || got.Hostname != "web-1" || got.Tags["role"] != "web" || got.LastSeenAt != nil || got.ResourceID != "res_web1" {
			t.Fatalf("GetAgent = %+v, %v", got, err)
		}
		if _, err := s.GetAgent(ctx, "globex", a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("other tenant's agent: %v", err)
		}
		cred, err := s.AgentCredential(ctx, b.ID)
		if err != nil || cred.TenantID != "globex" || cred.SecretHash != "ahash-b" || cred.RevokedAt != nil {
			t.Errorf("AgentCredential = %+v, %v", cred, err)
		}
		if l, _, _ := s.ListAgents(ctx, "acme", store.Page{}); len(l) != 1 || l[0].ID != a.ID {
			t.Errorf("ListAgents acme = %+v", l)
		}

		// Heartbeats: a newer one wins, an older one is ignored.
		seen := t0.Add(time.Minute)
		hb := store.AgentHeartbeat{AgentID: a.ID, At: seen, Hostname: "web-1.example", Version: "v2", OS: "linux", Arch: "arm64",
			StartedAt: t0, Interval: 10 * time.Second, StaleAfter: seen.Add(30 * time.Second)}
		old := hb
		old.At, old.Version = seen.Add(-time.Second), "v0"
		mustTx(t, s, func(tx store.Tx) error { return tx.RecordHeartbeats(ctx, []store.AgentHeartbeat{hb, old}) })
		got, _ = s.GetAgent(ctx, "acme", a.ID)
		if got.Version != "v2" || got.Hostname != "web-1.example" || got.Arch != "arm64" || got.LastSeenAt == nil || !got.LastSeenAt.Equal(seen) ||
			got.Interval != 10*time.Second || !got.StaleAfter.Equal(seen.Add(30*time.Second)) || !got.StartedAt.Equal(t0) {
			t.Errorf("after heartbeat = %+v", got)
		}

		// The heartbeat check: stale, then marked, then returned.
		if l, _ := s.AgentsStaleAt(ctx, seen.Add(29*time.Second), 10); len(l) != 0 {
			t.Errorf("stale too early: %+v", l)
		}
		stale, err := s.AgentsStaleAt(ctx, seen.Add(31*time.Second), 10)
		if err != nil || len(stale) != 1 || stale[0].ID != a.ID {
			t.Fatalf("AgentsStaleAt = %+v, %v", stale, err)
		}
		since := seen.Add(31 * time.Second)
		mustTx(t, s, func(tx store.Tx) error { return tx.SetAgentReporting(ctx, "acme", a.ID, false, since) })
		if l, _ := s.AgentsStaleAt(ctx, seen.Add(time.Hour), 10); len(l) != 0 {
			t.Errorf("a marked agent is stale again: %+v", l)
		}
		if l, _ := s.AgentsReturnedAt(ctx, seen.Add(time.Hour), 10); len(l) != 0 {
			t.Errorf("returned without a heartbeat: %+v", l)
		}
		back := seen.Add(2 * time.Minute)
		hb.At, hb.StaleAfter = back, back.Add(30*time.Second)
		mustTx(t, s, func(tx store.Tx) error { return tx.RecordHeartbeats(ctx, []store.AgentHeartbeat{hb}) })
		ret, err := s.AgentsReturnedAt(ctx, back, 10)
		if err != nil || len(ret) != 1 || ret[0].NotReportingSince == nil || !ret[0].NotReportingSince.Equal(since) {
			t.Fatalf("AgentsReturnedAt = %+v, %v", ret, err)
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.SetAgentReporting(ctx, "acme", a.ID, true, time.Time{}) })
		if got, _ := s.GetAgent(ctx, "acme", a.ID); got.NotReportingSince != nil {
			t.Errorf("still not reporting: %+v", got)
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.SetAgentUpdate(ctx, "acme", a.ID, "failed: checksum") })
		if got, _ := s.GetAgent(ctx, "acme", a.ID); got.Update != "failed: checksum" {
			t.Errorf("update status = %q", got.Update)
		}

		// Revocation is per tenant and once.
		if err := s.InTx(ctx, func(tx store.Tx) error { return tx.RevokeAgent(ctx, "acme", b.ID, t0) }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoking another tenant's agent: %v", err)
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.RevokeAgent(ctx, "globex", b.ID, t0.Add(time.Hour)) })
		if err := s.InTx(ctx, func(tx store.Tx) error { return tx.RevokeAgent(ctx, "globex", b.ID, t0) }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoking twice: %v", err)
		}
		if cred, _ := s.AgentCredential(ctx, b.ID); cred.RevokedAt == nil {
			t.Errorf("revoked credential = %+v", cred)
		}
		// A revoked agent that was not reporting counts as returned: its
		// problem is closed, not kept open forever.
		mustTx(t, s, func(tx store.Tx) error { return tx.SetAgentReporting(ctx, "globex", b.ID, false, t0) })
		if l, _ := s.AgentsReturnedAt(ctx, t0.Add(time.Hour), 10); len(l) != 1 || l[0].ID != b.ID {
			t.Errorf("revoked, not reporting: AgentsReturnedAt = %+v", l)
		}
	})

	t.Run("Commands", func(t *testing.T) {
		mk := func(i int, timeout time.Duration) store.AgentCommand {
			return store.AgentCommand{ID: store.NewID("cmd", t0.Add(time.Duration(i)*time.Millisecond)), TenantID: "acme", AgentID: a.ID,
				Spec:   store.CommandSpec{Argv: []string{"echo", "hi"}, Env: map[string]string{"A": "1"}, Timeout: timeout},
				Status: store.CommandQueued, CreatedAt: t0, CreatedBy: "token:op", Deadline: t0.Add(10 * time.Minute)}
		}
		c1, c2, c3 := mk(1, time.Minute), mk(2, time.Minute), mk(3, time.Second)
		mustTx(t, s, func(tx store.Tx) error {
			for _, c := range []store.AgentCommand{c1, c2, c3} {
				if err := tx.CreateAgentCommand(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if q, c, err := s.PendingAgentCommands(ctx, a.ID); err != nil || !q || c {
			t.Errorf("Pending = %v %v %v", q, c, err)
		}
		at := t0.Add(time.Minute)
		var claimed []store.AgentCommand
		mustTx(t, s, func(tx store.Tx) (err error) {
			claimed, err = tx.ClaimAgentCommands(ctx, a.ID, 2, at, 30*time.Second)
			return err
		})
		if len(claimed) != 2 || claimed[0].ID != c1.ID || claimed[1].ID != c2.ID || claimed[0].Status != store.CommandRunning ||
			!claimed[0].StartedAt.Equal(at) || !claimed[0].Deadline.Equal(at.Add(90*time.Second)) || claimed[0].Spec.Env["A"] != "1" {
			t.Fatalf("claimed = %+v", claimed)
		}
		mustTx(t, s, func(tx store.Tx) (err error) {
			more, err := tx.ClaimAgentCommands(ctx, a.ID, 5, at, 0)
			if len(more) != 1 || more[0].ID != c3.ID {
				t.Errorf("second claim = %+v", more)
			}
			return err
		})
		if q, _, _ := s.PendingAgentCommands(ctx, a.ID); q {
			t.Error("queued commands left after claiming all")
		}

		// Output: capped at 8 bytes, never splitting a character.
		mustTx(t, s, func(tx store.Tx) error {
			if err := tx.AppendAgentCommandOutput(ctx, a.ID, c1.ID, 0, "hello ", 8); err != nil {
				return err
			}
			// A retry of the first chunk and an overlapping one count once.
			if err := tx.AppendAgentCommandOutput(ctx, a.ID, c1.ID, 0, "hello ", 8); err != nil {
				return err
			}
			return tx.AppendAgentCommandOutput(ctx, a.ID, c1.ID, 4, "o wörld\x00!", 8)
		})
		got, _ := s.GetAgentCommand(ctx, "acme", c1.ID)
		if got.Output != "hello w" || !got.Truncated || got.OutputBytes != 14 {
			t.Errorf("output %q truncated=%v bytes=%d", got.Output, got.Truncated, got.OutputBytes)
		}
		if err := s.InTx(ctx, func(tx store.Tx) error { return tx.AppendAgentCommandOutput(ctx, b.ID, c1.ID, 14, "x", 10) }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another agent's output: %v", err)
		}
		zero := 0
		mustTx(t, s, func(tx store.Tx) error {
			return tx.FinishAgentCommand(ctx, a.ID, c1.ID, store.AgentCommandResult{Status: store.CommandSucceeded, ExitCode: &zero, At: at.Add(time.Second)})
		})
		if err := s.InTx(ctx, func(tx store.Tx) error {
			return tx.FinishAgentCommand(ctx, a.ID, c1.ID, store.AgentCommandResult{Status: store.CommandFailed, At: at})
		}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("finishing twice: %v", err)
		}
		if err := s.InTx(ctx, func(tx store.Tx) error { return tx.AppendAgentCommandOutput(ctx, a.ID, c1.ID, 14, "late", 10) }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("output after the end: %v", err)
		}
		got, _ = s.GetAgentCommand(ctx, "acme", c1.ID)
		if got.Status != store.CommandSucceeded || got.ExitCode == nil || *got.ExitCode != 0 || !got.EndedAt.Equal(at.Add(time.Second)) {
			t.Errorf("finished = %+v", got)
		}

		// Cancel: a running one is flagged for the agent; another tenant
		// cannot; a queued one ends at once.
		if err := s.InTx(ctx, func(tx store.Tx) error { _, err := tx.RequestAgentCommandCancel(ctx, "globex", c2.ID, at); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("cancel from another tenant: %v", err)
		}
		mustTx(t, s, func(tx store.Tx) error { _, err := tx.RequestAgentCommandCancel(ctx, "acme", c2.ID, at); return err })
		if _, c, _ := s.PendingAgentCommands(ctx, a.ID); !c {
			t.Error("cancel request not pending")
		}
		if ids, err := s.CancelRequestedCommands(ctx, a.ID); err != nil || len(ids) != 1 || ids[0] != c2.ID {
			t.Errorf("CancelRequestedCommands = %v, %v", ids, err)
		}
		c4 := mk(4, time.Minute)
		mustTx(t, s, func(tx store.Tx) error { return tx.CreateAgentCommand(ctx, c4) })
		var cancelled store.AgentCommand
		mustTx(t, s, func(tx store.Tx) (err error) {
			cancelled, err = tx.RequestAgentCommandCancel(ctx, "acme", c4.ID, at)
			return err
		})
		if cancelled.Status != store.CommandCancelled || cancelled.EndedAt == nil {
			t.Errorf("cancelled queued = %+v", cancelled)
		}
		if err := s.InTx(ctx, func(tx store.Tx) error { _, err := tx.RequestAgentCommandCancel(ctx, "acme", c1.ID, at); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("cancel a finished command: %v", err)
		}

		// An agent that restarted runs only what it lists: c3 is lost,
		// c2 kept.
		mustTx(t, s, func(tx store.Tx) error {
			n, err := tx.FailAgentCommands(ctx, a.ID, []string{c2.ID}, at.Add(2*time.Second))
			if n != 1 {
				t.Errorf("FailAgentCommands = %d", n)
			}
			return err
		})
		if got, _ := s.GetAgentCommand(ctx, "acme", c3.ID); got.Status != store.CommandLost {
			t.Errorf("c3 = %+v", got)
		}
		// Deadlines: c2 (running, deadline at+90s) times out; a queued one
		// past its deadline too.
		c5 := mk(5, time.Minute)
		c5.Deadline = at
		mustTx(t, s, func(tx store.Tx) error { return tx.CreateAgentCommand(ctx, c5) })
		mustTx(t, s, func(tx store.Tx) error {
			n, err := tx.ExpireAgentCommands(ctx, at.Add(91*time.Second))
			if n != 2 {
				t.Errorf("ExpireAgentCommands = %d, want 2", n)
			}
			return err
		})
		for _, id := range []string{c2.ID, c5.ID} {
			if got, _ := s.GetAgentCommand(ctx, "acme", id); got.Status != store.CommandTimedOut || got.Error == "" {
				t.Errorf("%s = %+v", id, got)
			}
		}
		l, _, err := s.ListAgentCommands(ctx, "acme", store.AgentCommandFilter{AgentID: a.ID, Status: store.CommandTimedOut}, store.Page{})
		if err != nil || len(l) != 2 || l[0].ID != c5.ID {
			t.Errorf("list timed-out = %+v, %v", l, err)
		}
		if l, _, _ := s.ListAgentCommands(ctx, "globex", store.AgentCommandFilter{}, store.Page{}); len(l) != 0 {
			t.Errorf("globex lists acme's commands: %+v", l)
		}
	})

	t.Run("Resources", func(t *testing.T) {
		r := store.Resource{ID: "res_web1", TenantID: "acme", Type: "host", Name: "web-1", Tags: map[string]string{"role": "web"},
			Config: json.RawMessage(`{"os":{"id":"debian"}}`), AgentID: a.ID, CreatedAt: t0, UpdatedAt: t0}
		mustTx(t, s, func(tx store.Tx) error { return tx.PutResource(ctx, r) })
		r.Config, r.UpdatedAt, r.Name = json.RawMessage(`{"os":{"id":"ubuntu"}}`), t0.Add(time.Hour), "web-1.example"
		r.CreatedAt = t0.Add(time.Hour) // ignored on update
		mustTx(t, s, func(tx store.Tx) error { return tx.PutResource(ctx, r) })
		got, err := s.GetResource(ctx, "acme", "res_web1")
		if err != nil || got.Name != "web-1.example" || string(got.Config) != `{"os":{"id":"ubuntu"}}` || !got.CreatedAt.Equal(t0) ||
			!got.UpdatedAt.Equal(t0.Add(time.Hour)) || got.Tags["role"] != "web" || got.AgentID != a.ID {
			t.Errorf("GetResource = %+v, %v", got, err)
		}
		// Another tenant can neither see nor overwrite it.
		if _, err := s.GetResource(ctx, "globex", "res_web1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("globex reads acme's resource: %v", err)
		}
		hijack := r
		hijack.TenantID, hijack.Name = "globex", "hijacked"
		if err := s.InTx(ctx, func(tx store.Tx) error { return tx.PutResource(ctx, hijack) }); !errors.Is(err, store.ErrConflict) {
			t.Errorf("cross-tenant put: %v", err)
		}
		if got, _ := s.GetResource(ctx, "acme", "res_web1"); got.Name != "web-1.example" {
			t.Errorf("resource changed by another tenant: %+v", got)
		}
		mustTx(t, s, func(tx store.Tx) error {
			return tx.PutResource(ctx, store.Resource{ID: "res_bucket", TenantID: "acme", Type: "s3-bucket", Name: "logs", CreatedAt: t0, UpdatedAt: t0})
		})
		for f, want := range map[store.ResourceFilter]int{{}: 2, {Type: "host"}: 1, {Name: "logs"}: 1, {AgentID: a.ID}: 1, {Type: "vm"}: 0,
			{UpdatedSince: t0.Add(time.Hour)}: 1, {UpdatedSince: t0}: 2} {
			l, _, err := s.ListResources(ctx, "acme", f, store.Page{})
			if err != nil || len(l) != want {
				t.Errorf("ListResources(%+v) = %d items, %v; want %d", f, len(l), err, want)
			}
		}
		if l, _, _ := s.ListResources(ctx, "globex", store.ResourceFilter{}, store.Page{}); len(l) != 0 {
			t.Errorf("globex lists %+v", l)
		}
	})
}
