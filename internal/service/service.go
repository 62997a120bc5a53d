// Package service owns Flywheel's operations on silences, OpsItems and
// runbook runs: the validation and limits, the permission checks, the store
// transaction and the audit record of each. The API (internal/api) and the
// UI (internal/web) only decode a request, call a Service method and
// encode its answer, so one invalid input gets one error text whichever
// door it came through, and a new check is written once.
//
// Who may call a route at all (roles) and which tenant a request acts in
// are decided before the call, by the API's and the UI's authentication;
// a Caller carries both in.
package service

import (
	"context"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Caller is who asks for an operation and the tenant it acts in.
type Caller struct {
	Principal auth.Principal
	Tenant    string
}

// Actor is how audit records and timelines name the caller.
func (c Caller) Actor() string { return c.Principal.Actor() }

// Options configure a Service.
type Options struct {
	Store store.Store
	// Clock defaults to time.Now; the service stores times truncated to
	// the microsecond, as the store keeps them.
	Clock func() time.Time
	// Runbooks starts runbooks (nil: StartRun answers Unavailable).
	Runbooks Runbooks
	// Content installs packs into the content (nil: pack changes answer
	// Unavailable).
	Content ContentChanger
}

// Service carries out operations for the API, the UI and in-process callers.
type Service struct {
	st       store.Store
	clock    func() time.Time
	runbooks Runbooks
	content  ContentChanger
}

// New returns a Service over o.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return &Service{st: o.Store, clock: o.Clock, runbooks: o.Runbooks, content: o.Content}
}

// now is the clock's time as the store keeps it.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// Mutate runs fn in one transaction and appends the audit record it returns
// to the caller's tenant chain in that same transaction, attributed to the
// caller unless the entry names another actor: the change and its record
// commit together or not at all.
func (s *Service) Mutate(ctx context.Context, c Caller, fn func(ctx context.Context, tx store.Tx) (audit.Entry, error)) error {
	return s.st.InTx(ctx, func(tx store.Tx) error {
		e, err := fn(ctx, tx)
		if err != nil {
			return err
		}
		if e.Actor == "" {
			e.Actor = c.Actor()
		}
		_, err = audit.Append(ctx, tx, c.Tenant, s.now(), e)
		return err
	})
}
