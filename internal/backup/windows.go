package backup

import (
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Windows are the maintenance windows a plan's rules run through, one per
// rule and selection, for tenant: each opening runs the built-in backup
// runbook on the selection's resources (plan, rule and selection as its
// parameters). The schedule is the rule's, the window lasts the
// completion window, and no backup starts after the start window (the
// window's cutoff). An opening no server was up for is recorded as missed
// and opens an OpsItem, as for every window (internal/windowrun).
//
// A window's ID is fixed by tenant and name, so its runs' history (and
// the openings missed while no server ran) carry across restarts.
func Windows(p *Plan, tenant string, at time.Time) ([]store.MaintenanceWindow, error) {
	var out []store.MaintenanceWindow
	for _, r := range p.Rules {
		for _, sel := range p.Selections {
			rec := ruleWindow(p.Name, "", r, &sel, at)
			rec.ID, rec.TenantID = windowID(tenant, rec.Name), tenant
			w, err := maintenance.FromRecord(rec)
			if err == nil {
				err = w.Validate()
			}
			if err != nil {
				return nil, fmt.Errorf("backup plan %s rule %s selection %s: %w", p.Name, r.Name, sel.Name, err)
			}
			out = append(out, w.Record())
		}
	}
	if t := p.RestoreTest; t != nil && t.Schedule != "" {
		r := Rule{Name: "restore-test", Schedule: t.Schedule, Timezone: t.Timezone, CompletionWindow: "4h"}
		for _, sel := range p.Selections {
			rec := ruleWindow(p.Name, "", r, &sel, at)
			rec.ID, rec.TenantID = windowID(tenant, rec.Name), tenant
			rec.Tasks = []store.MaintenanceTask{{Name: "restore-test", Runbook: RestoreTestRunbook, MaxConcurrency: "1", MaxErrors: "100%",
				OnFailure: "continue", Parameters: map[string]any{"plan": p.Name}}}
			w, err := maintenance.FromRecord(rec)
			if err == nil {
				err = w.Validate()
			}
			if err != nil {
				return nil, fmt.Errorf("backup plan %s restore test, selection %s: %w", p.Name, sel.Name, err)
			}
			out = append(out, w.Record())
		}
	}
	return out, nil
}

func windowID(tenant, name string) string { return maintenance.IDPrefix + "_" + tenant + "_" + name }

// IsPlanWindow reports whether a stored window is one a backup plan made.
func IsPlanWindow(w store.MaintenanceWindow) bool {
	return strings.HasPrefix(w.CreatedBy, createdByPrefix)
}

// OpsItemCategory is the OpsItem category of a missed opening of window
// w (windowrun.Options.Category): "backup" for a plan's window, "" (the
// default) for any other.
func OpsItemCategory(w store.MaintenanceWindow) string {
	if IsPlanWindow(w) {
		return "backup"
	}
	return ""
}
