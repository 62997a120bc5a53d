// Package awsinventory is the `aws_inventory` step action: read one of the
// tenant's AWS accounts into the inventory now (internal/provider/aws), so
// a maintenance window can keep inventories fresh on a schedule — the one
// scheduling concept, docs/schedules.md — and a runbook can refresh an
// account before it checks or changes something.
package awsinventory

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

// Result is what one inventory changed.
type Result struct {
	Added, Changed, Removed []string
	Unchanged               int
	Errors                  []string
}

// Options configure the action.
type Options struct {
	// Sync inventories a tenant's account. Nil: the action fails, saying
	// the server does not read AWS accounts.
	Sync func(ctx context.Context, tenant, account string) (Result, error)
}

// Action is the aws_inventory action.
type Action struct {
	sync func(ctx context.Context, tenant, account string) (Result, error)
}

var _ action.Action = (*Action)(nil)

// New returns the action.
func New(o Options) *Action { return &Action{sync: o.Sync} }

// Name implements action.Action.
func (*Action) Name() string { return "aws_inventory" }

var accountRe = regexp.MustCompile(`^[0-9]{12}$`)

func parse(r *with.Reader) string {
	r.Require("account")
	account, _ := r.String("account")
	if account != "" && !with.IsExpr(account) && !accountRe.MatchString(account) {
		r.Errorf("account", "%q is not a 12-digit AWS account ID", account)
	}
	return account
}

// Validate implements action.Action.
func (*Action) Validate(m map[string]any) error {
	r := with.ForValidate(m)
	parse(r)
	return r.Err()
}

// maxListed bounds the IDs an output lists (outputs are stored with the
// execution); the counts are always whole.
const maxListed = 100

// Run implements action.Action.
func (a *Action) Run(ctx context.Context, in action.Input) (action.Output, error) {
	r := with.ForRun(in.With)
	account := parse(r)
	if err := r.Err(); err != nil {
		return action.Output{}, fmt.Errorf("aws_inventory: %w", err)
	}
	if a.sync == nil {
		return action.Output{}, errors.New("aws_inventory: this server does not read AWS accounts")
	}
	res, err := a.sync(ctx, in.TenantID, account)
	if err != nil {
		return action.Output{}, fmt.Errorf("aws_inventory: account %s: %w", account, err)
	}
	clip := func(ids []string) []any {
		out := []any{}
		for i, id := range ids {
			if i == maxListed {
				break
			}
			out = append(out, id)
		}
		return out
	}
	errs := []any{}
	for _, e := range res.Errors {
		errs = append(errs, e)
	}
	return action.Output{
		Values: map[string]any{
			"added": int64(len(res.Added)), "changed": int64(len(res.Changed)), "removed": int64(len(res.Removed)),
			"unchanged": int64(res.Unchanged), "changed_ids": clip(append(append([]string(nil), res.Added...), res.Changed...)),
			"errors": errs,
		},
		Log: fmt.Sprintf("account %s: %d added, %d changed, %d removed, %d unchanged, %d errors",
			account, len(res.Added), len(res.Changed), len(res.Removed), res.Unchanged, len(res.Errors)),
	}, nil
}
