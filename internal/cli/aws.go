package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func newAWSCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "AWS accounts and their inventory (see docs/aws.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	cmd.AddCommand(newAWSAccountsCmd(g, &tenant))
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
			var out apiv1.List[apiv1.AWSAccount]
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
	var in apiv1.AWSAccountInput
	add := &cobra.Command{
		Use:   "add ACCOUNT-ID",
		Short: "Add an account, or replace its settings (admin)",
		Example: `  flywheel aws accounts add 123456789012 --name acme-prod --region eu-west-1 --region us-east-1 --role-arn arn:aws:iam::123456789012:role/FlywheelAudit --external-id msp-7f3a
  flywheel aws accounts add 210987654321 --region eu-west-1 --profile ops`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out apiv1.AWSAccount
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
