package notification_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/notification"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The receivers below stand in for the vendors, each checking what it
// gets against the vendor's documented request schema and keeping the
// incidents' state as the vendor would:
//   - PagerDuty Events API v2, "Send an alert event"
//     (developer.pagerduty.com/docs/send-alert-event): POST /v2/enqueue;
//     routing_key, event_action (trigger|acknowledge|resolve) required;
//     dedup_key at most 255 characters, required to acknowledge or
//     resolve; a trigger's payload needs summary (at most 1024
//     characters), source and severity (critical|error|warning|info);
//     202 with {status, message, dedup_key}, 400 for an invalid event.
//     A trigger whose dedup_key names an open incident joins it.
//   - Opsgenie Alert API (docs.opsgenie.com/docs/alert-api): header
//     "Authorization: GenieKey <key>"; POST /v2/alerts with message
//     (required, at most 130 characters), alias (512), description
//     (15000), tags (20 of 50), details (string to string), entity (512),
//     source (100), priority P1-P5; POST
//     /v2/alerts/{alias}/acknowledge|close?identifierType=alias with
//     optional user (100), source (100), note (25000); 202 answers, 422
//     for invalid fields, 401 for a wrong key.
//   - Microsoft Teams incoming webhook (Workflows): a message whose
//     attachment has contentType application/vnd.microsoft.card.adaptive
//     and an Adaptive Card (adaptivecards.io schema: type AdaptiveCard,
//     version, body of elements; TextBlock needs text, FactSet needs facts
//     of title and value).

type vendor struct {
	mu        sync.Mutex
	t         *testing.T
	requests  []string          // "trigger <key>", "acknowledge <key>", ...
	state     map[string]string // dedup key → triggered|acknowledged|resolved
	incidents int
	invalid   []string
	key       string
}

func newVendor(t *testing.T, key string) *vendor {
	return &vendor{t: t, state: map[string]string{}, key: key}
}

func (v *vendor) log() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.requests)
}

func (v *vendor) stateOf(k string) (string, int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.state[k], v.incidents
}

func (v *vendor) bad(w http.ResponseWriter, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	v.invalid = append(v.invalid, msg)
	v.t.Errorf("vendor refused a request: %s", msg)
	w.WriteHeader(code)
	_, _ = io.WriteString(w, `{"status":"invalid event","errors":["`+msg+`"]}`)
}

// apply moves an incident as the vendor does.
func (v *vendor) apply(act, key string) {
	v.requests = append(v.requests, act+" "+key)
	switch act {
	case "trigger":
		if s := v.state[key]; s == "" || s == "resolved" {
			v.incidents++
			v.state[key] = "triggered"
		}
	case "acknowledge":
		if v.state[key] == "triggered" {
			v.state[key] = "acknowledged"
		}
	case "resolve":
		if v.state[key] != "" {
			v.state[key] = "resolved"
		}
	}
}

func str(m map[string]any, k string) (string, bool) {
	s, ok := m[k].(string)
	return s, ok
}

func checkKeys(m map[string]any, allowed ...string) string {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return "unknown field " + k
		}
	}
	return ""
}

func decode(r *http.Request) (map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, fmt.Errorf("content type %q", ct)
	}
	var m map[string]any
	err := json.NewDecoder(r.Body).Decode(&m)
	return m, err
}

// pagerDuty serves the Events API v2.
func (v *vendor) pagerDuty(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		v.bad(w, 404, "%s %s", r.Method, r.URL.Path)
		return
	}
	m, err := decode(r)
	if err != nil {
		v.bad(w, 400, "body: %v", err)
		return
	}
	if p := checkKeys(m, "routing_key", "event_action", "dedup_key", "payload", "images", "links", "client", "client_url"); p != "" {
		v.bad(w, 400, "%s", p)
		return
	}
	if rk, _ := str(m, "routing_key"); rk != v.key {
		v.bad(w, 400, "routing_key %q", rk)
		return
	}
	act, _ := str(m, "event_action")
	key, hasKey := str(m, "dedup_key")
	switch {
	case !slices.Contains([]string{"trigger", "acknowledge", "resolve"}, act):
		v.bad(w, 400, "event_action %q", act)
		return
	case hasKey && (key == "" || utf8.RuneCountInString(key) > 255):
		v.bad(w, 400, "dedup_key %q", key)
		return
	case act != "trigger" && !hasKey:
		v.bad(w, 400, "dedup_key is required to %s", act)
		return
	}
	if act == "trigger" {
		p, _ := m["payload"].(map[string]any)
		if p == nil {
			v.bad(w, 400, "payload is required")
			return
		}
		if e := checkKeys(p, "summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"); e != "" {
			v.bad(w, 400, "payload: %s", e)
			return
		}
		sum, _ := str(p, "summary")
		src, _ := str(p, "source")
		sev, _ := str(p, "severity")
		if sum == "" || utf8.RuneCountInString(sum) > 1024 || src == "" || !slices.Contains([]string{"critical", "error", "warning", "info"}, sev) {
			v.bad(w, 400, "payload summary %q source %q severity %q", sum, src, sev)
			return
		}
		if ts, ok := str(p, "timestamp"); ok {
			if _, err := time.Parse(time.RFC3339, ts); err != nil {
				v.bad(w, 400, "payload.timestamp %q", ts)
				return
			}
		}
		if _, ok := p["custom_details"].(map[string]any); !ok && p["custom_details"] != nil {
			v.bad(w, 400, "custom_details is not an object")
			return
		}
	}
	v.apply(act, key)
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": key})
}

// opsgenie serves the Alert API.
func (v *vendor) opsgenie(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.Header.Get("Authorization") != "GenieKey "+v.key {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Could not authenticate","took":0.0,"requestId":"x"}`)
		v.requests = append(v.requests, "unauthorized")
		return
	}
	m, err := decode(r)
	if err != nil || r.Method != http.MethodPost {
		v.bad(w, 422, "%s body: %v", r.Method, err)
		return
	}
	limits := map[string]int{"message": 130, "alias": 512, "description": 15000, "entity": 512, "source": 100, "user": 100, "note": 25000}
	for k, n := range limits {
		if s, ok := m[k]; ok {
			if ss, isStr := s.(string); !isStr || utf8.RuneCountInString(ss) > n {
				v.bad(w, 422, "%s is not a string of at most %d characters", k, n)
				return
			}
		}
	}
	switch {
	case r.URL.Path == "/v2/alerts":
		if e := checkKeys(m, "message", "alias", "description", "responders", "visibleTo", "actions", "tags", "details", "entity", "source", "priority", "user", "note"); e != "" {
			v.bad(w, 422, "%s", e)
			return
		}
		if msg, _ := str(m, "message"); msg == "" {
			v.bad(w, 422, "message is required")
			return
		}
		if p, ok := m["priority"]; ok && !slices.Contains([]any{"P1", "P2", "P3", "P4", "P5"}, p) {
			v.bad(w, 422, "priority %v", p)
			return
		}
		if tags, ok := m["tags"].([]any); ok {
			for _, tg := range tags {
				if s, _ := tg.(string); s == "" || len(tags) > 20 || utf8.RuneCountInString(s) > 50 {
					v.bad(w, 422, "tags %v", tags)
					return
				}
			}
		}
		if d, ok := m["details"].(map[string]any); ok {
			for k, val := range d {
				if _, isStr := val.(string); !isStr {
					v.bad(w, 422, "details.%s is not a string", k)
					return
				}
			}
		}
		alias, _ := str(m, "alias")
		v.apply("trigger", alias)
	case strings.HasPrefix(r.URL.Path, "/v2/alerts/"):
		rest := strings.TrimPrefix(r.URL.EscapedPath(), "/v2/alerts/")
		escAlias, verb, _ := strings.Cut(rest, "/")
		alias, err := url.PathUnescape(escAlias)
		if err != nil || r.URL.Query().Get("identifierType") != "alias" || (verb != "acknowledge" && verb != "close") {
			v.bad(w, 422, "%s?%s", r.URL.EscapedPath(), r.URL.RawQuery)
			return
		}
		if e := checkKeys(m, "user", "source", "note"); e != "" {
			v.bad(w, 422, "%s", e)
			return
		}
		v.apply(map[string]string{"acknowledge": "acknowledge", "close": "resolve"}[verb], alias)
	default:
		v.bad(w, 404, "%s", r.URL.Path)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"result":"Request will be processed","took":0.1,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}`)
}

// teams serves an incoming webhook.
func (v *vendor) teams(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m, err := decode(r)
	if err != nil {
		v.bad(w, 400, "body: %v", err)
		return
	}
	atts, _ := m["attachments"].([]any)
	if m["type"] != "message" || len(atts) != 1 {
		v.bad(w, 400, "type %v, %d attachments", m["type"], len(atts))
		return
	}
	att, _ := atts[0].(map[string]any)
	card, _ := att["content"].(map[string]any)
	if att["contentType"] != "application/vnd.microsoft.card.adaptive" || card["type"] != "AdaptiveCard" {
		v.bad(w, 400, "attachment %v", att["contentType"])
		return
	}
	if ver, _ := str(card, "version"); ver == "" {
		v.bad(w, 400, "card version missing")
		return
	}
	body, _ := card["body"].([]any)
	var text string
	for _, el := range body {
		e, _ := el.(map[string]any)
		switch e["type"] {
		case "TextBlock":
			s, _ := str(e, "text")
			if s == "" {
				v.bad(w, 400, "TextBlock without text")
				return
			}
			text += s + "\n"
		case "FactSet":
			facts, _ := e["facts"].([]any)
			for _, f := range facts {
				fm, _ := f.(map[string]any)
				if _, ok := str(fm, "title"); !ok {
					v.bad(w, 400, "fact without title")
					return
				}
				if _, ok := str(fm, "value"); !ok {
					v.bad(w, 400, "fact without value")
					return
				}
				text += fmt.Sprintf("%s: %s\n", fm["title"], fm["value"])
			}
		default:
			v.bad(w, 400, "card element %v", e["type"])
			return
		}
	}
	v.requests = append(v.requests, text)
	w.WriteHeader(http.StatusAccepted)
}

// TestOnCallChannels pages an OpsItem through PagerDuty, Opsgenie and
// Teams as a rule does, on each driver, then acknowledges, resolves and
// re-opens it as a person does (opsitem.Apply, which the service layer
// calls): each step reaches the incidents, under one key per OpsItem,
// and is on the OpsItem's timeline and in the audit log. A rule firing
// again for the OpsItem (it flaps) joins the open incident. A refused key
// is recorded once and not retried.
func TestOnCallChannels(t *testing.T) {
	for name, open := range drivers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testOnCall(t, open(t))
		})
	}
}

func testOnCall(t *testing.T, st store.Store) {
	ctx := context.Background()
	pd, og, teams, wrong := newVendor(t, "R0UT1NGKEY0123456789abcdefABCDEF"), newVendor(t, "eb243592-faa2-4ba2-a551q-1afdf565c889"),
		newVendor(t, ""), newVendor(t, "the-right-key")
	env := map[string]string{"FLYWHEEL_PD_KEY": pd.key, "FLYWHEEL_OG_KEY": og.key, "FLYWHEEL_WRONG_KEY": "not-the-key"}
	for _, s := range []struct {
		env string
		h   http.HandlerFunc
	}{{"FLYWHEEL_PD_URL", pd.pagerDuty}, {"FLYWHEEL_OG_URL", og.opsgenie}, {"FLYWHEEL_TEAMS_URL", teams.teams}, {"FLYWHEEL_WRONG_URL", wrong.opsgenie}} {
		srv := httptest.NewServer(s.h)
		t.Cleanup(srv.Close)
		env[s.env] = srv.URL
	}
	// PagerDuty's url is the whole events address; Opsgenie's the API's base.
	env["FLYWHEEL_PD_URL"] += "/v2/enqueue"
	settings := config.Notifications{Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Attempts: 3,
		Channels: map[string]config.Channel{
			"pd":    {Type: "pagerduty", URLEnv: "FLYWHEEL_PD_URL", RoutingKeyEnv: "FLYWHEEL_PD_KEY"},
			"og":    {Type: "opsgenie", URLEnv: "FLYWHEEL_OG_URL", APIKeyEnv: "FLYWHEEL_OG_KEY", Region: "eu"},
			"teams": {Type: "teams", URLEnv: "FLYWHEEL_TEAMS_URL"},
			"wrong": {Type: "opsgenie", URLEnv: "FLYWHEEL_WRONG_URL", APIKeyEnv: "FLYWHEEL_WRONG_KEY"},
		}}.WithDefaults()
	if errs := settings.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	channels, err := notification.Build(settings, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return time.Now().UTC() }
	svc := notification.New(notification.Options{Store: st, Channels: channels, Settings: settings, Outbound: loopback,
		Logger: slog.New(slog.DiscardHandler), Clock: clock, SyncEvery: 50 * time.Millisecond})
	q, err := jobs.New(ctx, st, jobs.Options{PollInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Register(q); err != nil {
		t.Fatal(err)
	}
	now := clock()
	item := store.OpsItem{ID: "oi_db1", TenantID: tenant, Title: "PostgreSQL connections near max on db-1", Severity: "critical",
		Category: "service", Status: "open", Source: "alertmanager", CreatedAt: now, UpdatedAt: now}
	notifyAll := func(chans ...string) {
		t.Helper()
		if err := st.InTx(ctx, func(tx store.Tx) error {
			for _, ch := range chans {
				if err := svc.Enqueue(ctx, tx, notification.Request{Tenant: tenant, OpsItemID: item.ID, Rule: "page-dba", Channel: ch,
					Message: "98 of 100 connections in use"}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "Acme", CreatedAt: now}); err != nil {
			return err
		}
		return tx.CreateOpsItem(ctx, item)
	}); err != nil {
		t.Fatal(err)
	}
	notifyAll("pd", "og", "teams", "wrong")
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(context.Background()) })

	const key = "flywheel/acme/oi_db1"
	waitFor(t, "paged everywhere", func() bool {
		return len(pd.log()) == 1 && len(og.log()) == 1 && len(teams.log()) == 1 && len(wrong.log()) == 1
	})
	// The rule fires again while the OpsItem flaps: the same incident.
	notifyAll("pd", "og")
	waitFor(t, "second trigger", func() bool { return len(pd.log()) == 2 && len(og.log()) == 2 })
	for _, v := range []*vendor{pd, og} {
		if s, n := v.stateOf(key); s != "triggered" || n != 1 {
			t.Errorf("after two triggers: incident %s, %d incidents; log %v", s, n, v.log())
		}
	}
	if card := teams.log()[0]; !strings.Contains(card, "[critical] PostgreSQL connections near max on db-1") ||
		!strings.Contains(card, "98 of 100 connections in use") || !strings.Contains(card, "OpsItem: oi_db1") {
		t.Errorf("teams card text %q", card)
	}

	apply := func(a opsitem.Action) {
		t.Helper()
		if err := st.InTx(ctx, func(tx store.Tx) error {
			_, _, err := opsitem.Apply(ctx, tx, tenant, item.ID, a, clock())
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	apply(opsitem.Action{Kind: opsitem.Acknowledge, Actor: "token:tok_ana"})
	waitFor(t, "acknowledged", func() bool {
		a, _ := pd.stateOf(key)
		b, _ := og.stateOf(key)
		return a == "acknowledged" && b == "acknowledged"
	})
	apply(opsitem.Action{Kind: opsitem.Resolve, Actor: "token:tok_ana", Text: "killed the runaway pool"})
	waitFor(t, "resolved", func() bool {
		a, _ := pd.stateOf(key)
		b, _ := og.stateOf(key)
		return a == "resolved" && b == "resolved"
	})
	// Open again: a new incident under the same key.
	apply(opsitem.Action{Kind: opsitem.SetStatus, Status: opsitem.StatusOpen, Actor: "token:tok_ana"})
	waitFor(t, "re-opened", func() bool {
		a, n := pd.stateOf(key)
		return a == "triggered" && n == 2
	})
	// Still acknowledged (by Ana): triggered, then acknowledged again.
	waitFor(t, "re-acknowledged", func() bool {
		a, _ := pd.stateOf(key)
		b, _ := og.stateOf(key)
		return a == "acknowledged" && b == "acknowledged"
	})
	want := []string{"trigger " + key, "trigger " + key, "acknowledge " + key, "resolve " + key, "trigger " + key, "acknowledge " + key}
	if got := pd.log(); !slices.Equal(got, want) {
		t.Errorf("pagerduty got %v, want %v", got, want)
	}
	if got := og.log(); !slices.Equal(got, want) {
		t.Errorf("opsgenie got %v, want %v", got, want)
	}
	// The wrong key: refused once (a 401 is not retried), the sync then
	// leaves it alone.
	time.Sleep(300 * time.Millisecond)
	if got := wrong.log(); len(got) != 1 || got[0] != "unauthorized" {
		t.Errorf("wrong key: %v", got)
	}

	tl, err := st.ListTimeline(ctx, tenant, item.ID)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range tl {
		if e.Kind == "notification" {
			msgs = append(msgs, e.Message)
		}
	}
	joined := strings.Join(msgs, "\n")
	for _, w := range []string{"Notified pd (pagerduty) for rule page-dba", "Notified teams (teams) for rule page-dba",
		"Acknowledged the incident in pd (pagerduty)", "Resolved the incident in og (opsgenie)", "Re-opened the incident in pd (pagerduty)",
		"Notification to wrong (opsgenie) for rule page-dba refused, not retried"} {
		if !strings.Contains(joined, w) {
			t.Errorf("timeline lacks %q:\n%s", w, joined)
		}
	}
	if strings.Contains(joined, "not-the-key") || strings.Contains(joined, pd.key) {
		t.Error("a key reached the timeline")
	}
	recs, _, err := st.ListAudit(ctx, tenant, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	synced := 0
	for _, r := range recs {
		if r.Action == "notification.synced" {
			synced++
		}
	}
	if synced != 8 {
		t.Errorf("%d notification.synced audit records, want 8 (acknowledge, resolve, re-open, acknowledge on two channels)", synced)
	}
	pages, err := st.ListOnCallPages(ctx, tenant, item.ID)
	if err != nil || len(pages) != 2 || pages[0].Channel != "og" || pages[0].State != store.OnCallAcknowledged || pages[1].DedupKey != key {
		t.Errorf("pages %+v, %v", pages, err)
	}
}
