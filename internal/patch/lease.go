package patch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Coordinated reboots: the hosts of one application install and reboot
// one at a time. The lease is a row in the store (store.PatchLease), so it
// holds across server replicas: whichever replica runs a host's install
// takes the application's row or waits. A host that rebooted keeps the
// lease until its agent is back — started after the reboot and heard from
// since — not merely until the reboot command returned; RebootTimeout
// bounds that wait, and the install's own hold bounds a replica lost
// mid-install.

// RebootTimeout is how long a rebooted host keeps its application's lease
// waiting for its agent.
func (s *Service) RebootTimeout() time.Duration { return s.o.RebootTimeout }

// Lease is a held coordinated-reboot lease.
type Lease struct {
	s *Service
	l store.PatchLease
}

// Lock takes the tenant's lease on key for an install on resourceID, held
// for at most hold unless Done extends it, waiting while another host of
// the application holds it. A waiter whose ctx ends gives up without it.
func (s *Service) Lock(ctx context.Context, tenant, key, resourceID string, hold time.Duration) (*Lease, error) {
	for {
		now := s.o.Clock()
		l := store.PatchLease{TenantID: tenant, Key: key, Holder: store.NewID("lease", now), ResourceID: resourceID, AcquiredAt: now, ExpiresAt: now.Add(hold)}
		var took bool
		err := s.o.Store.InTx(ctx, func(tx store.Tx) (err error) {
			took, err = tx.TakePatchLease(ctx, l, now)
			return err
		})
		if err != nil {
			return nil, err
		}
		if took {
			return &Lease{s: s, l: l}, nil
		}
		released, err := s.releaseIfBack(ctx, tenant, key)
		if err != nil {
			return nil, err
		}
		if released {
			continue
		}
		t := time.NewTimer(s.o.LeasePoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("patch: waiting for %s's other host to finish: %w", key, ctx.Err())
		case <-t.C:
		}
	}
}

// releaseIfBack drops the lease on key when its host rebooted and its
// agent is back.
func (s *Service) releaseIfBack(ctx context.Context, tenant, key string) (bool, error) {
	l, err := s.o.Store.GetPatchLease(ctx, tenant, key)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil || l.RebootedAt == nil {
		return false, err
	}
	back, err := s.agentBack(ctx, tenant, l.ResourceID, *l.RebootedAt)
	if err != nil || !back {
		return false, err
	}
	s.o.Logger.Info("host back after its coordinated reboot", "tenant", tenant, "key", key, "resource", l.ResourceID)
	return true, s.o.Store.InTx(ctx, func(tx store.Tx) error { return tx.ReleasePatchLease(ctx, tenant, key, l.Holder) })
}

// agentBack reports whether the agent of a host started after at and has
// been heard from since.
func (s *Service) agentBack(ctx context.Context, tenant, resourceID string, at time.Time) (bool, error) {
	res, err := s.o.Store.GetResource(ctx, tenant, resourceID)
	if err != nil || res.AgentID == "" {
		return false, err
	}
	a, err := s.o.Store.GetAgent(ctx, tenant, res.AgentID)
	if err != nil {
		return false, err
	}
	return a.StartedAt != nil && a.StartedAt.After(at) && a.LastSeenAt != nil && a.LastSeenAt.After(at), nil
}

// Done ends the install: without a reboot the lease is released; after
// one it is kept until the host's agent is back (or RebootTimeout passes).
func (l *Lease) Done(ctx context.Context, rebooted bool) error {
	if !rebooted {
		return l.s.o.Store.InTx(ctx, func(tx store.Tx) error { return tx.ReleasePatchLease(ctx, l.l.TenantID, l.l.Key, l.l.Holder) })
	}
	now := l.s.o.Clock()
	l.l.RebootedAt, l.l.ExpiresAt = &now, now.Add(l.s.o.RebootTimeout)
	return l.s.o.Store.InTx(ctx, func(tx store.Tx) error {
		took, err := tx.TakePatchLease(ctx, l.l, now)
		if err == nil && !took {
			err = fmt.Errorf("patch: the lease on %s expired during the install", l.l.Key)
		}
		return err
	})
}
