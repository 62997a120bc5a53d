package web

import (
	"context"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Backup: the tenant's backup plans, each resource's last recovery point
// and restore test with the plan's RPO and RTO, and the restore-test
// history (docs/backup.md).

// BackupStatus reports backup plans; *backup.Service is one.
type BackupStatus interface {
	Plans(tenant string) []*backup.Plan
	Status(ctx context.Context, tenant string, p *backup.Plan) (backup.PlanStatus, error)
}

var _ BackupStatus = (*backup.Service)(nil)

type backupData struct {
	Plans []backup.PlanStatus
	Tests []store.RestoreTest
}

func (h *Handler) backupRoutes() {
	h.page("GET /backup", "backup", h.backupPage)
}

func (h *Handler) backupPage(rq *request) (any, error) {
	rq.view.Title = "Backup"
	d := &backupData{}
	if h.backup != nil {
		for _, p := range h.backup.Plans(rq.tenantID()) {
			st, err := h.backup.Status(rq.ctx, rq.tenantID(), p)
			if err != nil {
				return nil, fmt.Errorf("backup plan %s: %w", p.Name, err)
			}
			d.Plans = append(d.Plans, st)
		}
	}
	tests, _, err := h.st.ListRestoreTests(rq.ctx, rq.tenantID(), "", store.Page{Limit: listPageSize})
	if err != nil {
		return nil, fmt.Errorf("restore tests: %w", err)
	}
	d.Tests = tests
	return d, nil
}

// secondsText shows a number of seconds as a duration ("-" for none).
func secondsText(s float64) string {
	if s <= 0 {
		return "-"
	}
	d := time.Duration(s * float64(time.Second))
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}
