package servercmd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/gcpace"
	"github.com/flywheel-ops/flywheel/internal/version"
)

// serverFlags binds the flags shared by serve and the offline commands.
type serverFlags struct {
	file string
	cfg  config.Config
}

func (f *serverFlags) bind(fs *pflag.FlagSet, full bool) {
	fs.StringVar(&f.file, "config", "", "YAML configuration file (env FLYWHEEL_CONFIG)")
	fs.StringVar(&f.cfg.DataDir, "data", "", "data directory, created if missing (default ./"+config.DefaultDataDir+")")
	fs.StringVar(&f.cfg.DB, "db", "", "database: sqlite://PATH or postgres://… (default SQLite in the data directory)")
	if !full {
		return
	}
	fs.StringVar(&f.cfg.Addr, "addr", "", "listen address HOST:PORT (default "+config.DefaultAddr+")")
	fs.StringVar(&f.cfg.ContentDir, "content", "", "your content directory, loaded over the built-in library")
	fs.StringVar(&f.cfg.LogLevel, "log-level", "", "debug, info, warn or error")
	fs.StringVar(&f.cfg.LogFormat, "log-format", "", "text or json")
	fs.DurationVar(&f.cfg.ShutdownTimeout, "shutdown-timeout", 0, "bound on graceful shutdown (default 10s)")
	fs.StringVar(&f.cfg.TLS, "tls", "", "auto: serve https with a CA and certificate generated in <data>/tls on first start; off (default)")
	fs.StringVar(&f.cfg.TLSCert, "tls-cert", "", "serve https with this PEM certificate (chain) …")
	fs.StringVar(&f.cfg.TLSKey, "tls-key", "", "… and this PEM key")
	fs.StringVar(&f.cfg.TLSCA, "tls-ca", "", "PEM CA the --tls-cert chains to, put in enrollment bundles for agents to pin")
	fs.StringSliceVar(&f.cfg.TLSHosts, "tls-hosts", nil, "extra DNS names and IPs of the --tls auto certificate (localhost, loopback IPs and the hostname are always in)")
	fs.BoolVar(&f.cfg.InsecureHTTP, "insecure-http", false, "allow plain HTTP on a non-loopback --addr (behind a TLS-terminating proxy)")
	fs.BoolVar(&f.cfg.IntakeSync, "intake-sync", false, "SQLite: flush accepted deliveries to the device before acknowledging them (survives power loss; slower)")
	fs.StringVar(&f.cfg.AgentVersion, "agent-version", "", "agent version the fleet should run (default this server's; \"-\": no version drift)")
	fs.DurationVar(&f.cfg.AgentHeartbeat, "agent-heartbeat", 0, "heartbeat interval given to agents started without --heartbeat (default 10s)")
	fs.IntVar(&f.cfg.AgentMisses, "agent-misses", 0, "missed heartbeats before an agent is \"not reporting\" (default 3)")
	fs.StringVar(&f.cfg.AgentBinaries, "agent-binaries", "", "directory of agent builds flywheel-<os>-<arch> for self-update (default <data>/agent-binaries)")
	fs.StringSliceVar(&f.cfg.AgentRequiredServices, "agent-required-services", nil, "systemd units required on hosts whose agent has no required-services tag")
	fs.StringVar(&f.cfg.UnmanagedHosts, "unmanaged-hosts", "", "on (default) or off: detect hosts known to Flywheel without an agent")
	fs.StringVar(&f.cfg.UnmanagedExcludeTag, "unmanaged-exclude-tag", "", "hosts with this tag, or events with this label, are not reported as unmanaged (default "+config.DefaultUnmanagedExcludeTag+")")
}

// flagFields maps serve's flags to the config fields they set, for
// layering: only flags given on the command line override.
func flagFields(dst, src *config.Config) map[string]func() {
	return map[string]func(){
		"addr":                    func() { dst.Addr = src.Addr },
		"data":                    func() { dst.DataDir = src.DataDir },
		"db":                      func() { dst.DB = src.DB },
		"content":                 func() { dst.ContentDir = src.ContentDir },
		"log-level":               func() { dst.LogLevel = src.LogLevel },
		"log-format":              func() { dst.LogFormat = src.LogFormat },
		"shutdown-timeout":        func() { dst.ShutdownTimeout = src.ShutdownTimeout },
		"tls":                     func() { dst.TLS = src.TLS },
		"tls-cert":                func() { dst.TLSCert = src.TLSCert },
		"tls-key":                 func() { dst.TLSKey = src.TLSKey },
		"tls-ca":                  func() { dst.TLSCA = src.TLSCA },
		"tls-hosts":               func() { dst.TLSHosts = src.TLSHosts },
		"insecure-http":           func() { dst.InsecureHTTP = src.InsecureHTTP },
		"intake-sync":             func() { dst.IntakeSync = src.IntakeSync },
		"agent-version":           func() { dst.AgentVersion = src.AgentVersion },
		"agent-heartbeat":         func() { dst.AgentHeartbeat = src.AgentHeartbeat },
		"agent-misses":            func() { dst.AgentMisses = src.AgentMisses },
		"agent-binaries":          func() { dst.AgentBinaries = src.AgentBinaries },
		"agent-required-services": func() { dst.AgentRequiredServices = src.AgentRequiredServices },
		"unmanaged-hosts":         func() { dst.UnmanagedHosts = src.UnmanagedHosts },
		"unmanaged-exclude-tag":   func() { dst.UnmanagedExcludeTag = src.UnmanagedExcludeTag },
	}
}

// resolve layers defaults < file < environment < flags, then validates.
func (f *serverFlags) resolve(fs *pflag.FlagSet, lookup func(string) (string, bool)) (config.Config, error) {
	var c config.Config
	file := f.file
	if file == "" {
		file, _ = lookup("FLYWHEEL_CONFIG")
	}
	if file != "" {
		if err := c.LoadFile(file); err != nil {
			return c, err
		}
	}
	if err := c.ApplyEnv(lookup); err != nil {
		return c, err
	}
	set := flagFields(&c, &f.cfg)
	fs.Visit(func(fl *pflag.Flag) {
		if apply, ok := set[fl.Name]; ok {
			apply()
		}
	})
	c = c.WithDefaults()
	return c, c.Validate()
}

func newServeCmd(env Env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Flywheel server: API, UI, pipeline, schedulers and workers",
		Long: "Run the Flywheel server. With no flags it listens on http://" + config.DefaultAddr +
			" and keeps an SQLite database in ./" + config.DefaultDataDir + ", which it creates.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.resolve(cmd.Flags(), env.Lookup)
			if err != nil {
				return &ExitError{Code: 2, Err: fmt.Errorf("invalid configuration:\n%w", err)}
			}
			log := newLogger(cfg, env)
			log.Info("starting flywheel", "version", version.Version)
			if gcpace.Start(env.Lookup) {
				log.Debug("pacing the garbage collector by the live heap", "max_percent", gcpace.MaxPercent, "ceiling_mib", gcpace.Ceiling>>20)
			}
			return app.Run(cmd.Context(), app.Options{Config: cfg, Logger: log, Out: env.Stdout})
		},
	}
	f.bind(cmd.Flags(), true)
	return cmd
}

func newLogger(cfg config.Config, env Env) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(env.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(env.Stderr, opts))
}

func newMigrateCmd(env Env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations (serve also does this at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.resolve(cmd.Flags(), env.Lookup)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			st, err := app.OpenStore(ctx, cfg.DB)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "database %s is migrated\n", st.Driver())
			return nil
		},
	}
	f.bind(cmd.Flags(), false)
	return cmd
}
