package servercmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/api"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// newAWSInventoryCmd is `flywheel aws inventory`: its offline modes
// (--recorded, --record) run the AWS provider in-process.
func newAWSInventoryCmd(g globals) *cobra.Command {
	var (
		recorded, record string
		overlays         []string
		account          string
		regions          []string
		creds            api.AWSAccountInput
	)
	cmd := &cobra.Command{
		Use:   "inventory [ACCOUNT-ID]",
		Short: "Read an account's resources now, or a recorded account offline",
		Long: `Read an account's resources now (operator): the server inventories it and
prints what changed. With --recorded DIR, read a recorded account (placebo
files, see docs/aws.md) offline, with no server and no AWS access, and print
its resources.`,
		Example: `  flywheel aws inventory 123456789012
  flywheel aws inventory --recorded testdata/aws/acme --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if record != "" {
				a := store.AWSAccount{TenantID: "record", ID: account, Regions: regions, Profile: creds.Profile, RoleARN: creds.RoleARN, ExternalID: creds.ExternalID}
				return awsRecord(cmd, record, a)
			}
			if recorded != "" {
				return awsRecordedInventory(cmd, g, recorded, overlays, account, regions)
			}
			if len(args) != 1 {
				return errors.New("name the account (or give --recorded DIR)")
			}
			var d provider.Diff
			if err := g.Client().Do(cmd.Context(), "POST", tenantPath("/api/v1/aws/accounts/"+args[0]+"/inventory", tenantFlag(cmd), nil), nil, &d); err != nil {
				return err
			}
			if g.JSON() {
				return printJSON(cmd.OutOrStdout(), d)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d added, %d changed, %d removed, %d unchanged\n", len(d.Added), len(d.Changed), len(d.Removed), d.Unchanged)
			for _, e := range d.Errors {
				fmt.Fprintln(cmd.OutOrStdout(), "error:", e)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&recorded, "recorded", "", "a directory of recorded responses to read instead of AWS")
	cmd.Flags().StringArrayVar(&overlays, "overlay", nil, "with --recorded: a directory of responses replacing some of it, repeatable")
	cmd.Flags().StringVar(&record, "record", "", "read a real account from this machine's AWS credentials and write every answer, scrubbed, to this directory")
	cmd.Flags().StringVar(&account, "account", "123456789012", "with --recorded or --record: the account ID")
	cmd.Flags().StringArrayVar(&regions, "region", []string{"eu-west-1"}, "with --recorded or --record: the regions, in the order they are read")
	cmd.Flags().StringVar(&creds.Profile, "profile", "", "with --record: a profile of the shared AWS config")
	cmd.Flags().StringVar(&creds.RoleARN, "role-arn", "", "with --record: a role to assume in the account")
	cmd.Flags().StringVar(&creds.ExternalID, "external-id", "", "with --record: the role's external ID")
	return cmd
}

// awsRecordedInventory replays a recording through the real SDK and
// prints the resources read.
func awsRecordedInventory(cmd *cobra.Command, g globals, dir string, overlays []string, account string, regions []string) error {
	inv, _, err := provider.Recorded(dir, overlays...)
	if err != nil {
		return err
	}
	res, err := inv.Collect(cmd.Context(), store.AWSAccount{TenantID: "recorded", ID: account, Regions: regions})
	if err != nil {
		return err
	}
	for _, e := range res.Errors {
		fmt.Fprintln(cmd.ErrOrStderr(), "flywheel: warning:", e)
	}
	if g.JSON() {
		return printJSON(cmd.OutOrStdout(), res.Resources)
	}
	rows := make([][]string, 0, len(res.Resources))
	for _, r := range res.Resources {
		rows = append(rows, []string{r.Type, r.Name, r.ID})
	}
	return printTable(cmd.OutOrStdout(), []string{"TYPE", "NAME", "ID"}, rows)
}

// awsRecord inventories a real account with this machine's credentials,
// writing every answer to dir (placebo.Record: account IDs and secrets
// scrubbed).
func awsRecord(cmd *cobra.Command, dir string, a store.AWSAccount) error {
	pill := placebo.Record(dir)
	inv := provider.NewInventory(provider.NewFactory(provider.FactoryOptions{APIOptions: pill.APIOptions()}), provider.InventoryOptions{})
	res, err := inv.Collect(cmd.Context(), a)
	if err != nil {
		return err
	}
	for _, e := range res.Errors {
		fmt.Fprintln(cmd.ErrOrStderr(), "flywheel: warning:", e)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d resources, %d responses written to %s\n", len(res.Resources), len(pill.Calls()), dir)
	return nil
}

// tenantFlag is the --tenant of the command's group (`aws --tenant`).
func tenantFlag(cmd *cobra.Command) string {
	t, _ := cmd.Flags().GetString("tenant")
	return t
}
