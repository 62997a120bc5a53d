package rule

import (
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/content"
)

// CheckRunbookRefs checks that every Rule's then.runbook names a Runbook
// the content defines, so a misspelt name fails at load rather than as a
// failed run on the first incident. Register it (reg.RegisterCheck) where
// the Runbook kind is registered; package kinds does.
func CheckRunbookRefs(set *content.Set) error {
	var errs []error
	for _, it := range set.Items(KindName) {
		spec, ok := it.Spec.(*Spec)
		if !ok || spec.Then.Runbook == "" || set.Defined(RunbookKind, spec.Then.Runbook) {
			continue
		}
		errs = append(errs, &content.Error{Origin: it.Origin,
			Msg: fmt.Sprintf("%s %q: spec.then.runbook: no %s named %q", KindName, it.Name, RunbookKind, spec.Then.Runbook)})
	}
	return errors.Join(errs...)
}
