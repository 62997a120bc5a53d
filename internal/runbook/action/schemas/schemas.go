// Package schemas is the runbook I/O actions as content validation needs
// them: each action's name and input checks, without what runs it. It is
// the registry's list (internal/runbook/action/registry; a test keeps the
// two equal) with the aws action's SDK-free validator (awsspec), so
// loading and validating content — in the server's API, UI and stats, or
// `flywheel content validate` — links no cloud SDK.
package schemas

import (
	"slices"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws/awsspec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/backup"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/http"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/patch"
)

// validators are the actions with default options: they only validate.
var validators = map[string]action.Action{}

func init() {
	for _, a := range []action.Action{awsspec.Validator{}, exec.New(exec.Options{}), http.New(http.Options{}), notify.New(notify.Options{}),
		backup.New(backup.Options{}), patch.New(patch.Options{})} {
		validators[a.Name()] = a
	}
}

// Get returns the action a step names, for validating its inputs only.
func Get(name string) (action.Action, bool) {
	a, ok := validators[name]
	return a, ok
}

// Names lists the actions, sorted.
func Names() []string {
	names := make([]string, 0, len(validators))
	for n := range validators {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
