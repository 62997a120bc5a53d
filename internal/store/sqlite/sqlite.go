// Package sqlite is the embedded store driver: one SQLite file in WAL mode,
// pure Go (modernc.org/sqlite), no server to run.
//
// SQLite allows one writer at a time, so the driver keeps exactly one write
// connection — shared with the job queue, which River's SQLite driver
// recommends — and a separate pool of read-only connections for queries.
// An exclusive lock file next to the database stops a second server from
// opening the same data directory.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/flywheel-ops/flywheel/internal/store/sqlstore"
)

// Options configure Open.
type Options struct {
	// ReadOnly opens without the exclusive lock and without a writer, for
	// offline inspection (audit verify) next to a running server.
	ReadOnly bool
	// ReadConns bounds the read pool (default: number of CPUs, at least 2).
	ReadConns int
	// IntakeSync flushes each append to the intake journal to the device
	// (fdatasync) before it returns; then the journal's appends are grouped
	// (store.IntakeAppender.AppendGroups).
	IntakeSync bool
}

// Store is the SQLite store.
type Store struct {
	*sqlstore.Store
	b *backend
}

// ErrLocked is returned when another process holds the database.
var ErrLocked = errors.New("database is in use by another flywheel process")

// Open opens (creating if needed) the database file at path and applies
// migrations unless opened read-only.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	b := &backend{path: path, intakeSync: opts.IntakeSync}
	if !opts.ReadOnly {
		lock, err := lockFile(path + ".lock")
		if err != nil {
			return nil, err
		}
		b.lock = lock
		if err := ownerOnly(path); err != nil {
			lock.Close()
			return nil, err
		}
		b.writer = openDB(dsn(path, false))
		b.writer.SetMaxOpenConns(1)
		b.writer.SetMaxIdleConns(1)
		b.writer.SetConnMaxLifetime(0)
		b.writer.SetConnMaxIdleTime(0)
	}
	b.reader = openDB(dsn(path, true))
	n := opts.ReadConns
	if n <= 0 {
		n = max(runtime.NumCPU(), 2)
	}
	b.reader.SetMaxOpenConns(n)
	b.reader.SetMaxIdleConns(n)
	s := &Store{Store: sqlstore.New(b), b: b}
	if !opts.ReadOnly {
		if _, err := s.Migrate(ctx); err != nil {
			b.Close()
			return nil, fmt.Errorf("migrate %s: %w", path, err)
		}
		if err := b.openIntake(ctx); err != nil {
			b.Close()
			return nil, err
		}
		b.ckpt = startCheckpointer(path)
	}
	return s, nil
}

// Writer returns the single write connection pool, for River.
func (s *Store) Writer() *sql.DB { return s.b.writer }

// openDB opens a pool whose connections cache their prepared statements
// (stmtcache.go).
func openDB(dsn string) *sql.DB {
	return sql.OpenDB(&connector{dsn: dsn, drv: &sqlite.Driver{}})
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Statement journals (a multi-row UPDATE's undo log) and temporary
	// tables in memory, not in temp files written with a syscall a page.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		// Read connections are several and mostly idle: a 1 MiB page
		// cache each (SQLite's default is 2 MiB), the OS caches the rest.
		q.Add("_pragma", "cache_size(-1024)")
	} else {
		// Checkpoints run in the background (checkpoint.go).
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpointPages))
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	}
	return "file:" + path + "?" + q.Encode()
}

// ownerOnly creates the database file 0600 if it is missing, and makes it
// and its WAL and shared-memory files 0600 if they exist, whatever the
// directory's mode and the umask: SQLite creates the WAL and -shm files
// with the database file's mode.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("database file %s: %w", p, err)
		}
	}
	return nil
}

func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w (stop the other `flywheel serve`, or use another --data directory)", strings.TrimSuffix(path, ".lock"), ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

type backend struct {
	path   string
	writer *sql.DB
	reader *sql.DB
	lock   *os.File
	// intake is the journal of accepted deliveries (intake.go); nil when
	// opened read-only.
	intake     *intakeJournal
	intakeSync bool
	ckpt       *checkpointer
}

var _ sqlstore.Backend = (*backend)(nil)

func (b *backend) Name() string           { return "sqlite" }
func (b *backend) Read() sqlstore.Querier { return dbQuerier{b.reader} }
func (b *backend) MigrationLock() string  { return "" }
func (b *backend) GroupLock() string      { return "" }
func (b *backend) AlertLock() string      { return "" }

func (b *backend) Begin(ctx context.Context) (sqlstore.TxHandle, error) {
	if b.writer == nil {
		return nil, errors.New("sqlite store opened read-only")
	}
	tx, err := b.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return txHandle{tx}, nil
}

func (b *backend) IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func (b *backend) IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func (b *backend) Ping(ctx context.Context) error { return b.reader.PingContext(ctx) }

func (b *backend) Close() error {
	errs := []error{b.ckpt.close()}
	if b.writer != nil {
		errs = append(errs, b.writer.Close())
	}
	if b.reader != nil {
		errs = append(errs, b.reader.Close())
	}
	if b.intake != nil {
		errs = append(errs, b.intake.log.Close())
	}
	if b.lock != nil {
		errs = append(errs, b.lock.Close())
	}
	return errors.Join(errs...)
}
