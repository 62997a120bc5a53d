package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/agent"
	"github.com/flywheel-ops/flywheel/internal/fleet"
)

// TestServerSetsInterval: an agent started without a heartbeat interval
// adopts the one the server gives (agent_heartbeat) and reports in it; one
// started with its own keeps it.
func TestServerSetsInterval(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, fleet.Options{Interval: 150 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := agent.New(ctx, agent.Config{Server: s.url, EnrollToken: s.token(nil), StateDir: t.TempDir(), Hostname: "follows",
		PollWait: time.Second, InventoryInterval: -1, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if a.Interval() != 10*time.Second {
		t.Errorf("before any heartbeat: %s, want the 10s default", a.Interval())
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	eventually(t, 10*time.Second, "the agent adopts 150ms", func() bool { return a.Interval() == 150*time.Millisecond })
	eventually(t, 10*time.Second, "the server records 150ms heartbeats", func() bool {
		s.svc.Flush(ctx)
		got, err := s.st.GetAgent(ctx, tenant, a.ID())
		return err == nil && got.Interval == 150*time.Millisecond
	})
	cancel()
	<-done

	own := startAgent(t, agent.Config{Server: s.url, EnrollToken: s.token(nil), StateDir: t.TempDir(), Hostname: "own", Interval: 300 * time.Millisecond})
	eventually(t, 10*time.Second, "the agent heartbeats", func() bool {
		s.svc.Flush(ctx)
		got, err := s.st.GetAgent(context.Background(), tenant, own.ID())
		return err == nil && got.LastSeenAt != nil
	})
	if own.Interval() != 300*time.Millisecond {
		t.Errorf("an agent with --heartbeat 300ms now uses %s", own.Interval())
	}
}
