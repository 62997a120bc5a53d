package rule

import (
	"context"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Status is one rule as the rules page, GET /api/v1/rules and `flywheel
// rule list` show it: what it does and how it has been doing in a tenant.
type Status struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Tenant is set for a tenant's own rule ("" for a shared one).
	Tenant   string `json:"tenant,omitempty"`
	Origin   string `json:"origin"`
	Priority int    `json:"priority"`
	// When is the CEL condition; Schedule and Timezone a scheduled rule's.
	When     string `json:"when,omitempty"`
	Schedule string `json:"schedule,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// Runbook and Mode (auto, approval, suggest), Notify (a channel),
	// Suppress: what it does.
	Runbook  string `json:"runbook,omitempty"`
	Mode     string `json:"mode,omitempty"`
	Notify   string `json:"notify,omitempty"`
	Suppress bool   `json:"suppress,omitempty"`
	// RateLimit: at most RateMax actions per RatePer; Cooldown the loop
	// guard; BreakerFailures the failures that open its breaker.
	RateMax         int    `json:"rate_limit_max"`
	RatePer         string `json:"rate_limit_per"`
	Cooldown        string `json:"cooldown"`
	BreakerFailures int    `json:"breaker_failures"`
	// Breakers are its breakers that are open or counting failures;
	// BreakerOpen is set when any is open.
	Breakers    []Breaker `json:"breakers"`
	BreakerOpen bool      `json:"breaker_open"`
	// LastActedAt is its last action (run, suggestion, notification);
	// Executions counts the executions it started.
	LastActedAt     *time.Time `json:"last_acted_at,omitempty"`
	Executions      int64      `json:"executions"`
	LastExecutionAt *time.Time `json:"last_execution_at,omitempty"`
}

// Statuses lists the rules of rs (a tenant's view, ForTenant) in
// evaluation order with their breakers and activity in tenant.
func Statuses(ctx context.Context, rd store.RuleReader, rs *Rules, tenant string) ([]Status, error) {
	breakers, err := ListBreakers(ctx, rd, tenant)
	if err != nil {
		return nil, err
	}
	acts, err := rd.ListRuleActivity(ctx, tenant)
	if err != nil {
		return nil, err
	}
	byRule := map[string]store.RuleActivity{}
	for _, a := range acts {
		byRule[a.Rule] = a
	}
	out := []Status{}
	for _, r := range rs.List() {
		s := Status{Name: r.Name, Description: r.Description, Tenant: r.Tenant, Origin: r.Origin.String(), Priority: r.Priority,
			When: r.When, Schedule: r.Schedule, Timezone: r.Timezone, Runbook: r.Runbook, Mode: string(r.Mode), Suppress: r.Suppress,
			RateMax: r.RateLimit.Max, RatePer: shortDuration(r.RateLimit.Per), Cooldown: shortDuration(r.Cooldown), BreakerFailures: r.CircuitBreaker.Failures,
			Breakers: []Breaker{}}
		if r.Notify != nil {
			s.Notify = r.Notify.Channel
		}
		for _, b := range breakers {
			if b.Rule == r.Name {
				s.Breakers = append(s.Breakers, b)
				s.BreakerOpen = s.BreakerOpen || b.Open
			}
		}
		if a, ok := byRule[r.Name]; ok {
			s.Executions = a.Executions
			if !a.LastActedAt.IsZero() {
				at := a.LastActedAt.UTC()
				s.LastActedAt = &at
			}
			if !a.LastExecutionAt.IsZero() {
				at := a.LastExecutionAt.UTC()
				s.LastExecutionAt = &at
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// shortDuration is a Go duration without zero units: "1h", "30m", "1h30m"
// (time.ParseDuration reads it back).
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
