package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/flywheel-ops/flywheel/internal/journal"
)

// A backup is one SQLite file, made while the server keeps serving:
// VACUUM INTO copies the database as of one read transaction without
// stopping writers. Acknowledged deliveries the server had not processed
// yet live in the intake journal beside the database, not in it; the backup
// carries them in its intake_batches table instead (where the store reads
// unprocessed deliveries too), and drops the journal cursor, so a restored
// server starts with an empty journal and processes them once.
//
// The journal is copied before the snapshot, so the backup holds every
// delivery acknowledged before it began: one still unprocessed at the
// snapshot is in the copy (the server deletes only segments wholly before
// its cursor, and the snapshot's cursor is at or past the cursor at the
// copy), one processed by then is in the snapshot as events. A delivery
// acknowledged while the backup runs is in it if it was processed before
// the snapshot, and otherwise not.

// BackupResult says what a backup holds.
type BackupResult struct {
	Bytes int64 // size of the backup file
	// Deliveries is how many acknowledged, unprocessed deliveries were
	// moved from the intake journal into the backup.
	Deliveries int
}

// Backup writes a consistent copy of the database at path, which a running
// server may be using, to the new file out.
func Backup(ctx context.Context, path, out string) (BackupResult, error) {
	var res BackupResult
	if _, err := os.Stat(path); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(out); err == nil {
		return res, fmt.Errorf("backup: %s exists; choose a new file", out)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".flywheel-backup-")
	if err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	copied := filepath.Join(tmp, "intake")
	if err := copyJournal(journalDir(path), copied); err != nil {
		return res, fmt.Errorf("backup: copy intake journal: %w", err)
	}

	// Not a query_only connection (VACUUM INTO counts as a write), but one
	// that writes nothing to path.
	src := openDB("file:" + path + "?_pragma=busy_timeout(10000)")
	defer src.Close()
	part := filepath.Join(tmp, "backup.db")
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", part); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	if res.Deliveries, err = foldJournal(ctx, part, copied); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	// Owner only, as the database itself (token and agent secret hashes).
	if err := os.Chmod(part, 0o600); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	if err := os.Link(part, out); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return res, err
	}
	res.Bytes = fi.Size()
	return res, nil
}

// copyJournal copies the journal's segment files; one the server deletes
// meanwhile held only processed records and is skipped.
func copyJournal(dir, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		err := copyFile(filepath.Join(dir, e.Name()), filepath.Join(dst, e.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// foldJournal moves the journal copy's deliveries that the snapshot at db
// has not processed into its intake_batches, and removes the snapshot's
// journal cursor and claims.
func foldJournal(ctx context.Context, db, journalCopy string) (int, error) {
	conn := openDB(dsn(db, false))
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if _, err := conn.ExecContext(ctx, journalSchema); err != nil {
		return 0, err
	}
	l, err := journal.Open(journalCopy, journal.Options{})
	if err != nil {
		return 0, err
	}
	defer l.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	cursor := l.Start()
	if err := tx.QueryRowContext(ctx, "SELECT cursor FROM intake_journal WHERE id = 1").Scan(&cursor); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	claims := map[int64]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT pos FROM intake_journal_claims")
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var pos int64
		if err := rows.Scan(&pos); err != nil {
			rows.Close()
			return 0, err
		}
		claims[pos] = true
	}
	rows.Close()
	n := 0
	if cursor < l.End() {
		err = l.Read(max(cursor, l.Start()), func(pos int64, p []byte) error {
			if claims[pos] {
				return nil
			}
			d, err := decodeDelivery(p)
			if err != nil {
				return fmt.Errorf("intake journal at %d: %w", pos, err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO intake_batches (id, tenant_id, source, received_at, header, body, processed)
				VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (id) DO NOTHING`,
				d.ID, d.TenantID, d.Source, ts(d.ReceivedAt), string(d.Header), string(d.Body))
			n++
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	for _, q := range []string{"DELETE FROM intake_journal", "DELETE FROM intake_journal_claims"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	// One self-contained file: fold the WAL back in.
	_, err = conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	if err == nil {
		_, err = conn.ExecContext(ctx, "PRAGMA journal_mode=DELETE")
	}
	return n, err
}

// Restore replaces the database at path (and its intake journal) with the
// backup from. No server may be using path: Restore takes the same lock
// `flywheel serve` holds. What it replaces is moved into a directory
// beside path, named in the result, not deleted.
func Restore(ctx context.Context, from, path string, now time.Time) (movedTo string, err error) {
	if err := CheckBackup(ctx, from); err != nil {
		return "", fmt.Errorf("restore: %s: %w", from, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	defer lock.Close()
	part := path + ".restoring"
	os.Remove(part)
	if err := copyFile(from, part); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	movedTo = filepath.Join(filepath.Dir(path), "pre-restore-"+now.UTC().Format("20060102T150405Z"))
	moved := false
	for _, p := range []string{path, path + "-wal", path + "-shm", journalDir(path)} {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if !moved {
			if err := os.Mkdir(movedTo, 0o700); err != nil {
				os.Remove(part)
				return "", fmt.Errorf("restore: %w", err)
			}
			moved = true
		}
		if err := os.Rename(p, filepath.Join(movedTo, filepath.Base(p))); err != nil {
			os.Remove(part)
			return "", fmt.Errorf("restore: move %s aside: %w", p, err)
		}
	}
	if err := os.Rename(part, path); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	if !moved {
		movedTo = ""
	}
	return movedTo, nil
}

// CheckBackup opens the file read-only and checks it is a Flywheel
// database whose SQLite structure is intact.
func CheckBackup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db := openDB("file:" + path + "?mode=ro&_pragma=query_only(1)")
	defer db.Close()
	var ok string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&ok); err != nil {
		return fmt.Errorf("not an SQLite database: %w", err)
	}
	if ok != "ok" {
		return fmt.Errorf("damaged: %s", ok)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_heads").Scan(&n); err != nil {
		return fmt.Errorf("not a Flywheel database: %w", err)
	}
	return nil
}
