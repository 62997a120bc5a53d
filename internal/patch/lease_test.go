package patch_test

import (
	"context"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// TestCoordinatedRebootAcrossReplicas: two replicas (two services, and on
// PostgreSQL two connection pools on one database) coordinate the hosts
// of one application: while web-1 installs, web-2 waits on the other
// replica; web-1 reboots and keeps the lease while its agent is the one
// that was running before the reboot, and releases it once an agent
// started after the reboot heartbeats; a host that never comes back
// frees the lease after RebootTimeout; another application never waits.
func TestCoordinatedRebootAcrossReplicas(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (store.Store, store.Store)
	}{
		{"sqlite", func(t *testing.T) (store.Store, store.Store) { s := sqlitetest.Open(t); return s, s }},
		{"postgres", func(t *testing.T) (store.Store, store.Store) {
			s1 := postgres.OpenTest(t)
			s2, err := postgres.Open(context.Background(), postgres.TestURL(), postgres.Options{Schema: s1.Schema()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s2.Close() })
			return s1, s2
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st1, st2 := tc.open(t)
			testCoordinatedReboot(t, st1, st2)
		})
	}
}

func testCoordinatedReboot(t *testing.T, st1, st2 store.Store) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)}
	boot := clk.t.Add(-24 * time.Hour)
	err := st1.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: clk.t}); err != nil {
			return err
		}
		for _, h := range []string{"web1", "web2"} {
			if err := tx.PutResource(ctx, store.Resource{ID: "res_" + h, TenantID: "acme", Type: "host", Name: h, AgentID: "agt_" + h,
				Tags: map[string]string{"application": "shop"}, CreatedAt: clk.t, UpdatedAt: clk.t}); err != nil {
				return err
			}
			if err := tx.CreateAgent(ctx, store.Agent{ID: "agt_" + h, TenantID: "acme", Hostname: h, ResourceID: "res_" + h, EnrolledAt: boot}, "hash-"+h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	replica := func(st store.Store) *patch.Service {
		return patch.New(patch.Options{Store: st, Clock: clk.now, RebootTimeout: 15 * time.Minute, LeasePoll: 5 * time.Millisecond})
	}
	a, b := replica(st1), replica(st2)
	blocked := func(s *patch.Service, host string) bool {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, 60*time.Millisecond)
		defer cancel()
		l, err := s.Lock(short, "acme", "app:shop", host, time.Hour)
		if err == nil {
			if err := l.Done(ctx, false); err != nil {
				t.Fatal(err)
			}
		}
		return err != nil
	}
	heartbeat := func(host string, started time.Time) {
		t.Helper()
		if err := st2.InTx(ctx, func(tx store.Tx) error {
			return tx.RecordHeartbeats(ctx, []store.AgentHeartbeat{{AgentID: "agt_" + host, At: clk.t, Hostname: host, StartedAt: started, Interval: 10 * time.Second, StaleAfter: clk.t.Add(time.Minute)}})
		}); err != nil {
			t.Fatal(err)
		}
	}

	l1, err := a.Lock(ctx, "acme", "app:shop", "res_web1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !blocked(b, "res_web2") {
		t.Fatal("web-2 installed on the other replica while web-1 held the lease")
	}
	other, err := b.Lock(ctx, "acme", "app:cart", "res_cart1", time.Hour)
	if err != nil {
		t.Fatal("another application waited")
	}
	if err := other.Done(ctx, false); err != nil {
		t.Fatal(err)
	}

	// web-1 reboots: the lease stays while its old agent still reports.
	clk.t = clk.t.Add(3 * time.Minute)
	if err := l1.Done(ctx, true); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(10 * time.Second)
	heartbeat("web1", boot)
	if !blocked(b, "res_web2") {
		t.Fatal("the lease was released before web-1 came back")
	}
	// Its agent starts after the reboot and heartbeats: web-2 goes.
	clk.t = clk.t.Add(time.Minute)
	heartbeat("web1", clk.t.Add(-20*time.Second))
	l2, err := b.Lock(ctx, "acme", "app:shop", "res_web2", time.Hour)
	if err != nil {
		t.Fatalf("web-2 after web-1 came back: %v", err)
	}

	// web-2 reboots and never comes back: the lease frees after the
	// reboot timeout, not before.
	if err := l2.Done(ctx, true); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(14 * time.Minute)
	if !blocked(a, "res_web1") {
		t.Fatal("the lease freed before the reboot timeout")
	}
	clk.t = clk.t.Add(2 * time.Minute)
	l3, err := a.Lock(ctx, "acme", "app:shop", "res_web1", time.Hour)
	if err != nil {
		t.Fatalf("after the reboot timeout: %v", err)
	}
	// No reboot: released at once.
	if err := l3.Done(ctx, false); err != nil {
		t.Fatal(err)
	}
	if blocked(b, "res_web2") {
		t.Error("the lease stayed after an install without a reboot")
	}
}

// TestPruneHistory: compliance points older than DefaultHistoryKeep go;
// the newer ones, and the trend they draw, stay.
func TestPruneHistory(t *testing.T) {
	ctx := context.Background()
	s, st, clk, _ := setup(t)
	start := clk.t
	for _, at := range []time.Time{start, start.Add(patch.DefaultHistoryKeep - time.Hour), start.Add(patch.DefaultHistoryKeep + time.Hour)} {
		clk.t = at
		if _, _, err := s.Record(ctx, "acme", "res_web1", report()); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneHistory(ctx, start.Add(patch.DefaultHistoryKeep+time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	if h, _ := st.ListPatchHistory(ctx, "acme", time.Time{}); len(h) != 2 || !h[0].At.Equal(start.Add(patch.DefaultHistoryKeep-time.Hour)) {
		t.Errorf("history = %+v", h)
	}
}
