// Package cli is the flywheel command line's client commands, which talk to
// a running server's API through internal/client and import no server
// package (internal/layering). The server's commands (serve, migrate, the
// offline commands that open the database or load content) are in
// internal/servercmd; cmd/flywheel composes both.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config/defaults"
	"github.com/flywheel-ops/flywheel/internal/tlsutil"
	"github.com/flywheel-ops/flywheel/internal/version"
)

// Env is what commands read from their surroundings; tests substitute it.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	Lookup         func(string) (string, bool)
}

// ExitError carries a process exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Execute runs the command line args and returns the exit code; ext add
// commands to the tree (cmd/flywheel: the server's).
func Execute(ctx context.Context, args []string, env Env, ext ...Extension) int {
	root := NewRoot(env, ext...)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(env.Stderr, "error:", err)
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}

// NewRoot builds the command tree: the client commands, and those ext add.
func NewRoot(env Env, ext ...Extension) *cobra.Command {
	if env.Lookup == nil {
		env.Lookup = os.LookupEnv
	}
	root := &cobra.Command{
		Use:           "flywheel",
		Short:         "Flywheel: automated operations — events, OpsItems, runbooks, guardrails",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Version,
	}
	root.SetVersionTemplate("flywheel {{.Version}}\n")
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	if env.Stdin != nil {
		root.SetIn(env.Stdin)
	}
	g := &globals{env: env}
	root.PersistentFlags().StringVar(&g.server, "server", "", "API address (env FLYWHEEL_SERVER; default http://"+defaults.Addr+")")
	root.PersistentFlags().StringVar(&g.token, "token", "", "API token (env FLYWHEEL_TOKEN; default: the admin token in ./"+defaults.DataDir+")")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print JSON instead of tables")
	root.AddCommand(
		newVersionCmd(),
		newHealthcheckCmd(g),
		newTenantCmd(g),
		newTokenCmd(g),
		newOpsItemCmd(g),
		newSilenceCmd(g),
		newMaintenanceCmd(g),
		newEventCmd(g),
		newAgentCmd(g),
		newRunbookCmd(g),
		newAuditCmd(g),
		newStatsCmd(g),
		newDoctorCmd(g),
		newAutomationCmd(g),
		newRuleCmd(g),
		newChannelCmd(g),
		newContentCmd(g),
		newPatchCmd(g),
		newBackupCmd(g),
		newComplianceCmd(g),
		newAWSCmd(g),
		newScheduleCmd(g), newCostCmd(g), newForecastCmd(g),
		newPackCmd(g),
	)
	for _, e := range ext {
		e(root, Globals{g})
	}
	return root
}

// globals are the client flags shared by API commands.
type globals struct {
	env    Env
	server string
	token  string
	json   bool
}

func (g *globals) client() *client.Client {
	server := g.server
	if server == "" {
		server, _ = g.env.Lookup("FLYWHEEL_SERVER")
	}
	if server == "" {
		server = "http://" + defaults.Addr
	}
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	token, source := g.token, "--token"
	if token == "" {
		token, _ = g.env.Lookup("FLYWHEEL_TOKEN")
		source = "the environment (FLYWHEEL_TOKEN)"
	}
	if token == "" {
		p := filepath.Join(defaults.DataDir, defaults.AdminTokenFile)
		source = "pass --token, set FLYWHEEL_TOKEN, or run where " + p + " is"
		if b, err := os.ReadFile(p); err == nil {
			token = strings.TrimSpace(string(b))
			abs, _ := filepath.Abs(p)
			source = "the file " + abs + " (a local server's admin token; pass --token or set FLYWHEEL_TOKEN for another server)"
		}
	}
	c := client.New(server, token)
	c.TokenSource = source
	// https to a server with its own CA (--tls auto): FLYWHEEL_CA_FILE, or
	// the CA in the default data directory, as for the admin token.
	ca, _ := g.env.Lookup("FLYWHEEL_CA_FILE")
	if ca == "" && strings.HasPrefix(server, "https://") {
		if p := filepath.Join(defaults.DataDir, defaults.TLSDir, tlsutil.CACertFile); fileExists(p) {
			ca = p
		}
	}
	if ca != "" {
		c.TrustCAFile(ca)
	}
	return c
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
