package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/service"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Mutate runs fn in one transaction and appends the audit record it returns
// to tenant's chain in that same transaction, attributed to the caller: the
// change and its record commit together or not at all (service.Mutate).
func (s *Server) Mutate(r *http.Request, tenant string, fn func(ctx context.Context, tx store.Tx) (audit.Entry, error)) error {
	return s.svc.Mutate(r.Context(), service.Caller{Principal: Principal(r), Tenant: tenant}, fn)
}

// auditDenied records a refused mutating call in the caller's tenant chain,
// with result "denied: <reason>": at most deniedBurst at once and one per
// deniedEvery after per principal (the rest are counted, not stored), with
// target and reason cut to maxAuditText bytes, so no role can grow the
// database without bound by asking for what it may not do.
func (s *Server) auditDenied(r *http.Request, p auth.Principal, reason string) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return
	}
	now := s.now()
	if !s.deniedAudit.allow(p.TokenID, now) {
		s.limitMetrics.deniedDropped.Inc()
		return
	}
	ctx := context.WithoutCancel(r.Context())
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		_, err := audit.Append(ctx, tx, p.TenantID, now, audit.Entry{
			Actor: p.Actor(), Action: "api." + cut(strings.ToLower(r.Method), 16), Target: cut(r.URL.Path, maxAuditText),
			Result: "denied: " + cut(reason, maxAuditText),
		})
		return err
	})
	if err != nil {
		s.log.Error("audit denied request", "error", err)
	}
}
