package fleet

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Heartbeat intervals an agent may ask for.
const (
	MinInterval = 100 * time.Millisecond
	MaxInterval = time.Hour
)

// beats buffers the latest heartbeat per agent between flushes: thousands
// of agents beating every few seconds cost one transaction per flush, not
// one per heartbeat.
type beats struct {
	mu      sync.Mutex
	pending map[string]store.AgentHeartbeat
	// update holds update outcomes to record; recorded remembers the last
	// one written per agent, so a repeated outcome is not written again.
	update   map[string]updateNote
	recorded map[string]string
	// flushMu serialises flushes, so an older batch never lands after a
	// newer one.
	flushMu sync.Mutex
}

type updateNote struct{ tenant, status string }

func newBeats() *beats {
	return &beats{pending: map[string]store.AgentHeartbeat{}, update: map[string]updateNote{}, recorded: map[string]string{}}
}

// Heartbeat records that agent a is alive and answers with what the server
// wants of it (the desired version, an update).
func (s *Service) Heartbeat(ctx context.Context, a Agent, hb wire.Heartbeat) (wire.HeartbeatResponse, error) {
	if err := checkHost(hb.Host); err != nil {
		return wire.HeartbeatResponse{}, err
	}
	if hb.Interval < MinInterval || hb.Interval > MaxInterval {
		return wire.HeartbeatResponse{}, invalidf("interval %s must be from %s to %s", hb.Interval, MinInterval, MaxInterval)
	}
	if len(hb.Update) > 1024 {
		hb.Update = hb.Update[:1024]
	}
	ag, err := s.enrolledHost(ctx, a)
	if errors.Is(err, store.ErrNotFound) {
		return wire.HeartbeatResponse{}, fmt.Errorf("%w: %s", ErrAgentGone, a.ID)
	}
	if err != nil {
		return wire.HeartbeatResponse{}, err
	}
	if err := s.checkIdentity(ctx, ag, hb.Hostname, "heartbeat"); err != nil {
		return wire.HeartbeatResponse{}, err
	}
	now := s.now()
	rec := store.AgentHeartbeat{AgentID: a.ID, At: now, Hostname: hb.Hostname, Version: hb.Version, OS: hb.OS, Arch: hb.Arch,
		StartedAt: hb.StartedAt.UTC().Truncate(time.Microsecond), Interval: hb.Interval,
		StaleAfter: now.Add(time.Duration(s.opts.Misses) * hb.Interval)}
	s.m.heartbeats.Inc()
	s.beat.mu.Lock()
	s.beat.pending[a.ID] = rec
	if hb.Update != "" && s.beat.recorded[a.ID] != hb.Update {
		s.beat.update[a.ID] = updateNote{a.TenantID, hb.Update}
		s.beat.recorded[a.ID] = hb.Update
	}
	s.beat.mu.Unlock()

	resp := wire.HeartbeatResponse{ServerTime: now, DesiredVersion: s.opts.DesiredVersion, Interval: s.opts.Interval}
	if s.Outdated(hb.Version) && s.opts.UpdateKey != nil {
		if b, ok := s.bins.lookup(hb.OS, hb.Arch); ok {
			resp.Update = &wire.Update{Version: s.opts.DesiredVersion, URL: wire.PathBinary + "?os=" + hb.OS + "&arch=" + hb.Arch,
				SHA256: b.sha256, Size: b.size,
				Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(s.opts.UpdateKey, wire.UpdateMessage(b.sha256)))}
		}
	}
	return resp, nil
}

// Outdated reports whether an agent of version v drifts from the desired
// version.
func (s *Service) Outdated(v string) bool {
	return s.opts.DesiredVersion != "" && v != s.opts.DesiredVersion
}

// Flush writes buffered heartbeats in one transaction. The heartbeat check
// calls it before reading, so on one replica a heartbeat is never missed.
func (s *Service) Flush(ctx context.Context) error {
	s.beat.flushMu.Lock()
	defer s.beat.flushMu.Unlock()
	s.beat.mu.Lock()
	batch := make([]store.AgentHeartbeat, 0, len(s.beat.pending))
	for _, hb := range s.beat.pending {
		batch = append(batch, hb)
	}
	updates := s.beat.update
	s.beat.pending = make(map[string]store.AgentHeartbeat, len(batch))
	s.beat.update = map[string]updateNote{}
	s.beat.mu.Unlock()
	if len(batch) == 0 && len(updates) == 0 {
		return nil
	}
	defer s.m.observeFlush(time.Now())
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.RecordHeartbeats(ctx, batch); err != nil {
			return err
		}
		for id, u := range updates {
			if err := tx.SetAgentUpdate(ctx, u.tenant, id, u.status); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Put the batch back unless newer heartbeats replaced it.
		s.beat.mu.Lock()
		for _, hb := range batch {
			if _, ok := s.beat.pending[hb.AgentID]; !ok {
				s.beat.pending[hb.AgentID] = hb
			}
		}
		for id, u := range updates {
			if _, ok := s.beat.update[id]; !ok {
				s.beat.update[id] = u
			}
		}
		s.beat.mu.Unlock()
		return fmt.Errorf("record %d heartbeats: %w", len(batch), err)
	}
	return nil
}
