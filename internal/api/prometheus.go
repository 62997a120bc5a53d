package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/promsource"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func (s *Server) registerPrometheus() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/prometheus", MinRole: store.RoleViewer}, s.getPrometheus)
	s.Handle(Route{Method: "PUT", Pattern: "/api/v1/prometheus", MinRole: store.RoleAdmin}, s.putPrometheus)
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/prometheus", MinRole: store.RoleAdmin}, s.deletePrometheus)
}

// PrometheusInput is the body of PUT /api/v1/prometheus: the tenant's
// Prometheus, a series source of forecasts and waste checks.
type PrometheusInput struct {
	URL string `json:"url"`
	// TokenEnv names the server's FLYWHEEL_* environment variable that
	// holds a bearer token ("" for none).
	TokenEnv string `json:"token_env"`
}

func (s *Server) getPrometheus(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	c, err := s.st.GetPrometheusConnection(r.Context(), tenant)
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("no Prometheus connected")
	}
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) putPrometheus(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var in PrometheusInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := errors.Join(promsource.ValidateURL(in.URL), promsource.ValidateTokenEnv(in.TokenEnv)); err != nil {
		return BadRequest("%s", errLine(err))
	}
	now := s.now()
	c := store.PrometheusConnection{TenantID: tenant, URL: in.URL, TokenEnv: in.TokenEnv, CreatedAt: now, UpdatedAt: now}
	status := http.StatusOK
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		old, err := tx.GetPrometheusConnection(ctx, tenant)
		switch {
		case errors.Is(err, store.ErrNotFound):
			status = http.StatusCreated
		case err != nil:
			return audit.Entry{}, err
		default:
			c.CreatedAt = old.CreatedAt
		}
		if err := tx.PutPrometheusConnection(ctx, c); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "prometheus.put", Target: "prometheus", Detail: map[string]any{"url": c.URL, "token_env": c.TokenEnv}}, nil
	})
	if err != nil {
		return err
	}
	WriteJSON(w, status, c)
	return nil
}

func (s *Server) deletePrometheus(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	err = s.Mutate(r, tenant, func(ctx context.Context, tx store.Tx) (audit.Entry, error) {
		if err := tx.DeletePrometheusConnection(ctx, tenant); err != nil {
			return audit.Entry{}, err
		}
		return audit.Entry{Action: "prometheus.delete", Target: "prometheus"}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("no Prometheus connected")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
