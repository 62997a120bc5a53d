package servercmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

// postgresBackupHelp is what `flywheel db backup|restore` says for a
// PostgreSQL store: PostgreSQL's own tools do it (docs/server.md).
const postgresBackupHelp = `Flywheel's PostgreSQL database is backed up with PostgreSQL's own tools:
  logical, one consistent snapshot while serving:
    pg_dump --format=custom --file=flywheel.dump "$FLYWHEEL_DB"
  restore into an empty database, every replica stopped:
    pg_restore --clean --if-exists --no-owner --dbname="$FLYWHEEL_DB" flywheel.dump
  physical, with point-in-time recovery: a base backup plus WAL archiving
    (archive_mode = on, archive_command in postgresql.conf), then
    pg_basebackup --pgdata=BACKUPDIR --wal-method=stream --checkpoint=fast
  and recovery_target_time to restore to a moment
  (https://www.postgresql.org/docs/current/continuous-archiving.html).
After a restore, check the audit log: flywheel audit verify --db "$FLYWHEEL_DB"`

func newDBCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Back up and restore Flywheel's own database"}
	var bf serverFlags
	var out string
	backup := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a consistent copy of the SQLite database while the server keeps serving",
		Long: "Copies the database named by --data or --db into the new file FILE (SQLite's VACUUM INTO, one\n" +
			"read transaction: consistent while the server writes), with the acknowledged deliveries not yet\n" +
			"processed. For PostgreSQL it prints how to use pg_dump or pg_basebackup instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := sqlitePath(cmd, &bf, env)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Hour)
			defer cancel()
			start := time.Now()
			res, err := sqlite.Backup(ctx, path, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s (%d bytes, %d unprocessed deliveries, %s)\n",
				path, out, res.Bytes, res.Deliveries, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	bf.bind(backup.Flags(), false)
	backup.Flags().StringVar(&out, "out", "", "the backup file to write (must not exist)")
	_ = backup.MarkFlagRequired("out")

	var rf serverFlags
	var from string
	var force bool
	restore := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Replace the SQLite database with a backup (the server must be stopped)",
		Long: "Checks the backup (SQLite integrity and every tenant's audit chain), then puts it in place of the\n" +
			"database named by --data or --db. What it replaces is moved aside into <data>/pre-restore-<time>/.\n" +
			"For PostgreSQL it prints how to use pg_restore or point-in-time recovery instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := sqlitePath(cmd, &rf, env)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Hour)
			defer cancel()
			if err := sqlite.CheckBackup(ctx, from); err != nil {
				return &ExitError{Code: 1, Err: fmt.Errorf("restore: %s: %w; nothing changed", from, err)}
			}
			broken, err := verifyAudit(ctx, cmd.OutOrStdout(), "sqlite://"+from)
			if err != nil {
				return fmt.Errorf("restore: %s: %w", from, err)
			}
			if broken > 0 && !force {
				return &ExitError{Code: 1, Err: fmt.Errorf("restore: the backup's audit chain is broken in %d tenants; nothing changed (--force restores it anyway)", broken)}
			}
			moved, err := sqlite.Restore(ctx, from, path, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s from %s\n", path, from)
			if moved != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "the database it replaced is in %s\n", moved)
			}
			return nil
		},
	}
	rf.bind(restore.Flags(), false)
	restore.Flags().StringVar(&from, "from", "", "the backup file to restore")
	restore.Flags().BoolVar(&force, "force", false, "restore even if the backup's audit chain does not verify")
	_ = restore.MarkFlagRequired("from")

	cmd.AddCommand(backup, restore)
	return cmd
}

// sqlitePath returns the SQLite file the flags name; for PostgreSQL it
// prints the pointers to PostgreSQL's tools and fails.
func sqlitePath(cmd *cobra.Command, f *serverFlags, env Env) (string, error) {
	cfg, err := f.resolve(cmd.Flags(), env.Lookup)
	if err != nil {
		return "", &ExitError{Code: 2, Err: err}
	}
	driver, loc, err := config.ParseDB(cfg.DB)
	if err != nil {
		return "", &ExitError{Code: 2, Err: err}
	}
	if driver != "sqlite" {
		fmt.Fprintln(cmd.ErrOrStderr(), postgresBackupHelp)
		return "", &ExitError{Code: 2, Err: fmt.Errorf("db %s: PostgreSQL is backed up with pg_dump or pg_basebackup, not by flywheel", cmd.Name())}
	}
	return loc, nil
}

// verifyAudit verifies every audit chain in the database db names, prints
// one line per tenant, and returns how many are broken.
func verifyAudit(ctx context.Context, w io.Writer, db string) (int, error) {
	st, err := app.OpenStoreReadOnly(ctx, db)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	reports, err := audit.VerifyAll(ctx, st)
	if err != nil {
		return 0, err
	}
	broken := 0
	for _, r := range reports {
		if r.OK() {
			fmt.Fprintf(w, "audit ok      tenant %s: %d records\n", r.Tenant, r.Records)
			continue
		}
		broken++
		fmt.Fprintf(w, "audit BROKEN  tenant %s: %s\n", r.Tenant, r.Broken)
	}
	return broken, nil
}
