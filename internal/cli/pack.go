package cli

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// newPackCmd is `flywheel pack`: the service packs of docs/packs.md.
func newPackCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "pack", Short: "Service packs: list, show, install, upgrade, diff, uninstall (per tenant)"}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	path := func(name, suffix string) string {
		p := "/api/v1/packs"
		if name != "" {
			p += "/" + url.PathEscape(name) + suffix
		}
		return tenantPath(p, tenant, nil)
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List the catalogue's packs and the versions the tenant has installed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out apiv1.PackList
			if err := g.client().Do(cmd.Context(), "GET", path("", ""), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			rows := make([][]string, len(out.Packs))
			for i, p := range out.Packs {
				state := "-"
				switch {
				case p.Upgrade:
					state = "upgrade available"
				case p.Installed != "":
					state = "installed"
				}
				rows[i] = []string{p.Name, p.Service, dash(p.Available), dash(p.Installed), state}
			}
			return printTable(cmd.OutOrStdout(), []string{"NAME", "SERVICE", "AVAILABLE", "INSTALLED", "STATE"}, rows)
		},
	}

	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a pack: what it needs, its scenarios with their alerts and runbooks, its documents",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var d apiv1.PackDetail
			if err := g.client().Do(cmd.Context(), "GET", path(args[0], ""), nil, &d); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), d)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s %s — %s\n%s\n", d.Name, dash(d.Available), d.Service, d.Description)
			fmt.Fprintf(w, "installed: %s\n", dash(d.Installed))
			fmt.Fprintf(w, "needs on hosts: %s; IAM actions: %s\n", dash(strings.Join(d.Requires.Host, ", ")), dash(strings.Join(d.Requires.IAM, ", ")))
			rows := make([][]string, len(d.Scenarios))
			for i, s := range d.Scenarios {
				rows[i] = []string{s.Name, dash(strings.Join(append(append([]string(nil), s.Alerts...), s.Rules...), ", ")),
					strings.Join(s.Diagnostics, ", "), dash(strings.Join(s.Remediation, ", "))}
			}
			if err := printTable(w, []string{"SCENARIO", "DETECTED BY", "DIAGNOSTICS", "REMEDIATION"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(w, "documents: %s\n", strings.Join(d.Documents, ", "))
			return nil
		},
	}

	var dir string
	var force bool
	request := func() (apiv1.PackRequest, error) {
		req := apiv1.PackRequest{Force: force}
		if dir == "" {
			return req, nil
		}
		files, err := readPackDir(dir)
		req.Files = files
		return req, err
	}
	install := &cobra.Command{
		Use:   "install NAME",
		Short: "Install a pack for the tenant (admin): the catalogue's, or the one in --dir",
		Example: `  flywheel pack install postgresql
  flywheel pack install mypack --dir ./mypack`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return putPack(cmd, g, path(args[0], "/install"), request, "installed")
		},
	}
	install.Flags().StringVar(&dir, "dir", "", "install the pack in this directory instead of the catalogue's")
	upgrade := &cobra.Command{
		Use:   "upgrade NAME",
		Short: "Upgrade the tenant's pack to the catalogue's newer version, or --dir's (admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return putPack(cmd, g, path(args[0], "/upgrade"), request, "upgraded")
		},
	}
	upgrade.Flags().StringVar(&dir, "dir", "", "upgrade to the pack in this directory")
	upgrade.Flags().BoolVar(&force, "force", false, "replace the installed version even with an older or equal one")

	diff := &cobra.Command{
		Use:   "diff NAME",
		Short: "Show what upgrading the tenant's pack would change, document by document",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := request()
			if err != nil {
				return err
			}
			var d apiv1.PackDiff
			if err := g.client().Do(cmd.Context(), "POST", path(args[0], "/diff"), req, &d); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), d)
			}
			w := cmd.OutOrStdout()
			note := ""
			if d.Downgrade {
				note = " (a downgrade: upgrade refuses it without --force)"
			}
			fmt.Fprintf(w, "%s %s → %s%s: %d document(s) change\n", d.Name, d.From, d.To, note, len(d.Changes))
			for _, c := range d.Changes {
				fmt.Fprintf(w, "%s %s/%s\n", c.Change, c.Kind, c.Name)
				for _, l := range c.Lines {
					fmt.Fprintf(w, "    %s\n", l)
				}
			}
			return nil
		},
	}
	diff.Flags().StringVar(&dir, "dir", "", "compare with the pack in this directory instead of the catalogue's")

	uninstall := &cobra.Command{
		Use:   "uninstall NAME",
		Short: "Uninstall the tenant's pack (admin): its documents leave the tenant's content",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.client().Do(cmd.Context(), "DELETE", path(args[0], ""), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "uninstalled %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, show, install, upgrade, diff, uninstall)
	return cmd
}

func putPack(cmd *cobra.Command, g *globals, path string, request func() (apiv1.PackRequest, error), verb string) error {
	req, err := request()
	if err != nil {
		return err
	}
	var in apiv1.PackInstallation
	if err := g.client().Do(cmd.Context(), "POST", path, req, &in); err != nil {
		return err
	}
	if g.json {
		return printJSON(cmd.OutOrStdout(), in)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s for %s (digest %.12s)\n", verb, in.Name, in.Version, in.TenantID, in.Digest)
	return nil
}

// dash shows an empty value as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readPackDir reads a pack's folder as the server takes it: every .yaml
// and .yml file below dir (hidden files and folders left out), paths
// relative to dir. The server checks the pack.
func readPackDir(dir string) ([]apiv1.PackFile, error) {
	var files []apiv1.PackFile
	fsys := os.DirFS(dir)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || (!strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml")) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, apiv1.PackFile{Path: p, Data: data})
		return nil
	})
	switch {
	case err != nil:
		if _, serr := os.Stat(dir); serr != nil {
			return nil, fmt.Errorf("--dir: %w", serr)
		}
		return nil, fmt.Errorf("--dir %s: %w", dir, err)
	case len(files) == 0:
		return nil, fmt.Errorf("--dir %s: no .yaml files (a pack holds pack.yaml and its documents)", dir)
	}
	return files, nil
}
