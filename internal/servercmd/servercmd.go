// Package servercmd is the flywheel command line's server commands: serve,
// migrate, db backup|restore, audit verify, replay, content validate|test,
// schedule holidays, aws inventory and compliance scan — those that open the store, build the
// server or load content and the AWS provider in-process. It adds them to
// the client command tree of internal/cli, which imports no server package.
package servercmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/cli"
)

type (
	// Env is the command line's surroundings (cli.Env).
	Env = cli.Env
	// ExitError carries a process exit code (cli.ExitError).
	ExitError = cli.ExitError
	globals   = cli.Globals
)

// Execute runs the whole flywheel command line — the client commands and
// the server's — and returns the exit code.
func Execute(ctx context.Context, args []string, env Env) int {
	return cli.Execute(ctx, args, env, Commands)
}

// NewRoot builds the whole command tree.
func NewRoot(env Env) *cobra.Command { return cli.NewRoot(env, Commands) }

// Commands adds the server's commands to root: top-level ones, and those
// in the client's command groups (aws, audit, compliance, content, schedule).
func Commands(root *cobra.Command, g cli.Globals) {
	env := g.Env()
	root.AddCommand(newServeCmd(env), newMigrateCmd(env), newDBCmd(env), newReplayCmd(g))
	cli.Sub(root, "aws").AddCommand(newAWSInventoryCmd(g))
	cli.Sub(root, "audit").AddCommand(newAuditVerifyCmd(g))
	cli.Sub(root, "compliance").AddCommand(newComplianceScanCmd(g))
	cli.Sub(root, "schedule").AddCommand(newScheduleHolidaysCmd(g))
	cli.Sub(root, "content").AddCommand(newContentValidateCmd(), newContentTestCmd())
}

var (
	printJSON   = cli.PrintJSON
	printTable  = cli.PrintTable
	oneLineText = cli.OneLineText
	orDash      = cli.OrDash
	tenantPath  = cli.TenantPath
)
