package maintenance

import (
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

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

	// ScheduleOffset, Duration, Cutoff, StartDate and EndDate go with a
	// cron or rate schedule (Cutoff with any); see store.MaintenanceWindow.
	ScheduleOffset int        `yaml:"schedule_offset"`
	Duration       string     `yaml:"duration"`
	Cutoff         string     `yaml:"cutoff"`
	StartDate      *time.Time `yaml:"start_date"`
	EndDate        *time.Time `yaml:"end_date"`
	Tasks          []SpecTask `yaml:"tasks"`
}

// SpecTask is one task; see store.MaintenanceTask.
type SpecTask struct {
	Name           string         `yaml:"name"`
	Runbook        string         `yaml:"runbook"`
	Parameters     map[string]any `yaml:"parameters"`
	Priority       int            `yaml:"priority"`
	MaxConcurrency string         `yaml:"max_concurrency"`
	MaxErrors      string         `yaml:"max_errors"`
	CutoffBehavior string         `yaml:"cutoff_behavior"`
	OnFailure      string         `yaml:"on_failure"`
}

// SpecSchedule is one-off (start, end), weekly, or a cron or rate
// expression written as the schedule itself:
// `schedule: cron(30 23 ? * TUE#3 *)`.
type SpecSchedule struct {
	Start      *time.Time  `yaml:"start"`
	End        *time.Time  `yaml:"end"`
	Weekly     *SpecWeekly `yaml:"weekly"`
	Expression string      `yaml:"-"`
}

// UnmarshalYAML reads a scalar as an expression and a mapping as the
// one-off or weekly form, refusing unknown keys as the loader does.
func (s *SpecSchedule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = SpecSchedule{}
		return n.Decode(&s.Expression)
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i]; k.Value {
			case "start", "end", "weekly":
			default:
				return fmt.Errorf("line %d: field %s not found in schedule (start, end, weekly, or a cron or rate expression)", k.Line, k.Value)
			}
		}
	}
	type plain SpecSchedule
	return n.Decode((*plain)(s))
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
	Group       string            `yaml:"group"`
}

// Record converts the spec to a store record for tenant.
func (s *Spec) Record(id, tenant, name, createdBy string, createdAt time.Time) store.MaintenanceWindow {
	r := store.MaintenanceWindow{ID: id, TenantID: tenant, Name: name, Timezone: s.Timezone, Comment: s.Comment,
		CreatedBy: createdBy, CreatedAt: createdAt,
		Schedule:       store.MaintenanceSchedule{Start: s.Schedule.Start, End: s.Schedule.End},
		Targets:        store.MaintenanceTargets{Matchers: s.Targets.Matchers, ResourceIDs: s.Targets.ResourceIDs, Tags: s.Targets.Tags},
		ScheduleOffset: s.ScheduleOffset, Duration: s.Duration, Cutoff: s.Cutoff, StartDate: s.StartDate, EndDate: s.EndDate}
	r.Schedule.Expression = s.Schedule.Expression
	for _, t := range s.Tasks {
		r.Tasks = append(r.Tasks, store.MaintenanceTask{Name: t.Name, Runbook: t.Runbook, Parameters: t.Parameters, Priority: t.Priority,
			MaxConcurrency: t.MaxConcurrency, MaxErrors: t.MaxErrors, CutoffBehavior: t.CutoffBehavior, OnFailure: t.OnFailure})
	}
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

// CheckRefs is a cross-document check: every task of a window in content
// names a Runbook the set defines, and its targets.group a ResourceGroup.
func CheckRefs(set *content.Set) error {
	var errs []error
	for _, it := range set.Items(KindName) {
		spec, ok := it.Spec.(*Spec)
		if !ok {
			continue
		}
		for i, t := range spec.Tasks {
			if t.Runbook != "" && !set.Defined("Runbook", t.Runbook) {
				errs = append(errs, &content.Error{Origin: it.Origin,
					Msg: fmt.Sprintf("%s %q: spec.tasks[%d].runbook: no Runbook named %q", KindName, it.Name, i, t.Runbook)})
			}
		}
		if g := spec.Targets.Group; g != "" && !set.Defined("ResourceGroup", g) {
			errs = append(errs, &content.Error{Origin: it.Origin,
				Msg: fmt.Sprintf("%s %q: spec.targets.group: no ResourceGroup named %q", KindName, it.Name, g)})
		}
	}
	return errors.Join(errs...)
}
