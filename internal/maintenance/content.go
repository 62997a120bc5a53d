package maintenance

import (
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// KindName is the content kind of maintenance windows kept in git.
const KindName = "MaintenanceWindow"

// Spec is a MaintenanceWindow document's spec. Windows declared as content
// are created in the store at start (and used by `flywheel replay`); windows
// made through the API live only in the store.
type Spec struct {
	Timezone string       `yaml:"timezone"`
	Schedule SpecSchedule `yaml:"schedule"`
	Targets  SpecTargets  `yaml:"targets"`
	Comment  string       `yaml:"comment"`
}

// SpecSchedule is one-off (start, end) or weekly.
type SpecSchedule struct {
	Start  *time.Time  `yaml:"start"`
	End    *time.Time  `yaml:"end"`
	Weekly *SpecWeekly `yaml:"weekly"`
}

// SpecWeekly is a weekly slot: days, local start time, duration.
type SpecWeekly struct {
	Days     []string `yaml:"days"`
	Start    string   `yaml:"start"`
	Duration string   `yaml:"duration"`
}

// SpecTargets say which events the window covers.
type SpecTargets struct {
	Matchers    []string          `yaml:"matchers"`
	ResourceIDs []string          `yaml:"resource_ids"`
	Tags        map[string]string `yaml:"tags"`
}

// Record converts the spec to a store record for tenant.
func (s *Spec) Record(id, tenant, name, createdBy string, createdAt time.Time) store.MaintenanceWindow {
	r := store.MaintenanceWindow{ID: id, TenantID: tenant, Name: name, Timezone: s.Timezone, Comment: s.Comment,
		CreatedBy: createdBy, CreatedAt: createdAt,
		Schedule: store.MaintenanceSchedule{Start: s.Schedule.Start, End: s.Schedule.End},
		Targets:  store.MaintenanceTargets{Matchers: s.Targets.Matchers, ResourceIDs: s.Targets.ResourceIDs, Tags: s.Targets.Tags}}
	if w := s.Schedule.Weekly; w != nil {
		r.Schedule.Weekly = &store.Recurrence{Days: w.Days, Start: w.Start, Duration: w.Duration}
	}
	return r
}

// Kind returns the MaintenanceWindow content kind; validation is the same
// as the API's.
func Kind() content.Kind {
	return content.Kind{
		Name: KindName,
		New:  func() any { return new(Spec) },
		Validate: func(spec any) error {
			s := spec.(*Spec)
			if _, err := FromRecord(s.Record("content", "content", "content", "content", time.Unix(0, 0))); err != nil {
				return fmt.Errorf("invalid window: %w", err)
			}
			return nil
		},
	}
}
