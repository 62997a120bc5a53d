// Package cost is Flywheel's financial flywheel: resource schedules that
// stop development resources off-hours, the hours and money they save,
// and waste findings (resources paid for and not used).
//
// A resource schedule is the content kind ResourceSchedule — not to be
// confused with a MaintenanceWindow (package schedule and windowrun), which
// runs tasks at the times a cron or rate expression names. A resource
// schedule instead says, for every instant, whether its resources should be
// running: they run inside its periods (local times on given weekdays,
// month days and months, in an IANA zone) and are stopped outside them and
// on its holidays. The two share the timing machinery and the runbook
// executor: the Runner's tick is a periodic job on the job queue's elected
// leader, as the maintenance windows' tick is, and stopping or starting a
// resource is a runbook execution (a host's systemd units through its
// agent, an EC2 or RDS instance through the AWS action), audited and
// visible like any other. Periods that cron cannot express (a begin and
// an end, month days with "L") are this package's own arithmetic over
// recurrence's day and time-of-day parsing.
package cost

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
)

// KindName is the content kind of resource schedules.
const KindName = "ResourceSchedule"

// Desired states.
const (
	Running = "running"
	Stopped = "stopped"
)

// DefaultOptOutTag is the tag that takes a resource out of every schedule
// (any value but "false", "no" or "0").
const DefaultOptOutTag = "flywheel-schedule-opt-out"

// Spec is a ResourceSchedule document's spec.
type Spec struct {
	Description string `yaml:"description"`
	// Timezone is the IANA zone the periods' times are read in.
	Timezone string       `yaml:"timezone"`
	Periods  []PeriodSpec `yaml:"periods"`
	Holidays HolidaySpec  `yaml:"holidays"`
	// Enforced stops (or starts) a resource found in the wrong state at
	// every tick, not only when the schedule's state changes: a dev box
	// started by hand at night is stopped again.
	Enforced bool `yaml:"enforced"`
	// RetainRunning leaves a resource running at the end of a period when
	// it was already running (started by hand) when the period began.
	RetainRunning bool `yaml:"retain_running"`
	// Override pins the state until a time (a release weekend).
	Override *OverrideSpec `yaml:"override"`
	Targets  TargetSpec    `yaml:"targets"`
	// Units are the systemd units stopped and started on host targets.
	Units []string `yaml:"units"`
	// HourlyCost prices targets the price table does not know (an
	// on-premises host), in the price table's currency.
	HourlyCost float64 `yaml:"hourly_cost"`
}

// HolidaySpec lists the days the resources stay stopped: dates, and the
// all-day events of an iCalendar text (ParseICal).
type HolidaySpec struct {
	Dates []string `yaml:"dates"`
	ICal  string   `yaml:"ical"`
}

// OverrideSpec pins the desired state until Until (RFC 3339).
type OverrideSpec struct {
	State string `yaml:"state"`
	Until string `yaml:"until"`
}

// TargetSpec selects the resources a schedule runs. A resource is a
// target when it carries every tag in Tags, or when its ScheduleTag tag
// names this schedule (AWS Instance Scheduler's "Schedule" tag); a
// resource carrying OptOutTag is never one.
type TargetSpec struct {
	Tags        map[string]string `yaml:"tags"`
	ScheduleTag string            `yaml:"schedule_tag"`
	OptOutTag   string            `yaml:"opt_out_tag"`
}

// Schedule is a compiled ResourceSchedule.
type Schedule struct {
	Name          string
	Tenant        string
	Spec          Spec
	loc           *time.Location
	periods       []period
	holidays      map[string]string // date → name
	overrideState string
	overrideUntil time.Time
}

// Kind returns the ResourceSchedule content kind.
func Kind() content.Kind {
	return content.Kind{
		Name: KindName,
		New:  func() any { return &Spec{Timezone: "UTC"} },
		Validate: func(spec any) error {
			_, err := Compile("", "", spec.(*Spec))
			return err
		},
	}
}

// Compile checks a spec and returns its schedule. Errors name the field.
func Compile(tenant, name string, s *Spec) (*Schedule, error) {
	out := &Schedule{Name: name, Tenant: tenant, Spec: *s, holidays: map[string]string{}}
	var errs []error
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil || s.Timezone == "" || strings.EqualFold(s.Timezone, "local") {
		errs = append(errs, content.FieldErrorf("timezone", "%q is not an IANA time zone (Europe/Berlin, America/New_York, UTC)", s.Timezone))
		loc = time.UTC
	}
	out.loc = loc
	if len(s.Periods) == 0 {
		errs = append(errs, content.FieldErrorf("periods", "is empty; a schedule needs at least one running period"))
	}
	for i, p := range s.Periods {
		cp, err := compilePeriod(p, fmt.Sprintf("periods[%d]", i))
		if err != nil {
			errs = append(errs, err)
		}
		out.periods = append(out.periods, cp)
	}
	for i, d := range s.Holidays.Dates {
		if _, err := time.Parse(holidayLayout, d); err != nil {
			errs = append(errs, content.FieldErrorf(fmt.Sprintf("holidays.dates[%d]", i), "%q is not a date (YYYY-MM-DD)", d))
			continue
		}
		out.holidays[d] = "holiday"
	}
	if s.Holidays.ICal != "" {
		hs, err := ParseICal(s.Holidays.ICal)
		if err != nil {
			errs = append(errs, &content.FieldError{Field: "holidays.ical", Err: err})
		}
		for _, h := range hs {
			out.holidays[h.Date] = h.Name
		}
	}
	if o := s.Override; o != nil {
		if o.State != Running && o.State != Stopped {
			errs = append(errs, content.FieldErrorf("override.state", "%q is not running or stopped", o.State))
		}
		u, err := time.Parse(time.RFC3339, o.Until)
		if err != nil {
			errs = append(errs, content.FieldErrorf("override.until", "%q is not an RFC 3339 time (2026-12-24T18:00:00Z)", o.Until))
		}
		out.overrideState, out.overrideUntil = o.State, u
	}
	if len(s.Targets.Tags) == 0 && s.Targets.ScheduleTag == "" {
		errs = append(errs, content.FieldErrorf("targets", "selects nothing; give tags or schedule_tag"))
	}
	for i, u := range s.Units {
		if !validUnit(u) {
			errs = append(errs, content.FieldErrorf(fmt.Sprintf("units[%d]", i), "%q is not a systemd unit name", u))
		}
	}
	if s.HourlyCost < 0 {
		errs = append(errs, content.FieldErrorf("hourly_cost", "%v is negative", s.HourlyCost))
	}
	return out, errors.Join(errs...)
}

// validUnit is the pattern the schedule-host-units runbook declares.
func validUnit(u string) bool {
	if u == "" || len(u) > 256 {
		return false
	}
	for i, r := range u {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("@._:-", r)
		if !ok {
			return false
		}
	}
	return true
}

// Location is the schedule's zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Decision is the state a schedule wants at an instant, and why.
type Decision struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// At returns the state the schedule wants at t: an override in force
// wins, then a holiday (stopped all day, local date), then the periods.
func (s *Schedule) At(t time.Time) Decision {
	if s.overrideState != "" && t.Before(s.overrideUntil) {
		return Decision{s.overrideState, "override until " + s.overrideUntil.Format(time.RFC3339)}
	}
	local := t.In(s.loc)
	if name, ok := s.holidays[local.Format(holidayLayout)]; ok {
		return Decision{Stopped, "holiday: " + name}
	}
	for i, p := range s.periods {
		if p.runs(local) {
			return Decision{Running, fmt.Sprintf("in period %d", i+1)}
		}
	}
	return Decision{Stopped, "outside the periods"}
}

// Holidays lists the schedule's holidays, by date.
func (s *Schedule) Holidays() []Holiday {
	out := make([]Holiday, 0, len(s.holidays))
	for d, n := range s.holidays {
		out = append(out, Holiday{Date: d, Name: n})
	}
	slices.SortFunc(out, func(a, b Holiday) int { return strings.Compare(a.Date, b.Date) })
	return out
}

// Targets reports whether a resource with these tags is one of the
// schedule's targets.
func (s *Schedule) Targets(tags map[string]string) bool {
	opt := s.Spec.Targets.OptOutTag
	if opt == "" {
		opt = DefaultOptOutTag
	}
	if v, ok := tags[opt]; ok && !slices.Contains([]string{"false", "no", "0"}, strings.ToLower(v)) {
		return false
	}
	if k := s.Spec.Targets.ScheduleTag; k != "" && tags[k] == s.Name {
		return true
	}
	if len(s.Spec.Targets.Tags) == 0 {
		return false
	}
	for k, v := range s.Spec.Targets.Tags {
		if tv, ok := tags[k]; !ok || tv != v {
			return false
		}
	}
	return true
}
