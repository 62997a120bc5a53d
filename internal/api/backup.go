package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// BackupService runs backup plans' operations; *backup.Service is one.
type BackupService interface {
	Plans(tenant string) []*backup.Plan
	Plan(tenant, name string) (*backup.Plan, error)
	Status(ctx context.Context, tenant string, p *backup.Plan) (backup.PlanStatus, error)
	Delete(ctx context.Context, tenant, pointID, actor string) error
	SetRetention(ctx context.Context, tenant, pointID string, expires time.Time, actor string) (store.RecoveryPoint, error)
	Restore(ctx context.Context, tenant, pointID, to, actor string) (store.RestoreTest, error)
	TestRestore(ctx context.Context, tenant, plan, pointID, resource, actor string) (store.RestoreTest, error)
}

var _ BackupService = (*backup.Service)(nil)

// RestoreInput is the body of POST /api/v1/backup/points/{id}/restore.
type RestoreInput struct {
	// To is a new database name (postgres) or a directory on the host
	// (restic).
	To string `json:"to"`
}

// RestoreTestInput is the body of POST …/plans/{id}/restore-tests
// (optional): a point, or the latest of a resource, or the plan's pick.
type RestoreTestInput struct {
	Point    string `json:"point,omitempty"`
	Resource string `json:"resource,omitempty"`
}

// RetentionInput is the body of POST …/points/{id}/retention.
type RetentionInput struct {
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) registerBackup(svc BackupService) {
	s.backup = svc
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/backup/plans", MinRole: store.RoleViewer}, s.listBackupPlans)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/backup/plans/{id}", MinRole: store.RoleViewer}, s.getBackupPlan)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/backup/plans/{id}/restore-tests", MinRole: store.RoleAdmin, Permission: store.PermHostCommands},
		s.testRestore)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/backup/points", MinRole: store.RoleViewer}, s.listRecoveryPoints)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/backup/points/{id}", MinRole: store.RoleViewer},
		tenantGet(s, "recovery point", s.st.GetRecoveryPoint, same[store.RecoveryPoint]))
	s.Handle(Route{Method: "DELETE", Pattern: "/api/v1/backup/points/{id}", MinRole: store.RoleAdmin}, s.deleteRecoveryPoint)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/backup/points/{id}/retention", MinRole: store.RoleAdmin}, s.setRetention)
	s.Handle(Route{Method: "POST", Pattern: "/api/v1/backup/points/{id}/restore", MinRole: store.RoleAdmin, Permission: store.PermHostCommands},
		s.restorePoint)
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/backup/restore-tests", MinRole: store.RoleViewer}, s.listRestoreTests)
}

func (s *Server) backupUnavailable() error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "this server runs no backup service"}
}

// backupPlan is the tenant's plan named in the path.
func (s *Server) backupPlan(r *http.Request) (string, *backup.Plan, error) {
	tenant, name, err := s.tenantAndID(r)
	if err != nil {
		return "", nil, err
	}
	if s.backup == nil {
		return "", nil, NotFound("backup plan %q not found", name)
	}
	p, err := s.backup.Plan(tenant, name)
	if errors.Is(err, backup.ErrUnknown) {
		return "", nil, NotFound("backup plan %q not found", name)
	}
	return tenant, p, err
}

func (s *Server) listBackupPlans(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.Tenant(r)
	if err != nil {
		return err
	}
	var out []backup.PlanStatus
	if s.backup != nil {
		for _, p := range s.backup.Plans(tenant) {
			st, err := s.backup.Status(r.Context(), tenant, p)
			if err != nil {
				return err
			}
			out = append(out, st)
		}
	}
	WriteList(w, out, "")
	return nil
}

func (s *Server) getBackupPlan(w http.ResponseWriter, r *http.Request) error {
	tenant, p, err := s.backupPlan(r)
	if err != nil {
		return err
	}
	st, err := s.backup.Status(r.Context(), tenant, p)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) listRecoveryPoints(w http.ResponseWriter, r *http.Request) error {
	tenant, page, err := s.tenantAndPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.RecoveryPointFilter{Plan: q.Get("plan"), ResourceID: q.Get("resource"), Status: q.Get("status")}
	for field, v := range map[string]string{"plan": f.Plan, "resource": f.ResourceID, "status": f.Status} {
		if err := maxLen(field, v, 128); err != nil {
			return err
		}
	}
	pts, next, err := s.st.ListRecoveryPoints(r.Context(), tenant, f, page)
	if err != nil {
		return err
	}
	return WritePage(w, pts, next, func(p store.RecoveryPoint) string { return p.ID }, same[store.RecoveryPoint])
}

func (s *Server) listRestoreTests(w http.ResponseWriter, r *http.Request) error {
	tenant, page, err := s.tenantAndPage(r)
	if err != nil {
		return err
	}
	plan := r.URL.Query().Get("plan")
	if err := maxLen("plan", plan, 128); err != nil {
		return err
	}
	tests, next, err := s.st.ListRestoreTests(r.Context(), tenant, plan, page)
	if err != nil {
		return err
	}
	return WritePage(w, tests, next, func(t store.RestoreTest) string { return t.ID }, same[store.RestoreTest])
}

// point reads the tenant's point named in the path (404 when it has none).
func (s *Server) point(r *http.Request) (string, store.RecoveryPoint, error) {
	tenant, id, err := s.tenantAndID(r)
	if err != nil {
		return "", store.RecoveryPoint{}, err
	}
	pt, err := s.st.GetRecoveryPoint(r.Context(), tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", pt, NotFound("recovery point %q not found", id)
	}
	return tenant, pt, err
}

// backupError maps the service's refusals to answers.
func backupError(err error) error {
	switch {
	case errors.Is(err, store.ErrImmutable):
		return Conflict("%s", errLine(err))
	case errors.Is(err, backup.ErrNoPoint), errors.Is(err, backup.ErrUnknown), errors.Is(err, backup.ErrUnsupported):
		return BadRequest("%s", errLine(err))
	}
	return err
}

func (s *Server) deleteRecoveryPoint(w http.ResponseWriter, r *http.Request) error {
	tenant, pt, err := s.point(r)
	if err != nil {
		return err
	}
	if s.backup == nil {
		return s.backupUnavailable()
	}
	if err := s.backup.Delete(r.Context(), tenant, pt.ID, Principal(r).Actor()); err != nil {
		return backupError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setRetention(w http.ResponseWriter, r *http.Request) error {
	tenant, pt, err := s.point(r)
	if err != nil {
		return err
	}
	var in RetentionInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.ExpiresAt.IsZero() {
		return BadRequest("expires_at is required (RFC 3339)")
	}
	if s.backup == nil {
		return s.backupUnavailable()
	}
	out, err := s.backup.SetRetention(r.Context(), tenant, pt.ID, in.ExpiresAt, Principal(r).Actor())
	if err != nil {
		return backupError(err)
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) restorePoint(w http.ResponseWriter, r *http.Request) error {
	tenant, pt, err := s.point(r)
	if err != nil {
		return err
	}
	var in RestoreInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := required("to", in.To); err != nil {
		return err
	}
	if err := maxLen("to", in.To, 255); err != nil {
		return err
	}
	if s.backup == nil {
		return s.backupUnavailable()
	}
	res, err := s.backup.Restore(r.Context(), tenant, pt.ID, in.To, Principal(r).Actor())
	if err != nil && res.ID == "" {
		return backupError(err)
	}
	// A restore that ran but does not match its point is an answer, not
	// an error of the request.
	WriteJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) testRestore(w http.ResponseWriter, r *http.Request) error {
	tenant, p, err := s.backupPlan(r)
	if err != nil {
		return err
	}
	var in RestoreTestInput
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
	}
	for field, v := range map[string]string{"point": in.Point, "resource": in.Resource} {
		if err := maxLen(field, v, 128); err != nil {
			return err
		}
	}
	if in.Point != "" {
		if _, err := s.st.GetRecoveryPoint(r.Context(), tenant, in.Point); errors.Is(err, store.ErrNotFound) {
			return NotFound("recovery point %q not found", in.Point)
		}
	}
	res, err := s.backup.TestRestore(r.Context(), tenant, p.Name, in.Point, in.Resource, Principal(r).Actor())
	if err != nil && res.ID == "" {
		return backupError(err)
	}
	WriteJSON(w, http.StatusCreated, res)
	return nil
}
