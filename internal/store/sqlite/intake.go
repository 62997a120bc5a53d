package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// SQLite lets one transaction write at a time, and the pipeline's processing
// transactions are long: a delivery committed behind one waited for it, and
// every sender with it. So accepted deliveries go to a second database file
// beside the main one (flywheel-intake.db), with a writer of its own:
// accepting a delivery never waits for processing.
//
// A delivery is claimed for processing by a row in the main file's
// intake_claims, written in the processing transaction itself, so a delivery
// is processed exactly once however a crash falls. The intake file's
// processed column is only a hint, set after the claim commits (and repaired
// by the recovery scan if a crash came between), so the scan for
// unprocessed deliveries stays an index range, not the whole history.
//
// Deliveries written inside a main transaction (InsertIntakeBatches) still go
// to the main file's intake_batches, as before; every read covers both.

const intakeSchema = `
CREATE TABLE IF NOT EXISTS intake_batches (
	id          TEXT PRIMARY KEY,
	tenant_id   TEXT NOT NULL,
	source      TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	header      TEXT NOT NULL DEFAULT '',
	body        TEXT NOT NULL,
	processed   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS intake_pending ON intake_batches (processed, id);`

const claimsSchema = `CREATE TABLE IF NOT EXISTS intake_claims (id TEXT PRIMARY KEY)`

// intakePath is the intake file beside the main database file.
func intakePath(path string) string {
	return strings.TrimSuffix(path, ".db") + "-intake.db"
}

// openIntake opens (creating) the intake file and the claims table.
func (b *backend) openIntake(ctx context.Context) error {
	p := intakePath(b.path)
	b.intakeW = openDB(dsn(p, false))
	b.intakeW.SetMaxOpenConns(1)
	b.intakeW.SetMaxIdleConns(1)
	b.intakeW.SetConnMaxLifetime(0)
	b.intakeW.SetConnMaxIdleTime(0)
	if _, err := b.intakeW.ExecContext(ctx, intakeSchema); err != nil {
		return fmt.Errorf("intake file %s: %w", p, err)
	}
	b.intakeR = openDB(dsn(p, true))
	b.intakeR.SetMaxOpenConns(2)
	b.intakeR.SetMaxIdleConns(2)
	if _, err := b.writer.ExecContext(ctx, claimsSchema); err != nil {
		return fmt.Errorf("intake claims: %w", err)
	}
	return nil
}

func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromTS(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// anonList is "?, ?, …" for n parameters.
func anonList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// chunk is the most rows or keys one statement takes here.
const chunk = 64

// pow2Chunk is how many of n rows the next statement takes: a power of two
// up to chunk, so few statement texts.
func pow2Chunk(n int) int {
	n = min(n, chunk)
	for n&(n-1) != 0 {
		n &= n - 1
	}
	return n
}

func idArgs(ids []string) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

var _ store.IntakeAppender = (*Store)(nil)

// AppendIntake makes deliveries durable in the intake file, in one
// transaction (see the pipeline's Committer).
func (s *Store) AppendIntake(ctx context.Context, bs []store.IntakeBatch) error {
	if s.b.intakeW == nil {
		return s.InTx(ctx, func(tx store.Tx) error { return tx.InsertIntakeBatches(ctx, bs) })
	}
	tx, err := s.b.intakeW.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	marks := s.b.takeMarks()
	if err := setProcessed(ctx, tx, marks); err != nil {
		return err
	}
	for len(bs) > 0 {
		n := pow2Chunk(len(bs))
		q := "INSERT INTO intake_batches (id, tenant_id, source, received_at, header, body) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", n), ", ")
		args := make([]any, 0, 6*n)
		for _, b := range bs[:n] {
			args = append(args, b.ID, b.TenantID, b.Source, ts(b.ReceivedAt), string(b.Header), string(b.Body))
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		bs = bs[n:]
	}
	return tx.Commit()
}

// InTx runs fn in a transaction of the main file whose intake claims cover
// the intake file too.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	if s.b.intakeW == nil {
		return s.Store.InTx(ctx, fn)
	}
	var it *intakeTx
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		it = &intakeTx{Tx: tx, s: s}
		return fn(it)
	})
	if err == nil && it != nil && len(it.claimed) > 0 {
		// The claims committed: set the hint (a lost one is repaired by
		// the next scan), in the next group commit of new deliveries if
		// one comes soon (see queueMarks).
		if full := s.b.queueMarks(it.claimed); full != nil {
			s.markProcessed(context.WithoutCancel(ctx), full)
		}
	}
	return err
}

// intakeTx claims deliveries of either file.
type intakeTx struct {
	store.Tx
	s       *Store
	claimed []string // from the intake file
}

func (t *intakeTx) sqlTx() *sql.Tx { return t.Tx.Raw().(*sql.Tx) }

func (t *intakeTx) ClaimIntake(ctx context.Context, id string) (bool, error) {
	got, err := t.ClaimIntakeBatches(ctx, []string{id})
	return len(got) == 1, err
}

func (t *intakeTx) ClaimIntakeBatches(ctx context.Context, ids []string) ([]string, error) {
	// Deliveries written in a main transaction are claimed where they are.
	claimed, err := t.Tx.ClaimIntakeBatches(ctx, ids)
	if err != nil {
		return nil, err
	}
	rest := ids
	if len(claimed) > 0 {
		rest = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(claimed, id) })
	}
	for len(rest) > 0 {
		n := min(len(rest), chunk)
		in, err := t.s.inIntakeFile(ctx, rest[:n])
		if err != nil {
			return nil, err
		}
		rest = rest[n:]
		if len(in) == 0 {
			continue
		}
		rows, err := t.sqlTx().QueryContext(ctx, "INSERT INTO intake_claims (id) VALUES "+
			strings.TrimSuffix(strings.Repeat("(?), ", len(in)), ", ")+" ON CONFLICT DO NOTHING RETURNING id", idArgs(in)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			claimed = append(claimed, id)
			t.claimed = append(t.claimed, id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return claimed, nil
}

// inIntakeFile returns those of ids the intake file holds.
func (s *Store) inIntakeFile(ctx context.Context, ids []string) ([]string, error) {
	rows, err := s.b.intakeR.QueryContext(ctx, "SELECT id FROM intake_batches WHERE id IN ("+anonList(len(ids))+")", idArgs(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// markProcessed sets the intake file's hint for claimed deliveries, in one
// transaction: the intake file has one writer, and each commit of its own
// (one per 64 deliveries) held up the group commit of new deliveries.
func (s *Store) markProcessed(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	tx, err := s.b.intakeW.BeginTx(ctx, nil)
	if err != nil {
		return // a hint: the next scan repairs it
	}
	defer tx.Rollback()
	if setProcessed(ctx, tx, ids) == nil {
		_ = tx.Commit()
	}
}

func setProcessed(ctx context.Context, tx *sql.Tx, ids []string) error {
	for len(ids) > 0 {
		n := pow2Chunk(len(ids))
		if _, err := tx.ExecContext(ctx, "UPDATE intake_batches SET processed = 1 WHERE id IN ("+anonList(n)+")", idArgs(ids[:n])...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// maxMarks bounds the hints waiting for the next group commit; past it
// the processing transaction that adds more writes them itself.
const maxMarks = 4096

// queueMarks holds hints for the next AppendIntake, which writes them in
// its own transaction: a commit of the intake file per processing
// transaction cost the processor a tenth of its time at 1,000 new alerts/s
// (waiting for the group commit ahead of it on the intake file's one
// writer, then its own commit), time every alert behind it waited too.
// The hint is not needed for correctness (claims are), and one left unset
// because no delivery came after it is set by the next scan or Close.
// It returns the queue, emptied, once it holds maxMarks.
func (b *backend) queueMarks(ids []string) []string {
	b.marksMu.Lock()
	defer b.marksMu.Unlock()
	b.marks = append(b.marks, ids...)
	if len(b.marks) < maxMarks {
		return nil
	}
	full := b.marks
	b.marks = nil
	return full
}

func (b *backend) takeMarks() []string {
	b.marksMu.Lock()
	defer b.marksMu.Unlock()
	m := b.marks
	b.marks = nil
	return m
}

// claimedOf returns which of ids the main file has claims for.
func (s *Store) claimedOf(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		rows, err := s.b.reader.QueryContext(ctx, "SELECT id FROM intake_claims WHERE id IN ("+anonList(n)+")", idArgs(ids[:n])...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

// pending lists the intake file's unclaimed deliveries received before
// the given time, oldest first, repairing hints on the way.
func (s *Store) pending(ctx context.Context, before time.Time, limit int) ([]store.IntakeBatch, error) {
	var out []store.IntakeBatch
	after := ""
	for len(out) < limit {
		rows, err := s.b.intakeR.QueryContext(ctx, `SELECT id, tenant_id, source, received_at, header, body FROM intake_batches
			WHERE processed = 0 AND id > ? AND received_at < ? ORDER BY id LIMIT ?`, after, ts(before), limit)
		if err != nil {
			return nil, err
		}
		var page []store.IntakeBatch
		for rows.Next() {
			var b store.IntakeBatch
			var at int64
			var header, body string
			if err := rows.Scan(&b.ID, &b.TenantID, &b.Source, &at, &header, &body); err != nil {
				rows.Close()
				return nil, err
			}
			b.ReceivedAt, b.Body = fromTS(at), []byte(body)
			if header != "" {
				b.Header = []byte(header)
			}
			page = append(page, b)
		}
		err = rows.Err()
		rows.Close()
		if err != nil || len(page) == 0 {
			return out, err
		}
		ids := make([]string, len(page))
		for i, b := range page {
			ids[i] = b.ID
		}
		claimed, err := s.claimedOf(ctx, ids)
		if err != nil {
			return nil, err
		}
		var done []string
		for _, b := range page {
			if claimed[b.ID] {
				done = append(done, b.ID)
			} else if len(out) < limit {
				out = append(out, b)
			}
		}
		s.markProcessed(ctx, done)
		after = page[len(page)-1].ID
	}
	return out, nil
}

// UnprocessedIntake lists unprocessed deliveries of both files, oldest
// first.
func (s *Store) UnprocessedIntake(ctx context.Context, before time.Time, limit int) ([]store.IntakeBatch, error) {
	legacy, err := s.Store.UnprocessedIntake(ctx, before, limit)
	if err != nil || s.b.intakeR == nil {
		return legacy, err
	}
	more, err := s.pending(ctx, before, limit)
	if err != nil {
		return nil, err
	}
	all := append(legacy, more...)
	slices.SortFunc(all, func(a, b store.IntakeBatch) int { return strings.Compare(a.ID, b.ID) })
	return all[:min(len(all), limit)], nil
}

// CountUnprocessedIntake counts unprocessed deliveries of both files.
func (s *Store) CountUnprocessedIntake(ctx context.Context) (int64, error) {
	n, err := s.Store.CountUnprocessedIntake(ctx)
	if err != nil || s.b.intakeR == nil {
		return n, err
	}
	after := ""
	for {
		rows, err := s.b.intakeR.QueryContext(ctx, "SELECT id FROM intake_batches WHERE processed = 0 AND id > ? ORDER BY id LIMIT 1024", after)
		if err != nil {
			return 0, err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, err
			}
			ids = append(ids, id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil || len(ids) == 0 {
			return n, err
		}
		claimed, err := s.claimedOf(ctx, ids)
		if err != nil {
			return 0, err
		}
		n += int64(len(ids) - len(claimed))
		after = ids[len(ids)-1]
	}
}

// IntakeProcessed reports whether a delivery of either file was processed.
func (s *Store) IntakeProcessed(ctx context.Context, id string) (bool, error) {
	p, err := s.Store.IntakeProcessed(ctx, id)
	if !errors.Is(err, store.ErrNotFound) || s.b.intakeR == nil {
		return p, err
	}
	var hint int
	if err := s.b.intakeR.QueryRowContext(ctx, "SELECT processed FROM intake_batches WHERE id = ?", id).Scan(&hint); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("intake batch %s: %w", id, store.ErrNotFound)
		}
		return false, err
	}
	if hint != 0 {
		return true, nil
	}
	claimed, err := s.claimedOf(ctx, []string{id})
	return claimed[id], err
}
