package notification_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/notification"
	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

const tenant = "acme"

// hostile is event text with Slack control sequences.
const hostile = "lag <!channel> @here <https://evil.example|click> &"

// loopback lets the tests' receivers, on 127.0.0.1, be reached: the
// default guard refuses them (TestDeliveryGuard).
var loopback, _ = outbound.New([]string{"127.0.0.0/8", "::1"})

var drivers = map[string]func(t *testing.T) store.Store{
	"sqlite": func(t *testing.T) store.Store {
		st := sqlitetest.Open(t)
		return st
	},
	"postgres": func(t *testing.T) store.Store { return postgres.OpenTest(t) },
}

// receiver is a webhook that answers the statuses given, in turn (the
// last one from then on), and keeps what it got.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	bodies   []map[string]any
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	status := rc.statuses[min(len(rc.bodies), len(rc.statuses)-1)]
	rc.bodies = append(rc.bodies, body)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

func (rc *receiver) got() []map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]map[string]any(nil), rc.bodies...)
}

// TestDelivery enqueues notifications as the pipeline does, in a store
// transaction, on each driver: a 500 then a 200 is delivered on the second
// attempt; a 400 is refused once and not retried; a notification whose
// transaction rolls back is never sent; each outcome is on the OpsItem's
// timeline and in the audit log, and the webhook URL's secret path is in
// neither, nor in the logs.
func TestDelivery(t *testing.T) {
	for name, open := range drivers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testDelivery(t, open(t))
		})
	}
}

func testDelivery(t *testing.T, st store.Store) {
	ctx := context.Background()
	flaky, refusing := &receiver{statuses: []int{500, 200}}, &receiver{statuses: []int{400}}
	env := map[string]string{}
	for name, rc := range map[string]*receiver{"FLYWHEEL_TEST_FLAKY_URL": flaky, "FLYWHEEL_TEST_REFUSING_URL": refusing} {
		srv := httptest.NewServer(rc)
		t.Cleanup(srv.Close)
		env[name] = srv.URL + "/hooks/S3CRET-" + name
	}
	settings := config.Notifications{Backoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Attempts: 4,
		Channels: map[string]config.Channel{
			"flaky":    {Type: "webhook", URLEnv: "FLYWHEEL_TEST_FLAKY_URL"},
			"refusing": {Type: "slack", URLEnv: "FLYWHEEL_TEST_REFUSING_URL"},
		}}.WithDefaults()
	if errs := settings.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	channels, err := notification.Build(settings, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	// Read once the queue has stopped: River's goroutines log into it.
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewPedanticRegistry()
	svc := notification.New(notification.Options{Store: st, Channels: channels, Settings: settings, Logger: log, Registerer: reg,
		Outbound: loopback})
	q, err := jobs.New(ctx, st, jobs.Options{Logger: log, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Register(q); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	items := []store.OpsItem{
		{ID: "oi_flaky", TenantID: tenant, Title: "Disk almost full on web-03", Severity: "high", Category: "monitoring", Status: "open", CreatedAt: now, UpdatedAt: now},
		{ID: "oi_refused", TenantID: tenant, Title: "Replication lag", Severity: "medium", Category: "service", Status: "open", CreatedAt: now, UpdatedAt: now},
	}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "Acme", CreatedAt: now}); err != nil {
			return err
		}
		for _, o := range items {
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
		}
		if err := svc.Enqueue(ctx, tx, notification.Request{Tenant: tenant, OpsItemID: "oi_flaky", Rule: "page-web", Channel: "flaky", Message: "web-03 / is 91% full"}); err != nil {
			return err
		}
		if err := svc.Enqueue(ctx, tx, notification.Request{Tenant: tenant, OpsItemID: "oi_refused", Rule: "dba", Channel: "refusing", Message: hostile}); err != nil {
			return err
		}
		// Configured nowhere: recorded as failed in this transaction.
		return svc.Enqueue(ctx, tx, notification.Request{Tenant: tenant, OpsItemID: "oi_refused", Rule: "dba", Channel: "pager", Message: "lag"})
	}); err != nil {
		t.Fatal(err)
	}
	// Rolled back: never sent.
	rollback := errors.New("rolled back")
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := svc.Enqueue(ctx, tx, notification.Request{Tenant: tenant, OpsItemID: "oi_flaky", Rule: "page-web", Channel: "flaky", Message: "ROLLED-BACK"}); err != nil {
			return err
		}
		return rollback
	}); !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(context.Background()) })

	timeline := func(id string) []store.TimelineEntry {
		tl, err := st.ListTimeline(ctx, tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []store.TimelineEntry
		for _, e := range tl {
			if e.Kind == "notification" {
				out = append(out, e)
			}
		}
		return out
	}
	waitFor(t, "both outcomes recorded", func() bool { return len(timeline("oi_flaky")) == 1 && len(timeline("oi_refused")) == 2 })

	got := flaky.got()
	if len(got) != 2 {
		t.Fatalf("flaky receiver got %d posts, want 2 (a 500, then a 200): %v", len(got), got)
	}
	p := got[1]
	o, _ := p["opsitem"].(map[string]any)
	if p["kind"] != "flywheel.notification" || p["rule"] != "page-web" || p["channel"] != "flaky" || p["message"] != "web-03 / is 91% full" ||
		p["subject"] != "[high] Disk almost full on web-03" || o["id"] != "oi_flaky" || o["severity"] != "high" || p["id"] != got[0]["id"] {
		t.Errorf("payload %v", p)
	}
	if tl := timeline("oi_flaky"); tl[0].Message != "Notified flaky (webhook) for rule page-web after 2 attempts" || tl[0].Actor != "rule:page-web" {
		t.Errorf("flaky timeline %+v", tl)
	}
	if n := len(refusing.got()); n != 1 {
		t.Errorf("refusing receiver got %d posts, want 1 (a 400 is not retried)", n)
	}
	if text, _ := refusing.got()[0]["text"].(string); text != "*[medium] Replication lag*\nlag &lt;!channel&gt; @\u2060here &lt;https://evil.example|click&gt; &amp;\nOpsItem oi_refused · rule dba" {
		// The event's Slack control sequences arrive escaped.
		t.Errorf("slack text %q", text)
	}
	var msgs []string
	for _, e := range timeline("oi_refused") {
		msgs = append(msgs, e.Message)
	}
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{
		"Notification to refusing (slack) for rule dba refused, not retried: notify: refusing: POST http://127.0.0.1:",
		": status 400 Bad Request",
		`Notification for rule dba not sent: "pager" is not a notification channel configured on this server (configured: flaky, refusing)`,
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("refused timeline lacks %q:\n%s", want, joined)
		}
	}

	recs, _, err := st.ListAudit(ctx, tenant, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	var audit strings.Builder
	for _, r := range recs {
		actions[r.Action]++
		b, _ := json.Marshal(r)
		audit.Write(b)
	}
	if actions["notification.delivered"] != 1 || actions["notification.failed"] != 2 {
		t.Errorf("audit actions %v", actions)
	}
	// Give a rolled-back job time to show up if it (wrongly) existed.
	time.Sleep(300 * time.Millisecond)
	if err := q.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range flaky.got() {
		if b["message"] == "ROLLED-BACK" {
			t.Error("a notification whose transaction rolled back was sent")
		}
	}
	for what, text := range map[string]string{"audit": audit.String(), "timeline": joined, "logs": logs.String()} {
		if strings.Contains(text, "S3CRET") {
			t.Errorf("%s holds a webhook URL's secret:\n%s", what, text)
		}
	}
	if !strings.Contains(logs.String(), "rule notification not delivered; retrying") {
		t.Errorf("the retry is not logged:\n%s", logs)
	}
	for series, want := range map[string]float64{
		`flywheel_notifications_total{channel="flaky",outcome="delivered"}`:    1,
		`flywheel_notifications_total{channel="refusing",outcome="failed"}`:    1,
		`flywheel_notifications_total{channel="pager",outcome="failed"}`:       1,
		`flywheel_notifications_total{channel="refusing",outcome="delivered"}`: 0,
		`flywheel_notification_retries_total{channel="flaky"}`:                 1,
		`flywheel_notification_retries_total{channel="refusing"}`:              0,
	} {
		if got := metricValue(t, reg, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

// metricValue reads one counter series, written as Prometheus shows it.
func metricValue(t *testing.T, g prometheus.Gatherer, series string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			if mf.GetName()+"{"+strings.Join(labels, ",")+"}" == series {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s", series)
	return 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
