package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Mutate runs fn in one transaction and appends the audit record it returns
// to tenant's chain in that same transaction, attributed to the caller: the
// change and its record commit together or not at all.
func (s *Server) Mutate(r *http.Request, tenant string, fn func(ctx context.Context, tx store.Tx) (audit.Entry, error)) error {
	p := Principal(r)
	ctx := r.Context()
	return s.st.InTx(ctx, func(tx store.Tx) error {
		e, err := fn(ctx, tx)
		if err != nil {
			return err
		}
		if e.Actor == "" {
			e.Actor = p.Actor()
		}
		_, err = audit.Append(ctx, tx, tenant, s.now(), e)
		return err
	})
}

// auditDenied records a refused mutating call in the caller's tenant chain,
// with result "denied: <reason>".
func (s *Server) auditDenied(r *http.Request, p auth.Principal, reason string) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		_, err := audit.Append(ctx, tx, p.TenantID, s.now(), audit.Entry{
			Actor: p.Actor(), Action: "api." + strings.ToLower(r.Method), Target: r.URL.Path,
			Result: "denied: " + reason,
		})
		return err
	})
	if err != nil {
		s.log.Error("audit denied request", "error", err)
	}
}
