package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flywheel-ops/flywheel/internal/journal"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Accepted deliveries go to an append-only journal beside the database
// (DATA/flywheel-intake/, internal/journal): a group of concurrent
// deliveries is one write(2) there before the senders get their 200, not an
// SQLite transaction, and accepting never waits for a processing
// transaction on the main file's single writer.
//
// What has been processed is recorded in the main file, in the processing
// transaction itself, so a delivery is processed exactly once however a
// crash falls: intake_journal holds the cursor, the position before which
// every delivery is processed; intake_journal_claims the positions of
// deliveries past it that were processed out of order (a delivery after
// one that is still waiting). Deliveries are processed in journal order,
// so a processing transaction normally writes the cursor and nothing else.
// Segments wholly before the cursor are deleted.
//
// In memory the store keeps the deliveries from the cursor on (position,
// ID, receipt time), which is what a claim checks; Open rebuilds it by
// reading the journal from the cursor.
//
// Deliveries written inside a main transaction (InsertIntakeBatches) go to
// the main file's intake_batches, as before; every read covers both.

const journalSchema = `
CREATE TABLE IF NOT EXISTS intake_journal (id INTEGER PRIMARY KEY CHECK (id = 1), cursor BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS intake_journal_claims (pos BIGINT PRIMARY KEY);`

// journalSegment is the size of the journal's segment files (tests make it
// small).
var journalSegment int64 = 64 << 20

// journalDir is the intake journal's directory beside the main database
// file.
func journalDir(path string) string {
	return strings.TrimSuffix(path, ".db") + "-intake"
}

// intakeJournal is the journal and what the store knows of it.
type intakeJournal struct {
	log *journal.Log

	// claimMu is held by a transaction from its first journal claim until
	// it committed or rolled back and its claims are applied here: the
	// next transaction's claims must see them.
	claimMu sync.Mutex

	mu      sync.Mutex // guards what follows; appends hold it
	pending []journaled
	byID    map[string]int64 // unprocessed deliveries' positions
	cursor  int64            // committed: everything before is processed
	claims  map[int64]bool   // committed claim rows (positions past cursor)
}

// journaled is a delivery at or past the cursor.
type journaled struct {
	pos, end int64
	id       string
	received int64 // microseconds
	done     bool
}

// openIntake opens the journal, rebuilds its index from the cursor and
// moves over the unprocessed deliveries of an intake file of an earlier
// version.
func (b *backend) openIntake(ctx context.Context) error {
	if _, err := b.writer.ExecContext(ctx, journalSchema); err != nil {
		return fmt.Errorf("intake journal tables: %w", err)
	}
	l, err := journal.Open(journalDir(b.path), journal.Options{SegmentSize: journalSegment, Sync: b.intakeSync})
	if err != nil {
		return fmt.Errorf("intake journal: %w", err)
	}
	j := &intakeJournal{log: l, byID: map[string]int64{}, claims: map[int64]bool{}}
	b.intake = j
	err = b.writer.QueryRowContext(ctx, "SELECT cursor FROM intake_journal WHERE id = 1").Scan(&j.cursor)
	if errors.Is(err, sql.ErrNoRows) {
		j.cursor, err = l.Start(), nil
	}
	if err != nil {
		return err
	}
	rows, err := b.writer.QueryContext(ctx, "SELECT pos FROM intake_journal_claims WHERE pos >= ?", j.cursor)
	if err != nil {
		return err
	}
	for rows.Next() {
		var pos int64
		if err := rows.Scan(&pos); err != nil {
			rows.Close()
			return err
		}
		j.claims[pos] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	err = l.Read(j.cursor, func(pos int64, p []byte) error {
		d, err := decodeDelivery(p)
		if err != nil {
			return fmt.Errorf("intake journal at %d: %w", pos, err)
		}
		j.add(pos, journal.After(pos, p), d.ID, ts(d.ReceivedAt), j.claims[pos])
		return nil
	})
	if err != nil {
		return err
	}
	j.advance()
	return b.moveIntakeFile(ctx)
}

// add indexes a delivery; j.mu held or not yet shared.
func (j *intakeJournal) add(pos, end int64, id string, received int64, done bool) {
	j.pending = append(j.pending, journaled{pos: pos, end: end, id: id, received: received, done: done})
	if !done {
		j.byID[id] = pos
	}
}

// advance drops the processed deliveries at the front; j.mu held.
func (j *intakeJournal) advance() {
	k := 0
	for k < len(j.pending) && j.pending[k].done {
		j.cursor = j.pending[k].end
		k++
	}
	if k == 0 {
		return
	}
	clear(j.pending[:k])
	j.pending = j.pending[k:]
	for pos := range j.claims {
		if pos < j.cursor {
			delete(j.claims, pos)
		}
	}
	if cap(j.pending) > 1024 && len(j.pending) < cap(j.pending)/4 {
		j.pending = slices.Clone(j.pending)
	}
}

// at returns the index of the delivery at pos in j.pending, or -1.
func (j *intakeJournal) at(pos int64) int {
	i, ok := slices.BinarySearchFunc(j.pending, pos, func(d journaled, pos int64) int {
		switch {
		case d.pos < pos:
			return -1
		case d.pos > pos:
			return 1
		}
		return 0
	})
	if !ok {
		return -1
	}
	return i
}

var _ store.IntakeAppender = (*Store)(nil)

// AppendGroups is false unless appends are flushed to the device: an
// append is then one write(2) to the journal, cheaper than handing the
// delivery to a group commit and waiting for it; a flush is worth sharing.
func (s *Store) AppendGroups() bool { return s.b.intake == nil || s.b.intakeSync }

// AppendIntake makes deliveries durable: one write(2) to the journal (see
// the pipeline's Committer, which groups concurrent deliveries).
func (s *Store) AppendIntake(ctx context.Context, bs []store.IntakeBatch) error {
	j := s.b.intake
	if j == nil {
		return s.InTx(ctx, func(tx store.Tx) error { return tx.InsertIntakeBatches(ctx, bs) })
	}
	recs := make([][]byte, len(bs))
	for i, b := range bs {
		recs[i] = encodeDelivery(b)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	pos, err := j.log.Append(recs...)
	if err != nil {
		return err
	}
	for i, b := range bs {
		j.add(pos[i], journal.After(pos[i], recs[i]), b.ID, ts(b.ReceivedAt), false)
	}
	return nil
}

// InTx runs fn in a transaction of the main file whose intake claims cover
// the journal too.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	j := s.b.intake
	if j == nil {
		return s.Store.InTx(ctx, fn)
	}
	var it *intakeTx
	defer func() {
		if it != nil {
			it.release(false) // fn panicked: nothing was committed
		}
	}()
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		it = &intakeTx{Tx: tx, j: j}
		return fn(it)
	})
	if it.release(err == nil) {
		if _, rerr := j.log.Remove(j.committedCursor()); rerr != nil && err == nil {
			err = fmt.Errorf("intake journal: removing processed segments: %w", rerr)
		}
	}
	return err
}

func (j *intakeJournal) committedCursor() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cursor
}

// intakeTx claims deliveries of the journal and of the main file.
type intakeTx struct {
	store.Tx
	j      *intakeJournal
	locked bool           // holds j.claimMu
	tent   map[int64]bool // journal positions claimed in this transaction
	cursor int64          // the cursor this transaction wrote (0: none)
	rows   []int64        // claim rows this transaction wrote
}

// release ends the transaction's hold on the journal's claims, applying
// them if it committed; it reports whether the cursor moved (segments may
// be deleted).
func (t *intakeTx) release(committed bool) bool {
	if t == nil || !t.locked {
		return false
	}
	j := t.j
	moved := false
	if committed && len(t.tent) > 0 {
		j.mu.Lock()
		for pos := range t.tent {
			if i := j.at(pos); i >= 0 {
				j.pending[i].done = true
				delete(j.byID, j.pending[i].id)
			}
		}
		for _, pos := range t.rows {
			j.claims[pos] = true
		}
		before := j.cursor
		j.advance()
		moved = j.cursor != before
		j.mu.Unlock()
	}
	t.locked, t.tent, t.rows = false, nil, nil
	j.claimMu.Unlock()
	return moved
}

func (t *intakeTx) sqlTx() *sql.Tx { return t.Tx.Raw().(*sql.Tx) }

func (t *intakeTx) ClaimIntake(ctx context.Context, id string) (bool, error) {
	got, err := t.ClaimIntakeBatches(ctx, []string{id})
	return len(got) == 1, err
}

func (t *intakeTx) ClaimIntakeBatches(ctx context.Context, ids []string) ([]string, error) {
	claimed, rest := t.claimJournal(ids)
	if len(claimed) > 0 {
		if err := t.persist(ctx); err != nil {
			return nil, err
		}
	}
	if len(rest) == 0 {
		return claimed, nil
	}
	// Not in the journal's index: written in a main transaction, or
	// processed already (then the main file does not have it either).
	more, err := t.Tx.ClaimIntakeBatches(ctx, rest)
	return append(claimed, more...), err
}

// claimJournal claims those of ids that are unprocessed journal deliveries
// and returns them, and the IDs it does not know.
func (t *intakeTx) claimJournal(ids []string) (claimed, rest []string) {
	j := t.j
	if !t.locked {
		j.claimMu.Lock()
		t.locked = true
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range ids {
		pos, ok := j.byID[id]
		if !ok {
			rest = append(rest, id)
			continue
		}
		if t.tent[pos] {
			continue
		}
		if t.tent == nil {
			t.tent = map[int64]bool{}
		}
		t.tent[pos] = true
		claimed = append(claimed, id)
	}
	return claimed, rest
}

// persist records this transaction's claims in the main file: the cursor
// past every processed delivery at the front, and a claim row for each
// claimed past it.
func (t *intakeTx) persist(ctx context.Context) error {
	j := t.j
	j.mu.Lock()
	cursor := j.cursor
	for _, d := range j.pending {
		if !d.done && !t.tent[d.pos] {
			break
		}
		cursor = d.end
	}
	var rows []int64
	for pos := range t.tent {
		if pos >= cursor && !slices.Contains(t.rows, pos) {
			rows = append(rows, pos)
		}
	}
	stale := len(j.claims) > 0 || len(t.rows) > 0
	moved := cursor != j.cursor && cursor != t.cursor
	j.mu.Unlock()

	tx := t.sqlTx()
	if moved {
		if _, err := tx.ExecContext(ctx, "INSERT INTO intake_journal (id, cursor) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor", cursor); err != nil {
			return err
		}
		t.cursor = cursor
		if stale {
			if _, err := tx.ExecContext(ctx, "DELETE FROM intake_journal_claims WHERE pos < ?", cursor); err != nil {
				return err
			}
			t.rows = slices.DeleteFunc(t.rows, func(pos int64) bool { return pos < cursor })
		}
	}
	for len(rows) > 0 {
		n := min(len(rows), chunk)
		args := make([]any, n)
		for i, pos := range rows[:n] {
			args[i] = pos
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO intake_journal_claims (pos) VALUES "+
			strings.TrimSuffix(strings.Repeat("(?), ", n), ", ")+" ON CONFLICT DO NOTHING", args...); err != nil {
			return err
		}
		t.rows = append(t.rows, rows[:n]...)
		rows = rows[n:]
	}
	return nil
}

// chunk is the most rows or keys one statement takes here.
const chunk = 64

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

// UnprocessedIntake lists unprocessed deliveries of the journal and the
// main file, oldest first.
func (s *Store) UnprocessedIntake(ctx context.Context, before time.Time, limit int) ([]store.IntakeBatch, error) {
	legacy, err := s.Store.UnprocessedIntake(ctx, before, limit)
	j := s.b.intake
	if err != nil || j == nil {
		return legacy, err
	}
	var want []int64
	j.mu.Lock()
	for _, d := range j.pending {
		if len(want) == limit {
			break
		}
		if !d.done && d.received < ts(before) {
			want = append(want, d.pos)
		}
	}
	j.mu.Unlock()
	all := legacy
	for _, pos := range want {
		p, err := j.log.ReadAt(pos)
		if err != nil {
			return nil, err
		}
		d, err := decodeDelivery(p)
		if err != nil {
			return nil, fmt.Errorf("intake journal at %d: %w", pos, err)
		}
		all = append(all, d)
	}
	if len(legacy) > 0 {
		slices.SortStableFunc(all, func(a, b store.IntakeBatch) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	}
	return all[:min(len(all), limit)], nil
}

// CountUnprocessedIntake counts unprocessed deliveries of the journal and
// the main file.
func (s *Store) CountUnprocessedIntake(ctx context.Context) (int64, error) {
	n, err := s.Store.CountUnprocessedIntake(ctx)
	j := s.b.intake
	if err != nil || j == nil {
		return n, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return n + int64(len(j.byID)), nil
}

// IntakeProcessed reports whether a delivery was processed. A processed
// journal delivery is found while its segment is kept (until the cursor
// passes the segment's end).
func (s *Store) IntakeProcessed(ctx context.Context, id string) (bool, error) {
	p, err := s.Store.IntakeProcessed(ctx, id)
	j := s.b.intake
	if !errors.Is(err, store.ErrNotFound) || j == nil {
		return p, err
	}
	j.mu.Lock()
	_, waiting := j.byID[id]
	j.mu.Unlock()
	if waiting {
		return false, nil
	}
	errFound := errors.New("found")
	err = j.log.Read(j.log.Start(), func(_ int64, p []byte) error {
		if d, err := decodeDelivery(p); err == nil && d.ID == id {
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, fmt.Errorf("intake batch %s: %w", id, store.ErrNotFound)
}

// intakePath is where an earlier version kept accepted deliveries: a
// second SQLite file, with claims in the main file's intake_claims.
func intakePath(path string) string {
	return strings.TrimSuffix(path, ".db") + "-intake.db"
}

// moveIntakeFile appends the unprocessed deliveries of an earlier
// version's intake file to the journal (flushed to the device), then
// deletes the file.
func (b *backend) moveIntakeFile(ctx context.Context) error {
	p := intakePath(b.path)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	old := openDB(dsn(p, false))
	defer old.Close()
	claimed := map[string]bool{}
	var hasClaims int
	_ = b.writer.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'intake_claims'").Scan(&hasClaims)
	if hasClaims > 0 {
		rows, err := b.writer.QueryContext(ctx, "SELECT id FROM intake_claims")
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			claimed[id] = true
		}
		rows.Close()
	}
	rows, err := old.QueryContext(ctx, "SELECT id, tenant_id, source, received_at, header, body FROM intake_batches WHERE processed = 0 ORDER BY id")
	if err != nil {
		return fmt.Errorf("intake file %s: %w", p, err)
	}
	var bs []store.IntakeBatch
	for rows.Next() {
		var d store.IntakeBatch
		var at int64
		var header, body string
		if err := rows.Scan(&d.ID, &d.TenantID, &d.Source, &at, &header, &body); err != nil {
			rows.Close()
			return err
		}
		if _, moved := b.intake.byID[d.ID]; moved || claimed[d.ID] {
			continue // processed, or moved already by a start that stopped before the file was deleted
		}
		d.ReceivedAt, d.Body = fromTS(at), []byte(body)
		if header != "" {
			d.Header = []byte(header)
		}
		bs = append(bs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	s := &Store{b: b}
	for len(bs) > 0 {
		n := min(len(bs), 256)
		if err := s.AppendIntake(ctx, bs[:n]); err != nil {
			return err
		}
		bs = bs[n:]
	}
	if err := b.intake.log.Sync(); err != nil {
		return err
	}
	old.Close()
	for _, f := range []string{p, p + "-wal", p + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
