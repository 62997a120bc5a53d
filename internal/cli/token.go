package cli

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	tq := func() url.Values {
		q := url.Values{}
		if tenant != "" {
			q.Set("tenant", tenant)
		}
		return q
	}
	var in apiv1.TokenInput
	var role string
	var allow []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token; its secret is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Role = apiv1.Role(role)
			in.Allow = nil
			for _, p := range allow {
				in.Allow = append(in.Allow, apiv1.Permission(p))
			}
			var out apiv1.CreatedToken
			path := "/api/v1/tokens"
			if q := tq().Encode(); q != "" {
				path += "?" + q
			}
			if err := g.client().Do(cmd.Context(), "POST", path, in, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %s (%s, tenant %s) — the secret is shown only now:\n%s\n", out.ID, out.Role, out.TenantID, out.Secret)
			return nil
		},
	}
	create.Flags().StringVar(&in.Name, "name", "", "what the token is for (required)")
	create.Flags().StringVar(&role, "role", "viewer", "intake (senders: may only post events), viewer, operator or admin")
	create.Flags().BoolVar(&in.PlatformAdmin, "platform-admin", false, "may act across tenants")
	create.Flags().StringSliceVar(&allow, "allow", nil, "grant a permission beyond the role: host-commands (run commands on hosts; admins hold it)")
	create.Flags().StringVar(&in.ExpiresIn, "expires-in", "", "lifetime, e.g. 720h (default: no expiry)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, err := listAll[apiv1.Token](cmd, g, "/api/v1/tokens", tq())
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, t := range items {
				state := "active"
				if t.RevokedAt != nil {
					state = "revoked"
				}
				role := string(t.Role)
				for _, p := range t.Permissions {
					role += "+" + string(p)
				}
				rows[i] = []string{t.ID, t.Name, role, t.Prefix + "…", state, fmtTimePtr(t.ExpiresAt), fmtTimePtr(t.LastUsedAt)}
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "NAME", "ROLE", "PREFIX", "STATE", "EXPIRES", "LAST USED"}, rows)
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/api/v1/tokens/" + url.PathEscape(args[0])
			if q := tq().Encode(); q != "" {
				path += "?" + q
			}
			if err := g.client().Do(cmd.Context(), "DELETE", path, nil, nil); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "revoked", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
