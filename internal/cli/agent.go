package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/agent/agentcmd"
)

// ExitCredentialRejected is the exit code of an agent whose credential or
// enrollment token the server refused (agentcmd.ExitCredentialRejected).
const ExitCredentialRejected = agentcmd.ExitCredentialRejected

func newAgentCmd(g *globals) *cobra.Command {
	var f agentcmd.Flags
	run := func(cmd *cobra.Command, _ []string) error { return runAgent(cmd, g, &f) }
	// Bare "flywheel agent" on a machine with no agent state shows help
	// rather than failing to enroll.
	runOrHelp := func(cmd *cobra.Command, args []string) error {
		_, tokenEnv := g.env.Lookup("FLYWHEEL_ENROLL_TOKEN")
		if !agentcmd.Enrolled() && cmd.Flags().NFlag() == 0 && g.server == "" && !tokenEnv {
			return cmd.Help()
		}
		return run(cmd, args)
	}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the host agent, and manage agents: enrollment tokens, commands, revocation",
		Long: `The host agent runs on each managed machine:

  flywheel agent run --server https://flywheel.example.com --enroll-token fwe_…
  flywheel agent run --bundle agent.bundle

enrolls once with a one-time token (flywheel agent token create) and keeps
its credential in --state; later starts reuse it. "flywheel agent" with the
run flags is the same as "flywheel agent run". The other subcommands talk to
the API with your token.`,
		Args: cobra.NoArgs,
		RunE: runOrHelp,
	}
	f.Bind(cmd.Flags())
	runCmd := &cobra.Command{
		Use:   "run",
		Short: "Run the host agent (enrolls first when the state directory has no credential)",
		Example: `  flywheel agent run --server https://flywheel.example.com:8080 --enroll-token fwe_… --tags env=prod,role=web
  flywheel agent run --state /var/lib/flywheel-agent`,
		Args: cobra.NoArgs,
		RunE: run,
	}
	f.Bind(runCmd.Flags())
	cmd.AddCommand(runCmd, newAgentTokenCmd(g), newAgentListCmd(g), newAgentShowCmd(g), newAgentRevokeCmd(g), newAgentExecCmd(g), newAgentUnmanagedCmd(g))
	return cmd
}

func runAgent(cmd *cobra.Command, g *globals, f *agentcmd.Flags) error {
	err := f.Run(cmd.Context(), g.server, g.env.Lookup, cmd.InOrStdin(), cmd.ErrOrStderr())
	if code := agentcmd.ExitCode(err); code > 1 {
		return &ExitError{Code: code, Err: err}
	}
	return err
}

func agentPath(path string, tenant string) string {
	if tenant != "" {
		return path + "?" + url.Values{"tenant": {tenant}}.Encode()
	}
	return path
}

func newAgentTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage one-time agent enrollment tokens (admin)"}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	var in apiv1.EnrollTokenInput
	var tags []string
	var bundleFile string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a one-time enrollment token; it is printed once",
		Example: `  flywheel agent token create --expires-in 1h --tags env=prod,team=payments
  flywheel agent token create --tenant acme --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if in.Tags, err = agentcmd.ParseTags(tags); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			var out apiv1.CreatedEnrollToken
			if err := g.client().Do(cmd.Context(), "POST", agentPath("/api/v1/enrollment-tokens", tenant), in, &out); err != nil {
				return err
			}
			// The server as this CLI reaches it; agents should reach it the same way.
			out.Bundle.Server = strings.TrimRight(g.client().BaseURL, "/")
			if bundleFile == "-" {
				// The bundle alone, to pipe to the host.
				return printJSON(cmd.OutOrStdout(), out.Bundle)
			}
			if bundleFile != "" {
				if err := writeBundle(bundleFile, out.Bundle); err != nil {
					return err
				}
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "enrollment token %s (tenant %s, single use, expires %s) — shown only now:\n%s\n\n",
				out.ID, out.TenantID, fmtTime(out.ExpiresAt), out.Token)
			if bundleFile != "" {
				fmt.Fprintf(w, "Bundle written to %s (0600). Copy it to the host, then:\n  flywheel agent run --bundle %s\n", bundleFile, filepath.Base(bundleFile))
				return nil
			}
			pin := ""
			if out.Bundle.CACert != "" {
				pin = " --ca-file ca.crt"
			}
			fmt.Fprintf(w, "On the host:\n  flywheel agent run --server %s --enroll-token %s%s\n", out.Bundle.Server, out.Token, pin)
			if out.Bundle.CACert != "" {
				fmt.Fprintf(w, "\nwith ca.crt (the server's CA, to pin):\n%s\nor write everything to one file with --bundle FILE.\n", out.Bundle.CACert)
			}
			return nil
		},
	}
	create.Flags().StringVar(&in.ExpiresIn, "expires-in", "", "lifetime, e.g. 1h (default 24h)")
	create.Flags().StringSliceVar(&tags, "tags", nil, "tags every agent enrolled with it gets, KEY=VALUE[,KEY=VALUE…]")
	create.Flags().StringVar(&bundleFile, "bundle", "", "also write the enrollment bundle (server, CA, token, tags) to this file, mode 0600; \"-\" prints only the bundle")
	list := &cobra.Command{
		Use:   "list",
		Short: "List enrollment tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if tenant != "" {
				q.Set("tenant", tenant)
			}
			items, err := listAll[apiv1.EnrollToken](cmd, g, "/api/v1/enrollment-tokens", q)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, t := range items {
				state := "unused"
				if t.UsedAt != nil {
					state = "used by " + t.UsedBy
				} else if time.Now().After(t.ExpiresAt) {
					state = "expired"
				}
				rows[i] = []string{t.ID, t.Prefix + "…", state, fmtTime(t.ExpiresAt), fmtTags(t.Tags)}
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "PREFIX", "STATE", "EXPIRES", "TAGS"}, rows)
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}

// writeBundle writes b to path, readable by its owner only (it holds the
// token), refusing to overwrite an existing file.
func writeBundle(path string, b apiv1.Bundle) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--bundle: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("--bundle: %w", err)
	}
	return f.Close()
}

func fmtTags(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func newAgentListCmd(g *globals) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List agents with their state and version drift",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if tenant != "" {
				q.Set("tenant", tenant)
			}
			items, err := listAll[apiv1.AgentView](cmd, g, "/api/v1/agents", q)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, a := range items {
				ver := a.Version
				if a.Outdated {
					ver += " (want " + a.DesiredVersion + ")"
				}
				rows[i] = []string{a.ID, a.Hostname, a.State, ver, fmtTimePtr(a.LastSeenAt), fmtTags(a.Tags)}
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "HOSTNAME", "STATE", "VERSION", "LAST SEEN", "TAGS"}, rows)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	return cmd
}

func newAgentUnmanagedCmd(g *globals) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "unmanaged",
		Short: "List hosts known to Flywheel without an agent (from resources and events)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if tenant != "" {
				q.Set("tenant", tenant)
			}
			items, err := listAll[apiv1.UnmanagedHost](cmd, g, "/api/v1/fleet/unmanaged", q)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, h := range items {
				rows[i] = []string{h.Host, h.Kind, h.Source, fmtTime(h.FirstSeen), fmtTime(h.LastSeen)}
			}
			return printTable(cmd.OutOrStdout(), []string{"HOST", "KIND", "SEEN IN", "FIRST SEEN", "LAST SEEN"}, rows)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	return cmd
}

func newAgentShowCmd(g *globals) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an agent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var a apiv1.AgentView
			if err := g.client().Do(cmd.Context(), "GET", agentPath("/api/v1/agents/"+url.PathEscape(args[0]), tenant), nil, &a); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), a)
			}
			return printAgent(cmd.OutOrStdout(), a)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	return cmd
}

func newAgentRevokeCmd(g *globals) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an agent's credential: its next request is refused (admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.client().Do(cmd.Context(), "DELETE", agentPath("/api/v1/agents/"+url.PathEscape(args[0]), tenant), nil, nil); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "revoked", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	return cmd
}

func newAgentExecCmd(g *globals) *cobra.Command {
	var (
		tenant string
		in     apiv1.CommandInput
		env    []string
		wait   bool
	)
	cmd := &cobra.Command{
		Use:   "exec AGENT_ID [-- PROGRAM ARGS…]",
		Short: "Run a command on an agent (operator) and, with --wait, print its output and exit with its code",
		Example: `  flywheel agent exec agt_… --wait -- df -h /
  flywheel agent exec agt_… --script 'df -h / | tail -1' --timeout 1m --wait`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Argv = args[1:]
			var err error
			if in.Env, err = parseLabels(env); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			c := g.client()
			var out apiv1.CommandView
			if err := c.Do(cmd.Context(), "POST", agentPath("/api/v1/agents/"+url.PathEscape(args[0])+"/commands", tenant), in, &out); err != nil {
				return err
			}
			if !wait {
				if g.json {
					return printJSON(cmd.OutOrStdout(), out)
				}
				fmt.Fprintln(cmd.OutOrStdout(), out.ID)
				return nil
			}
			for !apiv1.CommandEnded(out.Status) {
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-time.After(500 * time.Millisecond):
				}
				if err := c.Do(cmd.Context(), "GET", agentPath("/api/v1/commands/"+out.ID, tenant), nil, &out); err != nil {
					return err
				}
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprint(cmd.OutOrStdout(), out.Output)
			if out.Truncated {
				fmt.Fprintf(cmd.ErrOrStderr(), "(output truncated: %d bytes kept of %d)\n", len(out.Output), out.OutputBytes)
			}
			switch {
			case out.Status == apiv1.CommandSucceeded:
				return nil
			case out.ExitCode != nil && *out.ExitCode > 0:
				return &ExitError{Code: *out.ExitCode, Err: fmt.Errorf("command %s exited %d", out.ID, *out.ExitCode)}
			}
			return &ExitError{Code: 1, Err: fmt.Errorf("command %s %s: %s", out.ID, out.Status, out.Error)}
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	fl.StringVar(&in.Script, "script", "", "run this shell script instead of PROGRAM ARGS")
	fl.StringVar(&in.Shell, "shell", "", "shell for --script (default /bin/sh)")
	fl.StringArrayVar(&env, "env", nil, "environment variable KEY=VALUE, repeatable")
	fl.StringVar(&in.Dir, "dir", "", "working directory (default /)")
	fl.StringVar(&in.User, "user", "", "run as this user (the agent must run as root)")
	fl.StringVar(&in.Timeout, "timeout", "", "time limit, e.g. 30s (default 5m)")
	fl.BoolVar(&wait, "wait", false, "wait for the result, print the output and exit with the command's code")
	return cmd
}
