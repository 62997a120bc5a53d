package api

import (
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/stats"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerStats() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/stats/flywheel", MinRole: store.RoleViewer}, s.flywheelStats)
}

// FlywheelStats is the answer of GET /api/v1/stats/flywheel: the tenant's
// figures and, when a platform admin asks with per_tenant=true, every
// tenant's.
type FlywheelStats struct {
	stats.Flywheel
	Tenants []TenantFlywheel `json:"tenants,omitempty"`
}

// TenantFlywheel is one tenant's headline figures.
type TenantFlywheel struct {
	Tenant         string  `json:"tenant"`
	Received       int64   `json:"received"`
	NoiseReduction float64 `json:"noise_reduction"`
	stats.Outcomes
}

// DefaultStatsPeriod is the period the flywheel figures cover when the
// request names none: the last seven days.
const DefaultStatsPeriod = 7 * 24 * time.Hour

// StatsPeriod reads from and to (RFC 3339), defaulting to the period of
// length def ending at the next minute boundary after now (so what
// happened this minute counts), and checks them.
func StatsPeriod(r *http.Request, now time.Time, def time.Duration) (from, to time.Time, err error) {
	if from, err = timeParam(r, "from"); err != nil {
		return
	}
	if to, err = timeParam(r, "to"); err != nil {
		return
	}
	if to.IsZero() {
		to = now.Truncate(time.Minute).Add(time.Minute)
	}
	if from.IsZero() {
		from = to.Add(-def)
	}
	if err := stats.CheckPeriod(from, to); err != nil {
		return from, to, BadRequest("%v", err)
	}
	return from, to, nil
}

// Estimator returns the runbook estimates of the server's runbook library
// (nil without one).
func (s *Server) Estimator() stats.Estimator {
	if s.runbooks == nil {
		return nil
	}
	return stats.LibraryEstimator(s.runbooks.Runbooks())
}

// Verifier says which runbooks verify their effect (stats.Verifier); nil
// without runbooks.
func (s *Server) Verifier() stats.Verifier {
	if s.runbooks == nil {
		return nil
	}
	return stats.LibraryVerifier(s.runbooks.Runbooks())
}

func (s *Server) flywheelStats(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	perTenant := false
	switch v := r.URL.Query().Get("per_tenant"); v {
	case "", "false":
	case "true":
		if !Principal(r).PlatformAdmin {
			return Forbidden("per_tenant=true is for platform admins")
		}
		perTenant = true
	default:
		return BadRequest("per_tenant %q is not true or false", v)
	}
	from, to, err := StatsPeriod(r, s.now(), DefaultStatsPeriod)
	if err != nil {
		return err
	}
	ctx, est, ver := r.Context(), s.Estimator(), s.Verifier()
	f, err := stats.Compute(ctx, s.st, tenant, from, to, est, ver)
	if err != nil {
		return err
	}
	out := FlywheelStats{Flywheel: f}
	if perTenant {
		tenants, _, err := s.st.ListTenants(ctx, store.Page{Limit: store.MaxPageLimit})
		if err != nil {
			return err
		}
		for _, t := range tenants {
			tf, err := stats.Compute(ctx, s.st, t.ID, from, to, est, ver)
			if err != nil {
				return err
			}
			out.Tenants = append(out.Tenants, TenantFlywheel{Tenant: t.ID, Received: tf.Received, NoiseReduction: tf.NoiseReduction, Outcomes: tf.Outcomes})
		}
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}
