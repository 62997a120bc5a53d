package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// The render benchmarks: with 10,000 OpsItems and 100,000 events in the
// store, the OpsItems list and one OpsItem's page must render in under
// 200 ms of server time (issue 6). Run them with
//
//	go test ./internal/web -run '^$' -bench 'OpsItemsPage|OpsItemPage' -benchtime 50x
//
// Figures are recorded in docs/ui.md.

const (
	benchItems  = 10_000
	benchEvents = 100_000
)

// benchStores opens each driver's store for a benchmark; PostgreSQL skips
// when no server answers.
var benchStores = []struct {
	name string
	open func(b *testing.B) store.Store
}{
	{"sqlite", func(b *testing.B) store.Store {
		st := sqlitetest.Open(b)
		return st
	}},
	{"postgres", func(b *testing.B) store.Store { return postgres.OpenTest(b) }},
}

// benchEnv is a UI over a seeded store and a viewer session for it.
type benchEnv struct {
	h      *Handler
	secret string
	// busy is the OpsItem with the most members and timeline entries.
	busy string
}

// seedBench fills st with benchItems OpsItems of tenant acme, spread over
// statuses, severities and areas, each with members, a resource and
// timeline entries, and benchEvents events (ten per OpsItem), through the
// bulk store calls, 1,000 OpsItems per transaction.
func seedBench(b *testing.B, st store.Store) benchEnv {
	b.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var env benchEnv
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: t0}); err != nil {
			return err
		}
		var err error
		_, env.secret, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "bench", Role: store.RoleViewer}, t0)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	statuses := []string{opsitem.StatusOpen, opsitem.StatusInProgress, "resolved", "resolved", "suppressed"}
	const perTx = 1000
	perItem := benchEvents / benchItems
	for start := 0; start < benchItems; start += perTx {
		var (
			items    []store.OpsItem
			events   []store.Event
			members  []store.OpsItemMember
			links    []store.OpsItemResourceLink
			timeline []store.TimelineEntry
		)
		for i := start; i < start+perTx; i++ {
			at := t0.Add(time.Duration(i) * time.Minute)
			host := fmt.Sprintf("web-%04d", i%700)
			o := store.OpsItem{ID: store.NewID("oi", at), TenantID: "acme", Title: fmt.Sprintf("Disk almost full on %s (%d%%)", host, 80+i%20),
				Description: "Volume / is filling.\nGrowing 2%/day.", Category: opsitem.Categories[i%len(opsitem.Categories)],
				Severity: opsitem.Severities[(i/3)%len(opsitem.Severities)], Status: statuses[i%len(statuses)], Source: "alertmanager",
				CreatedAt: at, UpdatedAt: at, Rule: "by-alertname", GroupKey: fmt.Sprintf("g%d", i), FirstEventAt: at, LastEventAt: at,
				Occurrences: int64(perItem), OperationalData: []byte(`{"alertmanager":{"receiver":"flywheel","truncatedAlerts":0}}`)}
			if o.Status == "resolved" {
				r := at.Add(time.Hour)
				o.ResolvedAt, o.ResolvedBy = &r, "system:pipeline"
				switch i % 10 {
				case 2: // by hand, after 10–30 minutes in someone's hands
					o.ResolvedBy, o.HumanSeconds = "token:tok_bench", int64(600+i%1200)
				case 3:
					o.ResolvedBy = "automation:rule:disk-cleanup"
				}
			}
			items = append(items, o)
			links = append(links, store.OpsItemResourceLink{TenantID: "acme", OpsItemID: o.ID, OpsItemResource: store.OpsItemResource{Type: "host", ID: host}})
			nMembers, nTimeline := 2, 3
			if i == benchItems/2 {
				env.busy, nMembers, nTimeline = o.ID, perItem, 100
			}
			for m := range nMembers {
				members = append(members, store.OpsItemMember{TenantID: "acme", OpsItemID: o.ID, Fingerprint: fmt.Sprintf("fp-%d-%d", i, m),
					Title: o.Title, Source: "alertmanager", Severity: o.Severity, Status: "firing", Occurrences: 5, FirstSeen: at, LastSeen: at})
			}
			for k := range nTimeline {
				timeline = append(timeline, store.TimelineEntry{ID: store.NewID("tl", at.Add(time.Duration(k)*time.Millisecond)), TenantID: "acme",
					OpsItemID: o.ID, At: at.Add(time.Duration(k) * time.Second), Kind: "event", Message: "NodeFilesystemAlmostFull firing on " + host})
			}
			for k := range perItem {
				ev := at.Add(time.Duration(k) * time.Second)
				events = append(events, store.Event{ID: store.NewID("ev", ev.Add(time.Duration(i))), TenantID: "acme", Source: "alertmanager",
					Fingerprint: fmt.Sprintf("fp-%d-%d", i, k%nMembers), Kind: "alert", Severity: o.Severity, Status: "firing", Title: o.Title,
					Labels:      map[string]string{"alertname": "NodeFilesystemAlmostFull", "instance": host + ":9100", "mountpoint": "/"},
					ResourceKey: host, OccurredAt: ev, ReceivedAt: ev, OpsItemID: o.ID, Decision: "attached",
					Raw: []byte(`{"status":"firing","labels":{"alertname":"NodeFilesystemAlmostFull"}}`)})
			}
		}
		err := st.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateOpsItems(ctx, items); err != nil {
				return err
			}
			if err := tx.InsertEvents(ctx, events); err != nil {
				return err
			}
			if err := tx.PutOpsItemMembers(ctx, members); err != nil {
				return err
			}
			if err := tx.AddOpsItemResources(ctx, links); err != nil {
				return err
			}
			return tx.AddTimelines(ctx, timeline)
		})
		if err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	// PostgreSQL plans with statistics, as autovacuum's analyze gathers
	// them after a bulk load; without them it sorts all the tenant's
	// OpsItems for the first page instead of reading the index backwards.
	if pg, ok := st.(*postgres.TestStore); ok {
		if _, err := pg.Pool().Exec(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	openSessions(b, st, t0.Add(30*24*time.Hour), env.secret)
	h, err := New(Options{Store: st, Clock: func() time.Time { return t0.Add(30 * 24 * time.Hour) }})
	if err != nil {
		b.Fatal(err)
	}
	env.h = h
	return env
}

// benchPage is a page to render and a text it must hold.
type benchPage struct{ path, want string }

// benchPages renders each page b.N times, checking every answer.
func benchPages(b *testing.B, pages func(env benchEnv) map[string]benchPage) {
	for _, drv := range benchStores {
		b.Run(drv.name, func(b *testing.B) {
			st := drv.open(b)
			env := seedBench(b, st)
			for name, p := range pages(env) {
				b.Run(name, func(b *testing.B) {
					cookie := sessionCookieFor(env.secret)
					for b.Loop() {
						req := httptest.NewRequest("GET", p.path, nil)
						req.AddCookie(cookie)
						rec := httptest.NewRecorder()
						env.h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), p.want) {
							b.Fatalf("GET %s: %d\n%.500s", p.path, rec.Code, rec.Body.String())
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
				})
			}
		})
	}
}

// BenchmarkOpsItemsPage renders the OpsItems list: the first page, a
// status and severity filter, a text search, and a page deep in the list.
func BenchmarkOpsItemsPage(b *testing.B) {
	const item = "Disk almost full on web-"
	benchPages(b, func(env benchEnv) map[string]benchPage {
		return map[string]benchPage{
			"first":    {"/opsitems", item},
			"filtered": {"/opsitems?status=open&severity=high", item},
			"search":   {"/opsitems?q=web-0123", item},
			"area":     {"/areas/monitoring?status=resolved", item},
			"later":    {"/opsitems?cursor=" + env.busy, item},
		}
	})
}

// BenchmarkOpsItemPage renders the page of the OpsItem with the most
// members and timeline entries.
func BenchmarkOpsItemPage(b *testing.B) {
	benchPages(b, func(env benchEnv) map[string]benchPage {
		return map[string]benchPage{"busy": {"/opsitems/" + env.busy, "Disk almost full on web-"}}
	})
}

// BenchmarkDashboardPage renders the flywheel dashboard and the automation
// candidates over the same store: a week of 10,000 OpsItems, every one in
// the period and in the hours-saved history.
func BenchmarkDashboardPage(b *testing.B) {
	benchPages(b, func(env benchEnv) map[string]benchPage {
		return map[string]benchPage{
			"dashboard":  {"/dashboard?period=30d", `<polyline class="opened"`},
			"candidates": {"/candidates?period=30d", "<code>Disk almost full on web-* (*%)</code>"},
		}
	})
}
