package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/journal"
)

// TestKillDuringLoadLosesNoAcknowledgedEvent is the durability promise under a
// crash: eight senders post distinct alerts to /api/v2/alerts as fast as the
// server answers, the server is killed with SIGKILL in the middle of it,
// restarted on the same data directory, and every alert that got a 200 must
// then be a stored, processed event. An alert that was never acknowledged
// may or may not be there; none may be there twice.
func TestKillDuringLoadLosesNoAcknowledgedEvent(t *testing.T) {
	const senders = 8
	data := t.TempDir()
	s := startServer(t, data)
	tok := adminToken(t, data)
	start := time.Now()

	hc := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: senders, DisableCompression: true},
	}
	var (
		mu       sync.Mutex
		acked    = map[string]bool{} // alertname → acknowledged with a 200
		sent     int                 // alerts in requests that were sent
		requests int
		status   = map[int]int{} // non-200 responses by status
		cut      int             // requests that died in flight (reset, EOF)
		refused  int             // requests made after the kill
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for r := 0; ; r++ {
				select {
				case <-stop:
					return
				default:
				}
				n := 1 + rng.IntN(10)
				names := make([]string, n)
				alerts := make([]map[string]any, n)
				for i := range n {
					names[i] = fmt.Sprintf("Durability_s%d_r%d_a%d", w, r, i)
					alerts[i] = map[string]any{
						"labels":      map[string]string{"alertname": names[i], "job": "durability", "instance": fmt.Sprintf("host-%d:9100", w)},
						"annotations": map[string]string{"summary": "durability test alert"},
						"startsAt":    time.Now().UTC().Format(time.RFC3339Nano),
					}
				}
				body, _ := json.Marshal(alerts)
				req, _ := http.NewRequest("POST", "http://"+s.addr+"/api/v2/alerts", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				mu.Lock()
				requests++
				sent += n
				switch {
				case err != nil && errors.Is(err, syscall.ECONNREFUSED):
					refused++
				case err != nil:
					cut++
				case resp.StatusCode == http.StatusOK:
					for _, name := range names {
						acked[name] = true
					}
				default:
					status[resp.StatusCode]++
				}
				mu.Unlock()
				if err != nil {
					// The server is gone; do not spin until told to stop.
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}

	time.Sleep(2 * time.Second) // the load runs; this is its duration, not a wait for something
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	exitErr := <-s.exited
	s.exited <- exitErr // for startServer's cleanup
	killedAt := time.Since(start)
	time.Sleep(200 * time.Millisecond) // senders keep sending into the dead port
	close(stop)
	wg.Wait()
	t.Logf("load: %d requests (%d alerts) in %v; %d alerts acknowledged; %d requests cut by the kill, %d refused after it, other statuses %v",
		requests, sent, killedAt.Round(time.Millisecond), len(acked), cut, refused, status)
	if len(acked) == 0 {
		t.Fatalf("no request was acknowledged before the kill\n%s", s.out)
	}
	if cut+refused == 0 {
		t.Fatalf("no request failed: the kill did not happen under load")
	}
	if cut == 0 {
		t.Errorf("no request was in flight when the server was killed (%d refused after): the kill was not mid-load", refused)
	}

	// What the kill left behind: the deliveries in the intake journal past
	// the processed cursor, less those processed out of order (claims), are
	// accepted and not yet processed; the restart must recover them from the
	// journal.
	journalEnd, unprocessed := journalBacklog(t, data)
	t.Logf("at the kill: the journal ends at %d; %d deliveries in it not yet processed", journalEnd, unprocessed)

	// Restart on the same data: committed deliveries left unprocessed by the
	// kill are processed now; then every acknowledged alert is a stored event.
	restart := time.Now()
	s2 := startServer(t, data)
	deadline := time.Now().Add(40 * time.Second)
	var missing, twice []string
	for {
		seen, err := storedAlertnames(hc, s2.addr, tok)
		if err != nil {
			t.Fatalf("listing events: %v", err)
		}
		missing, twice = missing[:0], twice[:0]
		for name := range acked {
			if seen[name] == 0 {
				missing = append(missing, name)
			}
		}
		for name, n := range seen {
			if n > 1 {
				twice = append(twice, name)
			}
		}
		if len(missing) == 0 {
			t.Logf("after restart: all %d acknowledged alerts stored and processed within %v (%d stored in all, %d of them not acknowledged)",
				len(acked), time.Since(restart).Round(time.Millisecond), len(seen), len(seen)-len(acked))
			break
		}
		if time.Now().After(deadline) {
			sort.Strings(missing)
			t.Fatalf("%d of %d acknowledged alerts are not stored 40s after the restart, e.g. %v\n%s",
				len(missing), len(acked), missing[:min(len(missing), 20)], s2.out)
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Journal recovery ran: everything the journal held at the kill is
	// processed (the cursor is past its end then).
	waitCursor := time.Now().Add(40 * time.Second)
	for {
		cursor, _ := journalCursor(t, data)
		if cursor >= journalEnd {
			t.Logf("journal recovery: cursor %d is past the journal's end at the kill, %d; the %d deliveries left unprocessed are processed",
				cursor, journalEnd, unprocessed)
			break
		}
		if time.Now().After(waitCursor) {
			t.Fatalf("40s after the restart the journal's processed cursor is %d, before its end at the kill, %d: journal recovery did not run", cursor, journalEnd)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(twice) > 0 {
		slices.Sort(twice)
		t.Errorf("%d alerts stored more than once, e.g. %v", len(twice), twice[:min(len(twice), 20)])
	}
}

// storedAlertnames counts the stored Alertmanager events by alertname,
// paging through GET /api/v1/events.
func storedAlertnames(hc *http.Client, addr, tok string) (map[string]int, error) {
	seen := map[string]int{}
	q := url.Values{"source": {"alertmanager"}, "limit": {"500"}}
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/events?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Items []struct {
				Labels map[string]string `json:"labels"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET /api/v1/events: %d %v", resp.StatusCode, err)
		}
		for _, e := range page.Items {
			seen[e.Labels["alertname"]]++
		}
		if page.NextCursor == "" {
			return seen, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

// journalCursor reads the intake journal's processed cursor (everything
// before it is processed) and how many deliveries past it were processed
// out of order, from the main database file.
func journalCursor(t *testing.T, data string) (cursor int64, claims int) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(data, "flywheel.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("SELECT cursor FROM intake_journal WHERE id = 1").Scan(&cursor); err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM intake_journal_claims WHERE pos >= ?", cursor).Scan(&claims); err != nil {
		t.Fatal(err)
	}
	return cursor, claims
}

// journalBacklog reads the intake journal of a stopped server: its end,
// and how many deliveries in it are not processed.
func journalBacklog(t *testing.T, data string) (end int64, unprocessed int) {
	t.Helper()
	cursor, claims := journalCursor(t, data)
	j, err := journal.Open(filepath.Join(data, "flywheel-intake"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	err = j.Read(max(cursor, j.Start()), func(int64, []byte) error {
		unprocessed++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return j.End(), unprocessed - claims
}
