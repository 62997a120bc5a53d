package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// seedFlywheel gives acme a month of outcomes: OpsItems resolved by hand
// (with time in hand), by automation and by the pipeline, one open, and
// noise counts; globex a different set, so a mix-up shows.
func seedFlywheel(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx store.Tx) error {
		for i := range 24 {
			tenant, cat, by := "acme", "monitoring", "token:tok_a"
			switch {
			case i%4 == 1:
				by = "automation:rule:disk-cleanup"
			case i%4 == 2:
				cat, by = "security", "system:pipeline"
			case i%7 == 3:
				tenant = "globex"
			}
			created := e.now.Add(-time.Duration(i+1) * 26 * time.Hour)
			resolved := created.Add(time.Duration(i+1) * 7 * time.Minute)
			o := store.OpsItem{ID: store.NewID("oi", created), TenantID: tenant, Title: fmt.Sprintf("Disk almost full on web-%02d", i), Category: cat,
				Severity: "high", Status: "resolved", Source: "api", CreatedAt: created, UpdatedAt: resolved, ResolvedAt: &resolved, ResolvedBy: by}
			if by == "token:tok_a" {
				o.HumanSeconds = int64(i+1) * 240
			}
			if i == 5 {
				o.Status, o.ResolvedAt, o.ResolvedBy = "open", nil, ""
			}
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			if by == "automation:rule:disk-cleanup" || i == 6 {
				// The rule's run: verified where it resolved the OpsItem,
				// ineffective on one the pipeline resolved.
				status := "succeeded"
				if i == 6 {
					status = "ineffective"
				}
				if err := tx.CreateExecution(ctx, store.Execution{ID: store.NewID("ex", created), TenantID: tenant, Runbook: "disk-cleanup", Status: status,
					OpsItemID: o.ID, Rule: "disk-cleanup", StartedBy: "rule:disk-cleanup", CreatedAt: created, UpdatedAt: resolved}); err != nil {
					return err
				}
			}
			if err := tx.AddNoise(ctx, store.NoiseBucket{TenantID: tenant, Minute: created.Truncate(time.Minute), Received: int64(10 + i), Opened: 1,
				Suppressed: map[string]int64{"silence": 2}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var (
	figureRE = regexp.MustCompile(`<data class="num" id="fig-([a-z-]+)" value="([^"]*)">`)
	p90RE    = regexp.MustCompile(`<data id="fig-ttr-p90" value="([^"]*)">`)
	periodRE = regexp.MustCompile(`<time id="from" datetime="([^"]+)">.*<time id="to" datetime="([^"]+)">`)
	areaRE   = regexp.MustCompile(`(?s)<tr data-area="([a-z]+)">(.*?)</tr>`)
	valueRE  = regexp.MustCompile(`<data value="([^"]*)">`)
)

// TestDashboardMatchesAPI reads the figures off the dashboard page and
// compares them with GET /api/v1/stats/flywheel for the same period.
func TestDashboardMatchesAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedFlywheel(t, e)
	apiSrv := api.New(api.Options{Store: e.st, Clock: func() time.Time { return e.now }})

	for _, period := range []string{"1d", "7d", "30d", "90d"} {
		page := e.get("/dashboard?period="+period, e.acme)
		wantStatus(t, page, http.StatusOK)
		m := periodRE.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("%s: no period on the page", period)
		}
		req := httptest.NewRequest("GET", "/api/v1/stats/flywheel?from="+m[1]+"&to="+m[2], nil)
		req.Header.Set("Authorization", "Bearer "+e.acme)
		rec := httptest.NewRecorder()
		apiSrv.ServeHTTP(rec, req)
		var st api.FlywheelStats
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &st) != nil {
			t.Fatalf("API: %d %s", rec.Code, rec.Body)
		}
		want := map[string]float64{
			"received": float64(st.Received), "noise-reduction": st.NoiseReduction, "opened": float64(st.Opened),
			"automation-share": st.AutomationShare, "ttr-median": float64(st.TimeToResolve.MedianSeconds),
			"human-minutes": st.HumanMinutes, "hours-saved": st.HumanHoursSaved,
			"verified-runs": float64(st.VerifiedRuns), "credited": float64(st.ResolvedByAutomation),
		}
		got := map[string]float64{}
		for _, f := range figureRE.FindAllStringSubmatch(page.body, -1) {
			got[f[1]] = parseFloat(t, f[2])
		}
		if p := p90RE.FindStringSubmatch(page.body); p != nil {
			got["ttr-p90"] = parseFloat(t, p[1])
		}
		want["ttr-p90"] = float64(st.TimeToResolve.P90Seconds)
		for _, sub := range []struct {
			id string
			v  int64
		}{{"ineffective-runs", st.IneffectiveRuns}, {"credit-withheld", st.CreditWithheld}} {
			if m := regexp.MustCompile(`<data id="fig-` + sub.id + `" value="([^"]*)">`).FindStringSubmatch(page.body); m != nil {
				got[sub.id] = parseFloat(t, m[1])
			}
			want[sub.id] = float64(sub.v)
		}
		if st.TimeToResolve.Count == 0 {
			// Nothing resolved: the page says so instead of "0 s".
			if _, shown := got["ttr-median"]; shown || !strings.Contains(page.body, `id="fig-ttr-none"`) {
				t.Errorf("%s: nothing resolved, but the page shows no note or a time to resolve", period)
			}
			delete(want, "ttr-median")
			delete(want, "ttr-p90")
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || g != w {
				t.Errorf("%s: page %s = %v (shown: %v), API %v", period, k, g, ok, w)
			}
		}
		areas := areaRE.FindAllStringSubmatch(page.body, -1)
		if len(areas) != len(st.Areas) {
			t.Fatalf("%s: page shows %d areas, API %d", period, len(areas), len(st.Areas))
		}
		for i, a := range st.Areas {
			vals := valueRE.FindAllStringSubmatch(areas[i][2], -1)
			wantVals := []float64{float64(a.Opened), float64(a.Resolved), a.AutomationShare, float64(a.TimeToResolve.MedianSeconds), a.HumanMinutes, a.HumanHoursSaved}
			if areas[i][1] != a.Category || len(vals) != len(wantVals) {
				t.Fatalf("%s: area row %d is %s with %d figures, API %s", period, i, areas[i][1], len(vals), a.Category)
			}
			for j, w := range wantVals {
				if g := parseFloat(t, vals[j][1]); g != w {
					t.Errorf("%s: area %s figure %d: page %v, API %v", period, a.Category, j, g, w)
				}
			}
		}
		if period == "30d" && (st.Received == 0 || st.ResolvedByAutomation == 0 || st.HumanMinutes == 0 || st.HumanHoursSaved == 0 ||
			st.VerifiedRuns == 0 || st.IneffectiveRuns != 1) {
			t.Errorf("30d: the seed should give every figure a value: %+v", st.Outcomes)
		}
	}

	// The charts are accessible and backed by tables.
	page := e.get("/dashboard?period=30d", e.acme)
	wantContains(t, page, `<svg role="img" aria-labelledby="trend-events-t trend-events-d"`, `<title id="trend-events-t">Events received and OpsItems opened</title>`,
		`<summary>Events received and OpsItems opened as a table</summary>`, `<option value="30d" selected>`, `<rect class="received"`,
		`id="trend-noise"`, `id="trend-automation"`, `id="trend-hours"`, `id="trend-ttr"`, `id="trend-open"`)
	wantStatus(t, e.get("/dashboard?period=5y", e.acme), http.StatusBadRequest)
	wantStatus(t, e.get("/dashboard?tz=Mars/Olympus", e.acme), http.StatusBadRequest)
	wantContains(t, e.get("/dashboard?period=30d&tz=Europe/Berlin", e.acme), `in Europe/Berlin`)
	// A platform admin sees the chosen tenant's figures.
	admin := e.get("/dashboard?period=30d&tenant=globex", e.admin)
	wantStatus(t, admin, http.StatusOK)
	if g := figureRE.FindStringSubmatch(admin.body); g == nil || g[2] == figureRE.FindStringSubmatch(page.body)[2] {
		t.Errorf("globex's dashboard shows acme's events received")
	}
	wantStatus(t, e.get("/dashboard?tenant=globex", e.acme), http.StatusForbidden)
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("figure %q: %v", s, err)
	}
	return f
}
