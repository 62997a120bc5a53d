package cli

import (
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/client"
)

// Extension adds commands to the tree NewRoot builds: the server's
// commands (serve, migrate, db, replay, the offline content, AWS and
// compliance commands) live in internal/servercmd, which imports the
// server's packages this package must not (internal/layering), and
// cmd/flywheel composes both.
type Extension func(root *cobra.Command, g Globals)

// Globals are the flags every command shares (--server, --token, --json)
// and the environment, for commands added by an Extension. Read them when
// the command runs: the flags are parsed after the tree is built.
type Globals struct{ g *globals }

// JSON says whether --json was given.
func (x Globals) JSON() bool { return x.g.json }

// Env is the command line's environment.
func (x Globals) Env() Env { return x.g.env }

// Client is the API client the flags and environment name.
func (x Globals) Client() *client.Client { return x.g.client() }

// PrintJSON prints v as indented JSON, as every --json output.
func PrintJSON(w io.Writer, v any) error { return printJSON(w, v) }

// PrintTable prints rows under a header, tab-aligned.
func PrintTable(w io.Writer, header []string, rows [][]string) error {
	return printTable(w, header, rows)
}

// OneLineText is s on one line, cut to n characters.
func OneLineText(s string, n int) string { return oneLineText(s, n) }

// OrDash is s, or "-" when it is empty.
func OrDash(s string) string { return orDash(s) }

// TenantPath is path with the tenant and q as its query.
func TenantPath(path, tenant string, q url.Values) string { return tenantPath(path, tenant, q) }

// Sub is root's subcommand name (an Extension adds to a command group
// such as `aws`); it panics when there is none, a programming error.
func Sub(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return c
		}
	}
	panic("flywheel: no command " + name)
}
