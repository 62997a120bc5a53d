// Package opsitem holds the OpsItem vocabulary and rules: the nine
// categories (one per flywheel area), severities, statuses and which status
// changes are allowed. Storage is in store; HTTP in api; this package is the
// one place that says what a valid OpsItem is.
package opsitem

import (
	"fmt"
	"slices"
	"strings"
)

// Categories are the nine areas Flywheel covers (docs/ui.md, Areas).
var Categories = []string{
	"security", "guardrails", "monitoring", "deployment", "patching",
	"backup", "service", "operations", "finance",
}

// CategoryTitles are display names for Categories.
var CategoryTitles = map[string]string{
	"security":   "Security",
	"guardrails": "Detective guardrails",
	"monitoring": "Monitoring alerts & events",
	"deployment": "Deployment automation",
	"patching":   "Patching",
	"backup":     "Backup & DR",
	"service":    "Service depth",
	"operations": "Operational tooling",
	"finance":    "Financial & capacity",
}

// Severities from most to least urgent.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// Statuses an OpsItem moves through.
const (
	StatusOpen       = "open"
	StatusInProgress = "in-progress"
	StatusResolved   = "resolved"
	StatusSuppressed = "suppressed"
)

// Statuses lists every status.
var Statuses = []string{StatusOpen, StatusInProgress, StatusResolved, StatusSuppressed}

// ValidCategory, ValidSeverity and ValidStatus check a value, returning an
// error naming the field and the allowed values.
func ValidCategory(s string) error { return oneOf("category", s, Categories) }
func ValidSeverity(s string) error { return oneOf("severity", s, Severities) }
func ValidStatus(s string) error   { return oneOf("status", s, Statuses) }

func oneOf(field, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%s %q is not one of %s", field, v, strings.Join(allowed, ", "))
}

// IsClosed reports whether a status ends the OpsItem's active life.
func IsClosed(status string) bool { return status == StatusResolved || status == StatusSuppressed }
