// Package kinds is the one place that lists the content kinds Flywheel
// understands and registers them, so `flywheel serve`, `flywheel content
// validate` and tests all build the same content.Registry.
//
// Each kind is defined next to the code that uses it; a kind small enough
// to have no engine of its own (Tenant) lives here. A new kind is added to
// Foundation's list and to the Kinds table of docs/content.md, which
// TestDocListsEveryKind keeps equal to the registry.
package kinds

import (
	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/dedup"
	"github.com/flywheel-ops/flywheel/internal/inhibit"
	"github.com/flywheel-ops/flywheel/internal/intake/generic"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/schemas"
)

// Foundation returns the kinds that exist from the first release.
func Foundation() []content.Kind {
	return []content.Kind{Tenant(), inhibit.Kind(), correlate.Kind(), dedup.Kind(), maintenance.Kind(), generic.Kind(), application.Kind(),
		// Runbook steps are checked against the I/O actions' schemas
		// (names and inputs): they only validate here, never run, and
		// link no cloud SDK.
		runbook.Kind(schemas.Get), runbook.GroupKind(), rule.Kind(),
		patch.BaselineKindDef(), patch.GroupKindDef(), patch.CalendarKindDef(), backup.Kind()}
}

// Register registers every kind and the cross-document checks that always
// apply. CheckTenantRefs is not among them; see its comment.
func Register(reg *content.Registry) {
	for _, k := range Foundation() {
		reg.Register(k)
	}
	reg.RegisterCheck(checkTenantsUnscoped)
	reg.RegisterCheck(runbook.CheckRefs)
	reg.RegisterCheck(runbook.CheckGroupRefs)
	// A rule naming a runbook that exists nowhere (library or user
	// content) fails at load, not as a failed run on the first incident.
	reg.RegisterCheck(rule.CheckRunbookRefs)
	reg.RegisterCheck(maintenance.CheckRefs)
	reg.RegisterCheck(application.CheckRefs)
	reg.RegisterCheck(patch.CheckRefs)
	reg.RegisterCheck(backup.CheckRefs)
}

// NewRegistry returns a registry with every kind registered.
func NewRegistry() *content.Registry {
	reg := content.NewRegistry()
	Register(reg)
	return reg
}
