package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const alertName = "FlywheelE2EDown"

// rules is the Prometheus rule file: the alert fires while the test's
// target reports its condition as 1.
const rules = `groups:
  - name: flywheel-e2e
    rules:
      - alert: ` + alertName + `
        expr: flywheel_e2e_condition == 1
        for: 0s
        labels:
          severity: critical
        annotations:
          summary: The end-to-end test's condition is set.
`

// condition is a scrape target whose one metric the test sets.
type condition struct {
	addr    string
	value   atomic.Int32
	scrapes atomic.Int64
}

func newCondition(t *testing.T) *condition {
	c := &condition{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.scrapes.Add(1)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# HELP flywheel_e2e_condition 1 while the test wants the alert to fire.\n"+
			"# TYPE flywheel_e2e_condition gauge\nflywheel_e2e_condition %d\n", c.value.Load())
	}))
	t.Cleanup(srv.Close)
	c.addr = srv.Listener.Addr().String()
	return c
}

// startPrometheus runs Prometheus scraping target every second, evaluating
// the rule every second, and sending alerts as alerting says. It returns
// once Prometheus is ready and has discovered where to send alerts.
func startPrometheus(t *testing.T, bin, target string, alerting map[string]any, deadline time.Time) *proc {
	t.Helper()
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yml")
	writeYAML(t, rulesPath, yamlMap(t, rules))
	cfg := map[string]any{
		"global":         map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"},
		"rule_files":     []string{rulesPath},
		"scrape_configs": []any{map[string]any{"job_name": "flywheel-e2e", "static_configs": []any{map[string]any{"targets": []string{target}}}}},
	}
	for k, v := range alerting {
		cfg[k] = v
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	writeYAML(t, cfgPath, cfg)
	addr := freeAddr(t)
	p := startProc(t, "prometheus", addr, bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=debug")
	waitReady(t, p, "/-/ready", deadline)
	// Prometheus marks an alert as sent even when the send failed, and
	// re-sends only a minute later: do not fire before it knows where to send.
	poll(t, deadline, "Prometheus to discover its alertmanager", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/api/v1/alertmanagers")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Active []struct{ URL string } `json:"activeAlertmanagers"`
			}
		}
		json.NewDecoder(resp.Body).Decode(&r)
		return len(r.Data.Active) > 0, fmt.Sprintf("%+v", r.Data.Active)
	}, p)
	return p
}

// startAlertmanager runs Alertmanager with the given configuration.
func startAlertmanager(t *testing.T, bin string, cfg map[string]any, deadline time.Time) *proc {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	writeYAML(t, cfgPath, cfg)
	addr := freeAddr(t)
	p := startProc(t, "alertmanager", addr, bin, "--config.file="+cfgPath, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=debug")
	waitReady(t, p, "/-/ready", deadline)
	return p
}

// TestPrometheusAlertsOpenAndResolveOpsItems runs real Prometheus and
// Alertmanager against Flywheel, configured with the snippets of
// docs/intake.md, both ways the documentation describes: Prometheus →
// Alertmanager → webhook, and Prometheus → /api/v2/alerts. Each way, a rule
// fires and an OpsItem opens; the condition clears and the OpsItem resolves.
func TestPrometheusAlertsOpenAndResolveOpsItems(t *testing.T) {
	promBin := lookPath(t, "prometheus", "prometheus")
	amBin := lookPath(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	deadline := time.Now().Add(85 * time.Second) // the whole test, both ways in parallel

	t.Run("via-alertmanager", func(t *testing.T) {
		t.Parallel()
		fw := startFlywheel(t)
		tokenFile := fw.intakeTokenFile(t, "alertmanager")
		amCfg := yamlMap(t, substitute(t, docSnippet(t, "alertmanager"),
			"https://flywheel.example.com", "http://"+fw.addr,
			"/etc/alertmanager/flywheel-token", tokenFile))
		// Production timings would make a test wait minutes.
		route, _ := amCfg["route"].(map[string]any)
		if route == nil {
			t.Fatalf("documented Alertmanager snippet has no route: %v", amCfg)
		}
		route["group_wait"], route["group_interval"], route["repeat_interval"] = "1s", "1s", "1m"
		amCfg["global"] = map[string]any{"resolve_timeout": "1m"}
		am := startAlertmanager(t, amBin, amCfg, deadline)

		cond := newCondition(t)
		prom := startPrometheus(t, promBin, cond.addr, map[string]any{"alerting": map[string]any{
			"alertmanagers": []any{map[string]any{"api_version": "v2", "static_configs": []any{map[string]any{"targets": []string{am.addr}}}}},
		}}, deadline)
		fireAndClear(t, fw, cond, deadline, true, prom, am)
	})

	t.Run("direct", func(t *testing.T) {
		t.Parallel()
		fw := startFlywheel(t)
		tokenFile := fw.intakeTokenFile(t, "prometheus")
		alerting := yamlMap(t, substitute(t, docSnippet(t, "prometheus"),
			"scheme: https", "scheme: http",
			"flywheel.example.com", fw.addr,
			"/etc/prometheus/flywheel-token", tokenFile))
		cond := newCondition(t)
		prom := startPrometheus(t, promBin, cond.addr, alerting, deadline)
		fireAndClear(t, fw, cond, deadline, false, prom)
	})
}

// fireAndClear sets the condition, waits for the OpsItem, clears it and
// waits for the resolution. viaAM says which way the alerts should have come:
// as Alertmanager webhook notifications (whose stored payload names the
// receiver) or as Prometheus's own alerts (which have no receiver).
func fireAndClear(t *testing.T, fw *flywheel, cond *condition, deadline time.Time, viaAM bool, peers ...*proc) {
	t.Helper()
	ctx := context.Background()
	peers = append(peers, &proc{name: "flywheel", out: fw.log})
	poll(t, deadline, "Prometheus to scrape the target", func() (bool, string) {
		return cond.scrapes.Load() >= 2, fmt.Sprint(cond.scrapes.Load(), " scrapes")
	}, peers...)

	fired := time.Now()
	cond.value.Store(1)
	var item store.OpsItem
	poll(t, earlier(deadline, fired.Add(60*time.Second)), "an open OpsItem for "+alertName, func() (bool, string) {
		var page api.List[store.OpsItem]
		if err := fw.admin.Do(ctx, "GET", "/api/v1/opsitems?q="+alertName, nil, &page); err != nil {
			return false, err.Error()
		}
		for _, o := range page.Items {
			if o.Title == alertName {
				item = o
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", page.Items)
	}, peers...)
	opened := time.Since(fired)
	if item.Status != "open" || item.Category != "monitoring" || item.Severity != "critical" || item.Source != "alertmanager" {
		t.Errorf("OpsItem = status %q, category %q, severity %q, source %q; want open, monitoring, critical, alertmanager",
			item.Status, item.Category, item.Severity, item.Source)
	}
	var rel api.Related
	if err := fw.admin.Do(ctx, "GET", "/api/v1/opsitems/"+item.ID+"/related", nil, &rel); err != nil {
		t.Fatal(err)
	}
	// The target listens on loopback: its host reference keeps the port,
	// which is what tells the host (see fleet.ResolveHost).
	host := cond.addr
	if len(rel.Resources) == 0 || rel.Resources[0] != (store.OpsItemResource{Type: "host", ID: host}) {
		t.Errorf("OpsItem resources = %+v, want the target's host %s", rel.Resources, host)
	}

	cleared := time.Now()
	cond.value.Store(0)
	poll(t, earlier(deadline, cleared.Add(60*time.Second)), "OpsItem "+item.ID+" to resolve", func() (bool, string) {
		if err := fw.admin.Do(ctx, "GET", "/api/v1/opsitems/"+item.ID, nil, &item); err != nil {
			return false, err.Error()
		}
		return item.Status == "resolved", item.Status
	}, peers...)
	resolved := time.Since(cleared)
	if item.ResolvedBy != "system:pipeline" || item.ResolvedAt == nil {
		t.Errorf("resolved by %q at %v, want system:pipeline", item.ResolvedBy, item.ResolvedAt)
	}

	for decision, status := range map[string]string{"opened": "firing", "resolved": "resolved"} {
		var evs api.List[store.Event]
		q := url.Values{"decision": {decision}, "opsitem": {item.ID}}
		if err := fw.admin.Do(ctx, "GET", "/api/v1/events?"+q.Encode(), nil, &evs); err != nil {
			t.Fatal(err)
		}
		if len(evs.Items) != 1 {
			t.Errorf("events decided %q for %s: %d, want 1: %+v", decision, item.ID, len(evs.Items), evs.Items)
			continue
		}
		e := evs.Items[0]
		if e.Source != "alertmanager" || e.Title != alertName || e.Status != status || e.Severity != "critical" ||
			e.ResourceKey != host || e.Labels["instance"] != cond.addr || e.Labels["job"] != "flywheel-e2e" {
			t.Errorf("%s event = %+v", decision, e)
		}
		// The list carries no raw payloads; each is read on its own.
		var raw json.RawMessage
		if err := fw.admin.Do(ctx, "GET", "/api/v1/events/"+e.ID+"/raw", nil, &raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), `"receiver":"flywheel"`) != viaAM {
			t.Errorf("%s event did not come the expected way (via Alertmanager: %v): %s", decision, viaAM, raw)
		}
	}
	t.Logf("OpsItem %s opened %v after the condition was set, resolved %v after it cleared",
		item.ID, opened.Round(time.Millisecond), resolved.Round(time.Millisecond))
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
