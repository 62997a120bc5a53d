// Package agentcmd is the host agent's command line: the flags of
// `flywheel agent run` and of the standalone `flywheel-agent` binary, and
// the start-up that turns them (with the environment and an enrollment
// bundle) into an agent.Config and runs it. It imports only the agent and
// its wire protocol, so cmd/flywheel-agent carries no server, UI, store or
// cloud code; internal/cli mounts the same flags under `flywheel agent`.
package agentcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/flywheel-ops/flywheel/internal/agent"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// Exit codes of a failed agent start.
const (
	// ExitUsage: a flag, the environment or the bundle is wrong.
	ExitUsage = 2
	// ExitCredentialRejected: the server refused the agent's credential or
	// enrollment token; the systemd unit does not restart on it
	// (RestartPreventExitStatus), since retrying cannot help.
	ExitCredentialRejected = 3
)

// ErrUsage marks errors in the agent's flags, environment or bundle.
var ErrUsage = errors.New("usage")

// usage wraps err as a usage error; its message is err's alone.
func usage(err error) error { return usageError{err} }

type usageError struct{ error }

func (e usageError) Is(target error) bool { return target == ErrUsage }
func (e usageError) Unwrap() error        { return e.error }

// ExitCode is the process exit code for an error Run returned: 0 for nil,
// ExitUsage, ExitCredentialRejected, or 1.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage):
		return ExitUsage
	case errors.Is(err, agent.ErrRejected):
		return ExitCredentialRejected
	}
	return 1
}

// Flags are the agent's flags.
type Flags struct {
	cfg               agent.Config
	tags              []string
	logLevel          string
	noInventory       bool
	inventoryInterval time.Duration
	caFile            string
	bundle            string
	rebootCommand     string
}

// Bind adds the agent's flags to fs.
func (f *Flags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.cfg.EnrollToken, "enroll-token", "", "one-time enrollment token, needed only the first time (env FLYWHEEL_ENROLL_TOKEN)")
	fs.StringVar(&f.cfg.StateDir, "state", "", "state directory: the agent's credential, kept 0600 (default "+agent.DefaultStateDir+")")
	fs.StringSliceVar(&f.tags, "tags", nil, "tags sent at enrollment, KEY=VALUE[,KEY=VALUE…]")
	fs.StringVar(&f.cfg.Hostname, "hostname", "", "host name to report (default the system's)")
	fs.DurationVar(&f.cfg.Interval, "heartbeat", 0, "heartbeat interval; the server counts missed ones (default the server's agent_heartbeat, 10s)")
	fs.DurationVar(&f.cfg.PollWait, "poll-wait", 30*time.Second, "how long each long-poll for commands waits")
	fs.IntVar(&f.cfg.MaxConcurrency, "max-concurrency", 4, "commands run at once at most")
	fs.IntVar(&f.cfg.OutputCap, "output-cap", 1<<20, "bytes of each command's output sent to the server")
	fs.DurationVar(&f.inventoryInterval, "inventory-interval", 10*time.Minute, "how often inventory is collected (changes only are sent)")
	fs.BoolVar(&f.noInventory, "no-inventory", false, "do not report inventory")
	fs.StringVar(&f.cfg.Apt.Root, "apt-root", "", "root directory apt and dpkg patch (default the system's /); tests point it at an isolated root")
	fs.StringVar(&f.cfg.SecurityRoot, "security-root", "", "root directory the security inventory (sshd_config, sysctl, file modes, users) is read under (default /); tests point it at an isolated root")
	fs.StringArrayVar(&f.cfg.Apt.Extra, "apt-option", nil, "extra apt option KEY=VALUE for patch scans and installs (repeatable)")
	fs.StringVar(&f.rebootCommand, "reboot-command", "systemctl reboot", "command that reboots the host after patching when a package asks for it")
	fs.BoolVar(&f.cfg.SelfUpdate, "self-update", true, "install agent builds the server offers")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&f.cfg.Insecure, "insecure", false, "allow a plain http:// server on another host (credential and commands in clear)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM CA (or the server's self-signed certificate) https must chain to; kept in the state at enrollment (pinning)")
	fs.StringVar(&f.bundle, "bundle", "", "enrollment bundle (flywheel agent token create --bundle): server, CA to pin, token; \"-\" reads stdin; ignored once enrolled if the file is gone")
}

// Enrolled reports whether the default state directory holds a credential.
func Enrolled() bool {
	_, err := agent.LoadState(agent.DefaultStateDir)
	return err == nil
}

// Run starts the agent and runs it until ctx ends. server is the --server
// flag ("" reads FLYWHEEL_SERVER); lookup reads the environment. Log lines
// go to stderr.
func (f *Flags) Run(ctx context.Context, server string, lookup func(string) (string, bool), stdin io.Reader, stderr io.Writer) error {
	cfg := f.cfg
	var err error
	if cfg.Tags, err = ParseTags(f.tags); err != nil {
		return usage(err)
	}
	cfg.Server = server
	if cfg.Server == "" {
		cfg.Server, _ = lookup("FLYWHEEL_SERVER")
	}
	if cfg.Server != "" && !strings.Contains(cfg.Server, "://") {
		cfg.Server = "http://" + cfg.Server
	}
	if cfg.EnrollToken == "" {
		cfg.EnrollToken, _ = lookup("FLYWHEEL_ENROLL_TOKEN")
	}
	if f.caFile != "" {
		if cfg.CACert, err = os.ReadFile(f.caFile); err != nil {
			return usage(fmt.Errorf("--ca-file: %w", err))
		}
	}
	if err := f.applyBundle(stdin, &cfg); err != nil {
		return usage(err)
	}
	cfg.InventoryInterval = f.inventoryInterval
	cfg.Apt.RebootCommand = strings.Fields(f.rebootCommand)
	if f.noInventory {
		cfg.InventoryInterval = -1
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usage(fmt.Errorf("--log-level %q: %v", f.logLevel, err))
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	a, err := agent.New(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, agent.ErrRejected) {
			return nil
		}
		return err
	}
	return a.Run(ctx)
}

// applyBundle reads the enrollment bundle into cfg: server, token and the
// CA to pin. Once the agent is enrolled a missing bundle file is fine (its
// token is spent; the state has all it needs).
func (f *Flags) applyBundle(stdin io.Reader, cfg *agent.Config) error {
	if f.bundle == "" {
		return nil
	}
	var data []byte
	var err error
	if f.bundle == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, wire.MaxBundleSize+1))
	} else {
		data, err = os.ReadFile(f.bundle)
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := agent.LoadState(stateDir(cfg)); serr == nil {
				return nil
			}
		}
	}
	if err != nil {
		return fmt.Errorf("--bundle: %w", err)
	}
	b, err := wire.ParseBundle(data)
	if err != nil {
		return fmt.Errorf("--bundle %s: %w", f.bundle, err)
	}
	if cfg.Server != "" && strings.TrimRight(cfg.Server, "/") != b.Server {
		return fmt.Errorf("--bundle is for %s, but --server says %s", b.Server, cfg.Server)
	}
	cfg.Server = b.Server
	if cfg.EnrollToken == "" {
		cfg.EnrollToken = b.Token
	}
	if len(cfg.CACert) == 0 && b.CACert != "" {
		cfg.CACert = []byte(b.CACert)
	}
	return nil
}

func stateDir(cfg *agent.Config) string {
	if cfg.StateDir != "" {
		return cfg.StateDir
	}
	return agent.DefaultStateDir
}

// ParseTags turns KEY=VALUE items into a map.
func ParseTags(items []string) (map[string]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(items))
	for _, kv := range items {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--tags %q is not KEY=VALUE", kv)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}

// RunE adapts Run to a cobra command: the command's context and streams.
func (f *Flags) RunE(server *string, lookup func(string) (string, bool)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		return f.Run(cmd.Context(), *server, lookup, cmd.InOrStdin(), cmd.ErrOrStderr())
	}
}
