package app

import (
	"context"
	"errors"
	"github.com/flywheel-ops/flywheel/internal/api"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/awsinventory"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// buildAWS makes the one factory of AWS configurations (tenants'
// accounts: their profile or assumed role) that the inventory and the aws
// runbook action share.
func (a *App) buildAWS() {
	a.awsFactory = provider.NewFactory(provider.FactoryOptions{})
	a.awsInventory = provider.NewInventory(a.awsFactory, provider.InventoryOptions{Logger: a.log.With("component", "aws-inventory"), Now: a.now})
}

// awsAccountConfig is the aws action's configuration for a step naming an
// account: the tenant's settings for it, or aws.ErrNoAccount when the
// tenant has not added it (the step then uses the server's credentials).
func (a *App) awsAccountConfig(ctx context.Context, in action.Input, account, region string) (sdkaws.Config, error) {
	acct, err := a.st.GetAWSAccount(ctx, in.TenantID, account)
	if errors.Is(err, store.ErrNotFound) {
		return sdkaws.Config{}, aws.ErrNoAccount
	}
	if err != nil {
		return sdkaws.Config{}, err
	}
	return a.awsFactory.Config(ctx, acct, region)
}

// syncAWSAccount is the aws_inventory action's inventory of a tenant's
// account.
func (a *App) syncAWSAccount(ctx context.Context, tenant, account string) (awsinventory.Result, error) {
	acct, err := a.st.GetAWSAccount(ctx, tenant, account)
	if err != nil {
		return awsinventory.Result{}, err
	}
	d, err := a.awsInventory.Sync(ctx, a.st, acct)
	return awsinventory.Result{Added: d.Added, Changed: d.Changed, Removed: d.Removed, Unchanged: d.Unchanged, Errors: d.Errors}, err
}

// The provider's inventory is what the API syncs an account with.
var _ api.AWSInventory = (*provider.Inventory)(nil)
