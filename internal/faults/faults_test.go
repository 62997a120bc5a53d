package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/runbook"
)

// faultGroups is how many alert groups (alertnames) the load spreads over:
// each must end as exactly one OpsItem.
const faultGroups = 6

// TestFaultSuite runs three `flywheel serve` replicas on one PostgreSQL
// database of its own, behind a round-robin proxy, with an agent
// connected through the proxy, under sustained mixed intake: new alerts
// of a few groups, repeats of acknowledged deliveries, and findings whose
// rule runs a runbook of non-idempotent steps on the agent. Meanwhile it
// kills one replica with SIGKILL and restarts it, kills the leader, and
// crashes PostgreSQL (immediate stop) and starts it again. Then:
//
//   - every acknowledged alert and finding is a stored, processed event,
//     and no event is stored twice;
//   - every alert group is one OpsItem, every finding one OpsItem and one
//     execution, and every execution ends;
//   - no step's line is in the agent's file twice;
//   - periodic work (the audit checkpoint, every second) is scheduled again
//     by another replica within River's leader lease after the leader dies;
//   - the agent was served by more than one replica and still reports.
//
// FLYWHEEL_FAULTS_LOAD sets how long the load runs (default 20s; the
// faults are placed within it).
func TestFaultSuite(t *testing.T) {
	load := 20 * time.Second
	if v := os.Getenv("FLYWHEEL_FAULTS_LOAD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second {
			t.Fatalf("FLYWHEEL_FAULTS_LOAD=%q: want a duration of at least 10s", v)
		}
		load = d
	}
	pg := startPrivatePG(t)
	db := pg.url("flywheel")
	env := []string{"FLYWHEEL_EXECUTION_LEASE=" + executionLease, "FLYWHEEL_AUDIT_CHECKPOINT_EVERY=1s"}
	content := contentDir(t)
	var replicas []*server
	for i := range 3 {
		replicas = append(replicas, startServer(t, fmt.Sprintf("replica %d", i), t.TempDir(), db, content, env...))
	}
	addrs := make([]string, len(replicas))
	for i, r := range replicas {
		addrs[i] = r.addr
	}
	proxy := newProxy(addrs)
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	c := client.New(front.URL, adminToken)
	startAgent(t, c, front.URL, "fault-host", map[string]string{"faults": "yes"})
	waitAgent(t, c, "fault-host", 60*time.Second)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "steps.log")
	l := newLoad(front.URL, file)
	start := time.Now()
	l.run(load)

	// The faults, placed in the load's time.
	at := func(frac float64) { time.Sleep(time.Until(start.Add(time.Duration(frac * float64(load))))) }
	at(0.15)
	victim := replicas[1]
	victim.kill()
	t.Logf("%v: killed %s", time.Since(start).Round(time.Millisecond), victim.name)
	at(0.3)
	victim.restart(t)
	t.Logf("%v: restarted %s", time.Since(start).Round(time.Millisecond), victim.name)

	at(0.4)
	leader, leaderID := leaderReplica(t, conn, replicas)
	leader.kill()
	killedAt := time.Now()
	t.Logf("%v: killed the leader, %s (%s)", time.Since(start).Round(time.Millisecond), leader.name, leaderID)
	at(0.6)
	leader.restart(t)
	t.Logf("%v: restarted %s", time.Since(start).Round(time.Millisecond), leader.name)

	at(0.75)
	pg.crash(t)
	conn.Close(ctx)
	t.Logf("%v: PostgreSQL crashed and started again", time.Since(start).Round(time.Millisecond))
	if conn, err = pgx.Connect(ctx, db); err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	l.wait()
	t.Logf("load: %s", l)
	if n := l.internalErrors(); n > 0 {
		t.Errorf("%d requests answered 500; a replica or the database going away is a 502/503 to retry", n)
	}

	// Periodic work: the first audit checkpoint scheduled after the kill
	// by another client.
	var failover time.Duration
	poll(t, 60*time.Second, "periodic work on a new leader", func() bool {
		var created time.Time
		err := conn.QueryRow(ctx, `SELECT min(created_at) FROM river_job WHERE kind = 'audit_checkpoint'
			AND created_at > $1 AND NOT ($2 = ANY(attempted_by))`, killedAt, leaderID).Scan(&created)
		if err != nil || created.IsZero() {
			return false
		}
		failover = created.Sub(killedAt)
		return true
	})
	t.Logf("leader fail-over: periodic work scheduled again %v after the leader was killed", failover.Round(time.Millisecond))
	// River's leader row lives 15s (5s election interval + 10s padding);
	// others try every 5-6s: fail-over within the lease and one attempt.
	if failover > 25*time.Second {
		t.Errorf("periodic work resumed %v after the leader died; River's lease is 15s and elections run every 5-6s", failover)
	}

	// Everything acknowledged is stored once and processed.
	r0 := replicas[0].client()
	var alerts, findings map[string]int
	poll(t, 90*time.Second, "every acknowledged delivery stored", func() bool {
		alerts, findings = storedEvents(t, r0)
		return l.missing(alerts, findings) == ""
	})
	for k, n := range alerts {
		if n > 1 {
			t.Errorf("alert %s stored %d times", k, n)
		}
	}
	for k, n := range findings {
		if n > 1 {
			t.Errorf("finding %s stored %d times", k, n)
		}
	}

	// One OpsItem per group and per finding.
	items := opsItemTitles(t, r0)
	for g := range faultGroups {
		if n := items[groupName(g)]; n != 1 {
			t.Errorf("%d OpsItems for alert group %s, want 1", n, groupName(g))
		}
	}
	for k := range findings {
		if n := items[findingTitle(k)]; n != 1 {
			t.Errorf("%d OpsItems for finding %s, want 1", n, k)
		}
	}

	// One execution per stored finding; all end; no step twice.
	var execs map[string][]execView
	poll(t, 120*time.Second, "every finding's execution to end", func() bool {
		execs = executionsByKey(t, r0)
		if len(execs) < len(findings) {
			return false
		}
		for _, es := range execs {
			for _, e := range es {
				if !slices.Contains(runbook.TerminalStatuses, e.Status) {
					return false
				}
			}
		}
		return true
	})
	statuses, failures := map[string]int{}, map[string]int{}
	for k, es := range execs {
		if len(es) != 1 {
			t.Errorf("finding %s: %d executions, want 1", k, len(es))
		}
		for _, e := range es {
			statuses[e.Status]++
			if e.Status != runbook.StatusSucceeded {
				why := stepErrors(t, r0, e.ID)
				failures[why]++
				// The only failure the faults may cause: a step that was
				// running when its replica (or the database) went away is
				// not run again, since it is not idempotent.
				if why == "" || strings.Count(why, interrupted) != strings.Count(why, "\n")+1 {
					t.Errorf("execution %s (%s) %s for another reason than an interrupted step: %q", e.ID, k, e.Status, why)
				}
			}
		}
	}
	if len(failures) > 0 {
		t.Logf("executions that did not succeed, by error: %v", failures)
	}
	for k := range findings {
		if len(execs[k]) == 0 {
			t.Errorf("finding %s started no execution", k)
		}
	}
	lines := countLines(t, file)
	double := 0
	for line, n := range lines {
		if n > 1 {
			double++
			t.Errorf("step line %q is in the file %d times", line, n)
		}
	}

	// The agent was served by several replicas and still reports.
	served := proxy.agentServers()
	if len(served) < 2 {
		t.Errorf("the agent's requests reached %d replica(s), want at least 2: %v", len(served), served)
	}
	waitAgent(t, c, "fault-host", 30*time.Second)

	t.Logf("figures: acknowledged %d alerts and %d findings; stored %d alerts and %d findings (%d not acknowledged); "+
		"OpsItems %d; executions %d %v; step lines %d, run twice %d; leader fail-over %v; agent requests by replica %v",
		len(l.acked), len(l.ackedFindings), len(alerts), len(findings), len(alerts)+len(findings)-len(l.acked)-len(l.ackedFindings),
		len(items), len(execs), statuses, len(lines), double, failover.Round(time.Millisecond), served)
}

func groupName(g int) string         { return fmt.Sprintf("FaultGroup%02d", g) }
func findingTitle(key string) string { return "fault finding " + key }

// leaderReplica finds the replica whose job client holds River's leader
// row: each replica logs its client ID when it starts serving.
func leaderReplica(t *testing.T, conn *pgx.Conn, replicas []*server) (*server, string) {
	t.Helper()
	var id string
	poll(t, 30*time.Second, "an elected leader", func() bool {
		return conn.QueryRow(context.Background(), "SELECT leader_id FROM river_leader").Scan(&id) == nil
	})
	for _, r := range replicas {
		// The last start's line: a restarted replica has a new client.
		m := clientIDRe.FindAllStringSubmatch(r.out.String(), -1)
		if len(m) > 0 && m[len(m)-1][1] == id {
			return r, id
		}
	}
	t.Fatalf("no replica logged job client %s", id)
	return nil, ""
}

var clientIDRe = regexp.MustCompile(`flywheel serving.* job_client=(\S+)`)

// load is the sustained mixed intake: alerts of faultGroups groups (new
// ones, and repeats of acknowledged deliveries) from three senders, and a
// finding every 700ms, all through the proxy.
type load struct {
	url, file string
	hc        *client.Client
	done      chan struct{}

	mu            sync.Mutex
	acked         map[string]bool // alert key → acknowledged
	ackedBodies   []map[string]any
	ackedFindings map[string]bool
	sent, repeats int
	failed        map[string]int // by error, shortened
}

func newLoad(url, file string) *load {
	return &load{url: url, file: file, hc: client.New(url, adminToken), done: make(chan struct{}),
		acked: map[string]bool{}, ackedFindings: map[string]bool{}, failed: map[string]int{}}
}

func (l *load) run(d time.Duration) {
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for s := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s), uint64(time.Now().UnixNano())))
			for n := 0; time.Now().Before(stop); n++ {
				l.mu.Lock()
				var body map[string]any
				repeat := len(l.ackedBodies) > 0 && rng.IntN(4) == 0
				if repeat {
					body = l.ackedBodies[rng.IntN(len(l.ackedBodies))]
					l.repeats++
				}
				l.mu.Unlock()
				key := ""
				if !repeat {
					g := rng.IntN(faultGroups)
					key = fmt.Sprintf("%s/s%d-%d", groupName(g), s, n)
					body = amBody(groupName(g), fmt.Sprintf("s%d-%d:9100", s, n))
				}
				err := l.hc.Do(context.Background(), "POST", "/api/v1/intake/alertmanager", body, nil)
				l.mu.Lock()
				l.sent++
				if err != nil {
					l.failed[shorten(err)]++
				} else if !repeat {
					l.acked[key] = true
					l.ackedBodies = append(l.ackedBodies, body)
				}
				l.mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; time.Now().Before(stop); n++ {
			key := fmt.Sprintf("f%03d", n)
			body := map[string]any{"source": "faults", "title": findingTitle(key), "severity": "high", "kind": "finding",
				"resource": "fault-host", "labels": map[string]string{"faults": "yes", "key": key, "file": l.file}}
			err := l.hc.Do(context.Background(), "POST", "/api/v1/intake/generic", body, nil)
			// A repeat of the finding, to another replica: one OpsItem,
			// one execution still.
			if err == nil {
				l.hc.Do(context.Background(), "POST", "/api/v1/intake/generic", body, nil)
			}
			l.mu.Lock()
			l.sent++
			if err != nil {
				l.failed[shorten(err)]++
			} else {
				l.ackedFindings[key] = true
			}
			l.mu.Unlock()
			time.Sleep(700 * time.Millisecond)
		}
	}()
	go func() { wg.Wait(); close(l.done) }()
}

func (l *load) wait() { <-l.done }

func (l *load) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d requests, %d new alerts and %d findings acknowledged, %d repeats, failed %v",
		l.sent, len(l.acked), len(l.ackedFindings), l.repeats, l.failed)
}

// missing names an acknowledged alert or finding not stored ("" if none).
func (l *load) missing(alerts, findings map[string]int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var miss []string
	for k := range l.acked {
		if alerts[k] == 0 {
			miss = append(miss, k)
		}
	}
	for k := range l.ackedFindings {
		if findings[k] == 0 {
			miss = append(miss, k)
		}
	}
	slices.Sort(miss)
	return strings.Join(miss[:min(len(miss), 5)], " ")
}

// shorten names a failed request's outcome: the HTTP status of an API
// error (503 while PostgreSQL restarts, 502 from the proxy when a replica
// dies mid-request), or the transport error.
func shorten(err error) string {
	var ae *client.Error
	if errors.As(err, &ae) {
		return fmt.Sprintf("HTTP %d %s", ae.Status, ae.Code)
	}
	s := err.Error()
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// internalErrors counts the failed requests answered 500.
func (l *load) internalErrors() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, v := range l.failed {
		if strings.HasPrefix(k, "HTTP 500") {
			n += v
		}
	}
	return n
}

// amBody is an Alertmanager webhook with one firing alert.
func amBody(alertname, instance string) map[string]any {
	labels := map[string]string{"alertname": alertname, "instance": instance, "job": "faults", "severity": "critical"}
	return map[string]any{"version": "4", "receiver": "flywheel", "status": "firing",
		"groupKey": `{}:{alertname="` + alertname + `"}`, "groupLabels": map[string]string{"alertname": alertname},
		"commonLabels": labels, "commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager:9093",
		"alerts": []any{map[string]any{"status": "firing", "labels": labels, "annotations": map[string]string{},
			"startsAt": "2026-03-10T14:02:17Z", "endsAt": "0001-01-01T00:00:00Z"}}}
}

// storedEvents counts stored events: alerts by alertname/instance
// (without the port), findings by key.
func storedEvents(t *testing.T, c *client.Client) (alerts, findings map[string]int) {
	t.Helper()
	alerts, findings = map[string]int{}, map[string]int{}
	q := url.Values{"limit": {"500"}}
	for {
		var page struct {
			Items []struct {
				Source string            `json:"source"`
				Labels map[string]string `json:"labels"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := c.Do(context.Background(), "GET", "/api/v1/events?"+q.Encode(), nil, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			switch e.Source {
			case "alertmanager":
				alerts[e.Labels["alertname"]+"/"+strings.TrimSuffix(e.Labels["instance"], ":9100")]++
			case "generic:faults":
				findings[e.Labels["key"]]++
			}
		}
		if page.NextCursor == "" {
			return alerts, findings
		}
		q.Set("cursor", page.NextCursor)
	}
}

// opsItemTitles counts OpsItems by title.
func opsItemTitles(t *testing.T, c *client.Client) map[string]int {
	t.Helper()
	n := map[string]int{}
	q := url.Values{"limit": {"500"}}
	for {
		var page struct {
			Items      []struct{ Title string }
			NextCursor string `json:"next_cursor"`
		}
		if err := c.Do(context.Background(), "GET", "/api/v1/opsitems?"+q.Encode(), nil, &page); err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Items {
			n[o.Title]++
		}
		if page.NextCursor == "" {
			return n
		}
		q.Set("cursor", page.NextCursor)
	}
}

type execView = api.ExecutionView

const interrupted = "interrupted; not re-run because the step is not idempotent"

// stepErrors names the failed steps of execution id and their targets'
// errors, a line each.
func stepErrors(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	var e api.ExecutionView
	if err := c.Do(context.Background(), "GET", "/api/v1/executions/"+id, nil, &e); err != nil {
		return err.Error()
	}
	var errs []string
	for _, st := range e.Steps {
		if st.Status == runbook.StatusFailed && st.TargetID != "" {
			errs = append(errs, st.Name+": "+st.Error)
		}
	}
	return strings.Join(errs, "\n")
}

// executionsByKey lists append-steps executions by their key parameter.
func executionsByKey(t *testing.T, c *client.Client) map[string][]execView {
	t.Helper()
	m := map[string][]execView{}
	q := url.Values{"limit": {"500"}}
	for {
		var page struct {
			Items      []execView
			NextCursor string `json:"next_cursor"`
		}
		if err := c.Do(context.Background(), "GET", "/api/v1/executions?"+q.Encode(), nil, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			var p struct{ Key string }
			json.Unmarshal(e.Parameters, &p)
			if e.Runbook == "append-steps" {
				m[p.Key] = append(m[p.Key], e)
			}
		}
		if page.NextCursor == "" {
			return m
		}
		q.Set("cursor", page.NextCursor)
	}
}
