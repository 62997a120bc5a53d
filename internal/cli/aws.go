package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/api"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func newAWSCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "AWS accounts and their inventory (see docs/aws.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	cmd.AddCommand(newAWSAccountsCmd(g, &tenant), newAWSInventoryCmd(g, &tenant))
	return cmd
}

func newAWSAccountsCmd(g *globals, tenant *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "accounts",
		Aliases: []string{"account"},
		Short:   "The tenant's AWS accounts and how Flywheel reaches them",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out api.List[api.AWSAccount]
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/aws/accounts", *tenant, nil), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out.Items)
			}
			rows := make([][]string, 0, len(out.Items))
			for _, a := range out.Items {
				via := "profile " + a.Profile
				if a.Profile == "" {
					via = "default credentials"
				}
				if a.RoleARN != "" {
					via += ", role " + a.RoleARN
				}
				last := "never"
				if !a.Inventory.At.IsZero() {
					last = fmtTime(a.Inventory.At) + " (" + strconv.Itoa(a.Inventory.Resources) + " resources)"
				}
				if a.Inventory.Error != "" {
					last += " with errors"
				}
				rows = append(rows, []string{a.ID, a.Name, strings.Join(a.Regions, ","), via, last})
			}
			return printTable(cmd.OutOrStdout(), []string{"ACCOUNT", "NAME", "REGIONS", "CREDENTIALS", "LAST INVENTORY"}, rows)
		},
	}
	var in api.AWSAccountInput
	add := &cobra.Command{
		Use:   "add ACCOUNT-ID",
		Short: "Add an account, or replace its settings (admin)",
		Example: `  flywheel aws accounts add 123456789012 --name acme-prod --region eu-west-1 --region us-east-1 --role-arn arn:aws:iam::123456789012:role/FlywheelAudit --external-id msp-7f3a
  flywheel aws accounts add 210987654321 --region eu-west-1 --profile ops`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out api.AWSAccount
			if err := g.client().Do(cmd.Context(), "PUT", tenantPath("/api/v1/aws/accounts/"+args[0], *tenant, nil), in, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.ID)
			return nil
		},
	}
	add.Flags().StringVar(&in.Name, "name", "", "a name for people")
	add.Flags().StringArrayVar(&in.Regions, "region", nil, "a region to inventory, repeatable (required)")
	add.Flags().StringVar(&in.Profile, "profile", "", "a profile of the server's shared AWS config (default: the default chain)")
	add.Flags().StringVar(&in.RoleARN, "role-arn", "", "a role in the account to assume")
	add.Flags().StringVar(&in.ExternalID, "external-id", "", "the external ID the role's trust policy requires")
	remove := &cobra.Command{
		Use:   "remove ACCOUNT-ID",
		Short: "Remove an account and the resources its inventory wrote (admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.client().Do(cmd.Context(), "DELETE", tenantPath("/api/v1/aws/accounts/"+args[0], *tenant, nil), nil, nil)
		},
	}
	cmd.AddCommand(list, add, remove)
	return cmd
}

func newAWSInventoryCmd(g *globals, tenant *string) *cobra.Command {
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
			if err := g.client().Do(cmd.Context(), "POST", tenantPath("/api/v1/aws/accounts/"+args[0]+"/inventory", *tenant, nil), nil, &d); err != nil {
				return err
			}
			if g.json {
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
func awsRecordedInventory(cmd *cobra.Command, g *globals, dir string, overlays []string, account string, regions []string) error {
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
	if g.json {
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
