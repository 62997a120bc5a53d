package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func intakeIDs(bs []store.IntakeBatch) []string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

func delivery(i int) store.IntakeBatch {
	return store.IntakeBatch{ID: fmt.Sprintf("ib_%04d", i), TenantID: "acme", Source: "alertmanager-v2",
		ReceivedAt: t0.Add(time.Duration(i) * time.Millisecond), Header: []byte(`{"Content-Type":"application/json"}`), Body: []byte(fmt.Sprintf(`[{"n":%d}]`, i))}
}

// claim runs ClaimIntakeBatches in a transaction, rolled back when fail.
func claim(t *testing.T, s *Store, ids []string, fail bool) []string {
	t.Helper()
	var c []string
	boom := errors.New("boom")
	err := s.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		if c, err = tx.ClaimIntakeBatches(context.Background(), ids); err != nil {
			return err
		}
		if fail {
			return boom
		}
		return nil
	})
	if err != nil && !(fail && errors.Is(err, boom)) {
		t.Fatal(err)
	}
	slices.Sort(c)
	return c
}

// journalState is the cursor and claim rows in the main file.
func journalState(t *testing.T, s *Store) (int64, []int64) {
	t.Helper()
	var cursor int64
	if err := s.b.reader.QueryRow("SELECT cursor FROM intake_journal WHERE id = 1").Scan(&cursor); err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	rows, err := s.b.reader.Query("SELECT pos FROM intake_journal_claims ORDER BY pos")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var claims []int64
	for rows.Next() {
		var p int64
		rows.Scan(&p)
		claims = append(claims, p)
	}
	return cursor, claims
}

// Deliveries appended to the journal are listed until a processing
// transaction claims them, exactly once; a claim rolled back is none;
// deliveries claimed in order move the cursor and write no claim rows,
// those claimed out of order write claim rows until the cursor passes
// them; all of it survives a restart.
func TestIntakeJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var bs []store.IntakeBatch
	for i := range 150 {
		bs = append(bs, delivery(i))
	}
	if err := s.AppendIntake(ctx, bs[:100]); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendIntake(ctx, bs[100:]); err != nil {
		t.Fatal(err)
	}
	// One more the old way, inside a main transaction.
	legacy := store.IntakeBatch{ID: "ib_0075_legacy", TenantID: "acme", Source: "x", ReceivedAt: t0.Add(75500 * time.Microsecond), Body: []byte("[]")}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.InsertIntakeBatches(ctx, []store.IntakeBatch{legacy}) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.UnprocessedIntake(ctx, t0.Add(time.Hour), 1000)
	if err != nil || len(got) != 151 {
		t.Fatalf("unprocessed: %d, %v", len(got), err)
	}
	if got[76].ID != "ib_0075_legacy" || string(got[5].Body) != `[{"n":5}]` || !got[5].ReceivedAt.Equal(bs[5].ReceivedAt) ||
		string(got[5].Header) != string(bs[5].Header) || got[5].TenantID != "acme" || got[5].Source != "alertmanager-v2" {
		t.Fatalf("unprocessed[5] = %+v, [76] = %s", got[5], got[76].ID)
	}
	if got, _ := s.UnprocessedIntake(ctx, t0.Add(10*time.Millisecond), 1000); len(got) != 10 { // received before: 0…9
		t.Fatalf("received before 10ms: %d", len(got))
	}

	// Claim 0…59 and the legacy one; again: nothing; rolled back: nothing.
	first := append(intakeIDs(bs[:60]), legacy.ID, "ib_nosuch")
	if c := claim(t, s, first, false); len(c) != 61 {
		t.Fatalf("claimed %d, want 61", len(c))
	}
	cursor, claims := journalState(t, s)
	if cursor != s.b.intake.cursor || len(claims) != 0 {
		t.Fatalf("in order: cursor %d (in memory %d), claim rows %v", cursor, s.b.intake.cursor, claims)
	}
	if c := claim(t, s, first, false); len(c) != 0 {
		t.Fatalf("claimed again: %v", c)
	}
	if c := claim(t, s, intakeIDs(bs[60:70]), true); len(c) != 10 {
		t.Fatalf("claim in the failed transaction: %d", len(c))
	}
	if c2, _ := journalState(t, s); c2 != cursor {
		t.Fatalf("a rolled-back claim moved the cursor %d → %d", cursor, c2)
	}
	if ok, err := s.IntakeProcessed(ctx, "ib_0065"); err != nil || ok {
		t.Fatalf("rolled-back claim: processed = %v, %v", ok, err)
	}
	for id, want := range map[string]bool{"ib_0010": true, legacy.ID: true, "ib_0100": false} {
		if ok, err := s.IntakeProcessed(ctx, id); err != nil || ok != want {
			t.Fatalf("IntakeProcessed(%s) = %v, %v; want %v", id, ok, err, want)
		}
	}
	if _, err := s.IntakeProcessed(ctx, "ib_nosuch"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown batch: %v", err)
	}

	// Out of order: 80…89 past the cursor get claim rows.
	if c := claim(t, s, intakeIDs(bs[80:90]), false); len(c) != 10 {
		t.Fatalf("claimed %d of 80…89", len(c))
	}
	if c2, claims := journalState(t, s); c2 != cursor || len(claims) != 10 {
		t.Fatalf("out of order: cursor %d (was %d), %d claim rows", c2, cursor, len(claims))
	}
	if n, err := s.CountUnprocessedIntake(ctx); err != nil || n != 150-60-10 {
		t.Fatalf("count = %d, %v; want %d", n, err, 150-60-10)
	}
	got, err = s.UnprocessedIntake(ctx, t0.Add(time.Hour), 1000)
	if err != nil || len(got) != 80 || got[0].ID != "ib_0060" || slices.Contains(intakeIDs(got), "ib_0085") {
		t.Fatalf("unprocessed after claims: %d (first %v), %v", len(got), intakeIDs(got)[:min(3, len(got))], err)
	}

	// After a restart the same holds.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.UnprocessedIntake(ctx, t0.Add(time.Hour), 50); err != nil || len(got) != 50 || got[0].ID != "ib_0060" {
		t.Fatalf("after restart: %d, %v", len(got), err)
	}
	if c := claim(t, s, intakeIDs(bs[80:90]), false); len(c) != 0 {
		t.Fatalf("claimed again after restart: %v", c)
	}
	// 60…79 close the gap: the cursor passes 80…89 and their rows go.
	if c := claim(t, s, intakeIDs(bs[60:80]), false); len(c) != 20 {
		t.Fatalf("claimed %d of 60…79", len(c))
	}
	if c2, claims := journalState(t, s); c2 <= cursor || len(claims) != 0 || c2 != s.b.intake.cursor {
		t.Fatalf("gap closed: cursor %d (in memory %d), claim rows %v", c2, s.b.intake.cursor, claims)
	}
	if c := claim(t, s, intakeIDs(bs), false); len(c) != 60 {
		t.Fatalf("claimed %d of the rest, want 60", len(c))
	}
	if n, err := s.CountUnprocessedIntake(ctx); err != nil || n != 0 {
		t.Fatalf("count at the end = %d, %v", n, err)
	}
	if c, _ := journalState(t, s); c != s.b.intake.log.End() {
		t.Fatalf("cursor %d at the end, journal ends at %d", c, s.b.intake.log.End())
	}
}

// Segments the cursor passed are deleted; what is left after a restart is
// what was not processed.
func TestIntakeJournalRemovesProcessedSegments(t *testing.T) {
	defer func(n int64) { journalSegment = n }(journalSegment)
	journalSegment = 2000
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := s.AppendIntake(ctx, []store.IntakeBatch{delivery(i)}); err != nil {
			t.Fatal(err)
		}
	}
	segments := func() int {
		m, _ := filepath.Glob(filepath.Join(journalDir(path), "*.log"))
		return len(m)
	}
	before := segments()
	if before < 10 {
		t.Fatalf("%d segments", before)
	}
	ids := make([]string, 150)
	for i := range ids {
		ids[i] = delivery(i).ID
	}
	if c := claim(t, s, ids, false); len(c) != 150 {
		t.Fatalf("claimed %d", len(c))
	}
	if after := segments(); after >= before/2 {
		t.Fatalf("segments %d → %d after processing three quarters", before, after)
	}
	s.Close()
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.UnprocessedIntake(ctx, t0.Add(time.Hour), 1000)
	if err != nil || len(got) != 50 || got[0].ID != "ib_0150" || got[49].ID != "ib_0199" {
		t.Fatalf("after restart: %d unprocessed (%v), %v", len(got), intakeIDs(got)[:min(2, len(got))], err)
	}
}

// Appends and claims running at once: every delivery is claimed exactly
// once, and a restart finds none left.
func TestIntakeJournalConcurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const senders, each = 4, 200
	var wg sync.WaitGroup
	ids := make(chan string, senders*each)
	for w := range senders {
		wg.Go(func() {
			for i := range each {
				d := delivery(w*each + i)
				if err := s.AppendIntake(ctx, []store.IntakeBatch{d}); err != nil {
					t.Error(err)
					return
				}
				ids <- d.ID
			}
		})
	}
	seen := map[string]int{}
	var mu sync.Mutex
	var cw sync.WaitGroup
	for range 2 { // two claimers, taking deliveries in whatever order they come
		cw.Go(func() {
			for {
				var batch []string
				id, ok := <-ids
				if !ok {
					return
				}
				batch = append(batch, id)
			more:
				for len(batch) < 16 {
					select {
					case id, ok := <-ids:
						if !ok {
							break more
						}
						batch = append(batch, id)
					default:
						break more
					}
				}
				got := claim(t, s, batch, false)
				mu.Lock()
				for _, id := range got {
					seen[id]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(ids)
	cw.Wait()
	if len(seen) != senders*each {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), senders*each)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s claimed %d times", id, n)
		}
	}
	s.Close()
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.CountUnprocessedIntake(ctx); err != nil || n != 0 {
		t.Fatalf("after restart: %d unprocessed, %v", n, err)
	}
}

// The unprocessed deliveries of an earlier version's intake file move to
// the journal at Open (claimed ones do not), and the file is deleted.
func TestIntakeFileMovesToJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.b.writer.ExecContext(ctx, "CREATE TABLE intake_claims (id TEXT PRIMARY KEY); INSERT INTO intake_claims VALUES ('ib_0002')"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	old := openDB(dsn(intakePath(path), false))
	if _, err := old.ExecContext(ctx, `CREATE TABLE intake_batches (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, source TEXT NOT NULL,
		received_at BIGINT NOT NULL, header TEXT NOT NULL DEFAULT '', body TEXT NOT NULL, processed INTEGER NOT NULL DEFAULT 0)`); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		d := delivery(i)
		if _, err := old.ExecContext(ctx, "INSERT INTO intake_batches VALUES (?, ?, ?, ?, ?, ?, ?)", d.ID, d.TenantID, d.Source, ts(d.ReceivedAt),
			string(d.Header), string(d.Body), min(1, i/3)); err != nil { // ib_0003 is marked processed
			t.Fatal(err)
		}
	}
	old.Close()
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.UnprocessedIntake(ctx, t0.Add(time.Hour), 100)
	if err != nil || !slices.Equal(intakeIDs(got), []string{"ib_0000", "ib_0001"}) || string(got[1].Body) != `[{"n":1}]` || !got[1].ReceivedAt.Equal(delivery(1).ReceivedAt) {
		t.Fatalf("moved: %v, %v", intakeIDs(got), err)
	}
	if _, err := os.Stat(intakePath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old intake file still there: %v", err)
	}
}

// Whatever a journal record holds, decoding it fails cleanly or gives a
// delivery that encodes back to the same bytes.
func FuzzDecodeDelivery(f *testing.F) {
	f.Add(encodeDelivery(delivery(7)))
	f.Add(encodeDelivery(store.IntakeBatch{ID: "x"}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, p []byte) {
		d, err := decodeDelivery(p)
		if err != nil {
			return
		}
		d2, err := decodeDelivery(encodeDelivery(d))
		if err != nil || d2.ID != d.ID || d2.TenantID != d.TenantID || d2.Source != d.Source || !d2.ReceivedAt.Equal(d.ReceivedAt) ||
			string(d2.Header) != string(d.Header) || string(d2.Body) != string(d.Body) {
			t.Fatalf("round trip of %+v: %+v, %v", d, d2, err)
		}
	})
}

// With IntakeSync each append is flushed to the device, so appends are
// worth grouping; what was appended is there after a restart.
func TestIntakeSync(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flywheel.db")
	s, err := Open(ctx, path, Options{IntakeSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if !s.AppendGroups() {
		t.Fatal("a synced journal does not ask for grouped appends")
	}
	if err := s.AppendIntake(ctx, []store.IntakeBatch{delivery(1), delivery(2)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.AppendGroups() {
		t.Fatal("an unsynced journal asks for grouped appends")
	}
	if n, err := s.CountUnprocessedIntake(ctx); err != nil || n != 2 {
		t.Fatalf("after restart: %d, %v", n, err)
	}
}
