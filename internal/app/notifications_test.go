package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
)

// posts is an HTTP receiver keeping the JSON bodies posted to it; the
// first body failOnce matches is answered 500, the others 200.
type posts struct {
	mu       sync.Mutex
	bodies   []map[string]any
	failOnce func(body map[string]any) bool
	failed   bool
}

func (p *posts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	p.mu.Lock()
	p.bodies = append(p.bodies, body)
	fail := !p.failed && p.failOnce != nil && p.failOnce(body)
	p.failed = p.failed || fail
	p.mu.Unlock()
	if fail {
		http.Error(w, "upstream hiccup", http.StatusInternalServerError)
	}
}

func (p *posts) all() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.bodies...)
}

// mailSink is an SMTP server that takes AUTH PLAIN and keeps each
// message.
type mailSink struct {
	ln         net.Listener
	user, pass string
	mails      chan sunkMail
}

type sunkMail struct {
	authed bool
	from   string
	to     []string
	data   []byte
}

func startMailSink(t *testing.T, user, pass string) *mailSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &mailSink{ln: ln, user: user, pass: pass, mails: make(chan sunkMail, 8)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.session(conn)
		}
	}()
	return s
}

func (s *mailSink) session(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(conn)
	var m sunkMail
	_ = tp.PrintfLine("220 sink.test ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(cmd) {
		case "EHLO":
			_ = tp.PrintfLine("250-sink.test")
			_ = tp.PrintfLine("250 AUTH PLAIN")
		case "AUTH":
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(arg, "PLAIN "))
			if string(raw) != "\x00"+s.user+"\x00"+s.pass {
				_ = tp.PrintfLine("535 5.7.8 bad credentials")
				continue
			}
			m.authed = true
			_ = tp.PrintfLine("235 2.7.0 accepted")
		case "MAIL":
			m.from = strings.Trim(strings.TrimPrefix(arg, "FROM:"), "<>")
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			m.to = append(m.to, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			if m.data, err = tp.ReadDotBytes(); err != nil {
				return
			}
			s.mails <- m
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not here")
		}
	}
}

// docsFile writes the block of docs/notifications.md that starts with
// "# name" to dir/name.
func docsFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/notifications.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.Split(string(b), "```")[1:] {
		if _, body, _ := strings.Cut(part, "\n"); strings.HasPrefix(body, "# "+name+"\n") {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatalf("docs/notifications.md has no block # %s", name)
	return ""
}

const notifyRules = `apiVersion: flywheel/v1
kind: Rule
metadata: {name: tell-oncall}
spec:
  when: event.labels[?"alertname"].orValue("") == "WebDown"
  then:
    notify: {channel: oncall}
---
apiVersion: flywheel/v1
kind: Rule
metadata: {name: mail-dba}
spec:
  when: event.labels[?"alertname"].orValue("") == "WebDown"
  then:
    notify: {channel: dba-oncall, message: '"mail: " + opsitem.title'}
---
apiVersion: flywheel/v1
kind: Rule
metadata: {name: escalate-web}
spec:
  when: event.labels[?"alertname"].orValue("") == "WebDown"
  then:
    runbook: notify-escalate
    mode: auto
    parameters:
      channel: '"oncall"'
      reason: '"web is down"'
`

// TestRuleNotificationsDelivered: an alert through the pipeline fires the
// docs page's rule and three more; the server, configured with the docs
// page's flywheel.yaml (its secrets from the environment), delivers each
// notification — Slack, a webhook that fails once and is retried, email
// with SMTP authentication — and notify-escalate sends through a named
// channel. Outcomes are on the OpsItem's timeline and in the audit log;
// no secret is in the logs, the API or the audit log.
func TestRuleNotificationsDelivered(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) { testRuleNotificationsDelivered(t, appDB(t, driver)) })
	}
}

// appDB returns the --db of a fresh store for driver: "" (SQLite in the
// data directory), or a PostgreSQL database of its own, dropped at cleanup
// (the server uses the default schema, so tests cannot share one
// database).
func appDB(t *testing.T, driver string) string {
	t.Helper()
	if driver == "sqlite" {
		return ""
	}
	return postgres.TestDatabase(t)
}

func testRuleNotificationsDelivered(t *testing.T, db string) {
	slack := &posts{}
	// The rule's post fails once; notify-escalate's (which may come
	// first) does not.
	oncall := &posts{failOnce: func(body map[string]any) bool { return body["kind"] == "flywheel.notification" }}
	slackSrv, oncallSrv := httptest.NewServer(slack), httptest.NewServer(oncall)
	t.Cleanup(slackSrv.Close)
	t.Cleanup(oncallSrv.Close)
	smtp := startMailSink(t, "flywheel", "smtp-pa55-S3CRET")
	t.Setenv("FLYWHEEL_OPS_SLACK_URL", slackSrv.URL+"/services/T0/B0/SLACK-S3CRET")
	t.Setenv("FLYWHEEL_SECURITY_SLACK_URL", slackSrv.URL+"/services/T0/B1/SECURITY-S3CRET")
	t.Setenv("FLYWHEEL_SMTP_PASSWORD", "smtp-pa55-S3CRET")

	var cfg config.Config
	if err := cfg.LoadFile(docsFile(t, t.TempDir(), "flywheel.yaml")); err != nil {
		t.Fatal(err)
	}
	// The page's channels, pointed at this test's receivers.
	n := &cfg.Notifications
	n.Backoff, n.MaxBackoff = 100*time.Millisecond, time.Second
	oc := n.Channels["oncall"]
	oc.URL = oncallSrv.URL + "/hooks/ONCALL-S3CRET"
	n.Channels["oncall"] = oc
	dba := n.Channels["dba-oncall"]
	dba.Host, dba.Port, dba.RequireTLS = "127.0.0.1", smtp.ln.Addr().(*net.TCPAddr).Port, false
	n.Channels["dba-oncall"] = dba

	contentDir := t.TempDir()
	docsFile(t, contentDir, "ops/rules/page-web.yaml")
	if err := os.WriteFile(filepath.Join(contentDir, "ops", "rules", "more.yaml"), []byte(notifyRules), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg.DataDir, cfg.Addr, cfg.ContentDir, cfg.DB = dir, "127.0.0.1:0", contentDir, db
	// The receivers are on 127.0.0.1, which the outbound guard refuses
	// unless allow-listed.
	cfg.OutboundAllow = []string{"127.0.0.1"}
	logs := &syncBuffer{}
	a, err := New(context.Background(), Options{Config: cfg, Out: &bytes.Buffer{},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	tok, err := os.ReadFile(filepath.Join(dir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	c := client.New("http://"+a.Addr(), token)
	ctx := context.Background()

	labels := map[string]string{"alertname": "WebDown", "instance": "web-03:443", "severity": "critical"}
	body := map[string]any{"version": "4", "receiver": "flywheel", "status": "firing", "groupKey": `{}:{alertname="WebDown"}`,
		"groupLabels": map[string]string{"alertname": "WebDown"}, "commonLabels": labels, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager:9093", "alerts": []any{map[string]any{"status": "firing", "labels": labels,
			"annotations": map[string]string{"summary": "web-03 answers no requests"}, "fingerprint": "0a0b0c0d0e0f0001",
			"startsAt": "2026-03-10T14:02:17Z", "endsAt": "0001-01-01T00:00:00Z"}}}
	if err := c.Do(ctx, "POST", "/api/v1/intake/alertmanager", body, nil); err != nil {
		t.Fatal(err)
	}
	item := waitOpsItems(t, c, "", 1)[0]

	var mailed sunkMail
	select {
	case mailed = <-smtp.mails:
	case <-time.After(60 * time.Second):
		t.Fatal("no mail within 60s")
	}
	waitFor(t, 60*time.Second, "slack and the webhook (twice) and notify-escalate's post", func() bool {
		return len(slack.all()) >= 1 && len(oncall.all()) >= 3
	})
	var rel struct{ Timeline []store.TimelineEntry }
	waitFor(t, 60*time.Second, "three notification outcomes on the timeline", func() bool {
		if err := c.Do(ctx, "GET", "/api/v1/opsitems/"+item.ID+"/related", nil, &rel); err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, e := range rel.Timeline {
			if e.Kind == "notification" {
				k++
			}
		}
		return k == 3
	})

	// Slack: the docs page's rule, its message, the OpsItem.
	s := slack.all()
	if len(s) != 1 || s[0]["text"] != fmt.Sprintf("*[%s] %s*\nweb is down: %s\nOpsItem %s · rule page-web", item.Severity, item.Title, item.Title, item.ID) {
		t.Errorf("slack got %v", s)
	}
	// The webhook: the rule's payload twice (500, then 200, same id), and
	// notify-escalate's step through the same named channel.
	var rulePosts, stepPosts []map[string]any
	for _, b := range oncall.all() {
		if b["kind"] == "flywheel.notification" {
			rulePosts = append(rulePosts, b)
		} else {
			stepPosts = append(stepPosts, b)
		}
	}
	if len(rulePosts) != 2 || rulePosts[0]["id"] != rulePosts[1]["id"] || rulePosts[1]["rule"] != "tell-oncall" || rulePosts[1]["message"] != item.Title {
		t.Errorf("rule posts to oncall: %v", rulePosts)
	}
	if len(stepPosts) != 1 || !strings.Contains(fmt.Sprint(stepPosts[0]["text"]), "web is down (OpsItem "+item.ID+")") {
		t.Errorf("notify-escalate's posts to oncall: %v", stepPosts)
	}
	// Email: authenticated, to the channel's recipients.
	msg, err := mail.ReadMessage(bytes.NewReader(mailed.data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if !mailed.authed || mailed.from != "flywheel@example.com" || strings.Join(mailed.to, ",") != "dba-oncall@example.com,dba-lead@example.com" ||
		subject != fmt.Sprintf("[Flywheel] [%s] %s", item.Severity, item.Title) {
		t.Errorf("mail %+v, subject %q", mailed, subject)
	}

	var timeline []string
	for _, e := range rel.Timeline {
		if e.Kind == "notification" {
			timeline = append(timeline, e.Actor+": "+e.Message)
		}
	}
	for _, want := range []string{
		"rule:page-web: Notified ops-slack (slack) for rule page-web",
		"rule:tell-oncall: Notified oncall (webhook) for rule tell-oncall after 2 attempts",
		"rule:mail-dba: Notified dba-oncall (email) for rule mail-dba",
	} {
		if !strings.Contains(strings.Join(timeline, "\n"), want) {
			t.Errorf("timeline lacks %q:\n%s", want, strings.Join(timeline, "\n"))
		}
	}

	// No secret anywhere a person or a log reader sees.
	raw := func(path string) string {
		req, _ := http.NewRequest("GET", "http://"+a.Addr()+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	audit := raw("/api/v1/audit?limit=500")
	if strings.Count(audit, "notification.delivered") != 3 {
		t.Errorf("audit log has %d notification.delivered records, want 3", strings.Count(audit, "notification.delivered"))
	}
	for what, text := range map[string]string{
		"logs": logs.String(), "audit": audit, "opsitem": raw("/api/v1/opsitems/" + item.ID + "/related"),
		"executions": raw("/api/v1/executions"),
	} {
		if strings.Contains(text, "S3CRET") {
			t.Errorf("%s hold a secret:\n%s", what, text)
		}
	}
	if !strings.Contains(logs.String(), "rule notification not delivered; retrying") {
		t.Error("the retry is not in the logs")
	}
	metrics := raw("/metrics")
	for _, want := range []string{
		`flywheel_notifications_total{channel="oncall",outcome="delivered"} 1`,
		`flywheel_notification_retries_total{channel="oncall"} 1`,
		`flywheel_notifications_total{channel="security",outcome="delivered"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestUnknownNotificationChannelStopsStart: a content rule naming a
// channel the server does not have is refused with its file and line.
func TestUnknownNotificationChannelStopsStart(t *testing.T) {
	t.Parallel()
	contentDir := t.TempDir()
	rule := "apiVersion: flywheel/v1\nkind: Rule\nmetadata: {name: page}\nspec:\n  when: \"true\"\n  then:\n    notify: {channel: ops-slak}\n"
	if err := os.WriteFile(filepath.Join(contentDir, "page.yaml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{DataDir: t.TempDir(), ContentDir: contentDir, Notifications: config.Notifications{
		Channels: map[string]config.Channel{"ops-slack": {Type: "slack", URL: "https://hooks.example.com/x"}}}}
	_, err := New(context.Background(), Options{Config: cfg, Out: &bytes.Buffer{}})
	want := contentDir + `/page.yaml:1: Rule "page": spec.then.notify.channel: "ops-slak" is not a notification channel configured on this server (configured: ops-slack)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("New: %v\nwant %s", err, want)
	}
}
