package service_test

// The same refused operation through both doors: the API (JSON) and the
// UI (a form post) on one store must answer with the same error text, as
// both call the service: silences, maintenance windows, OpsItem notes,
// runbook runs, tokens and tenants. The inputs are the API's documented refusals
// (docs/api.md's limits, opsitem's note rules, a parameter of the wrong
// type), written here, not taken from the code under test.

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
	"github.com/flywheel-ops/flywheel/internal/web"
)

const doorRunbooks = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: check-host}
spec:
  parameters: [{name: level, type: int, default: 1}]
  steps:
    - {name: look, action: noop}
`

type noop struct{}

func (noop) Name() string                  { return "noop" }
func (noop) Validate(map[string]any) error { return nil }
func (noop) Run(context.Context, action.Input) (action.Output, error) {
	return action.Output{}, nil
}

// dropQueue drops jobs: these runs are refused before any is enqueued.
type dropQueue struct{}

func (dropQueue) InsertTx(context.Context, store.Tx, river.JobArgs, *river.InsertOpts) error {
	return nil
}

// doors is one store behind the API and the UI, with an operator token.
type doors struct {
	t        *testing.T
	api, ui  *httptest.Server
	secret   string
	uiClient *http.Client
	csrf     string
	opsItem  string
}

func newDoors(t *testing.T) *doors {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	now := time.Now().UTC().Truncate(time.Second)
	d := &doors{t: t}
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", CreatedAt: now}); err != nil {
			return err
		}
		var err error
		_, d.secret, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "op", Role: store.RoleAdmin, PlatformAdmin: true}, now)
		if err != nil {
			return err
		}
		d.opsItem = store.NewID("oi", now)
		return tx.CreateOpsItem(ctx, store.OpsItem{ID: d.opsItem, TenantID: "acme", Title: "Disk full", Category: "operations",
			Severity: "high", Status: "open", Source: "manual", CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) (action.Action, bool) { return noop{}, name == "noop" }
	reg := content.NewRegistry()
	reg.Register(runbook.Kind(lookup))
	set, err := content.Load(reg, content.Source{Name: "test", FS: fstest.MapFS{"rb.yaml": {Data: []byte(doorRunbooks)}}})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := runbook.NewLibrary(set, lookup)
	if err != nil {
		t.Fatal(err)
	}
	x, err := execution.New(execution.Options{Store: st, Queue: dropQueue{}, Runbooks: lib, Actions: lookup, LeaseTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d.api = httptest.NewServer(api.New(api.Options{Store: st, Runbooks: x}))
	t.Cleanup(d.api.Close)
	h, err := web.New(web.Options{Store: st, Runbooks: x})
	if err != nil {
		t.Fatal(err)
	}
	d.ui = httptest.NewServer(h)
	t.Cleanup(d.ui.Close)
	d.login()
	return d
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs into the UI with the operator's token through the login form
// and keeps the session's form token.
func (d *doors) login() {
	d.t.Helper()
	jar, _ := cookiejar.New(nil)
	d.uiClient = &http.Client{Jar: jar}
	page := d.uiGet("/login")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		d.t.Fatalf("no CSRF field on the login page:\n%s", page)
	}
	res, err := d.uiClient.PostForm(d.ui.URL+"/login", url.Values{"csrf": {m[1]}, "token": {d.secret}, "next": {"/silences"}})
	if err != nil {
		d.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if m = csrfInput.FindStringSubmatch(string(body)); m == nil {
		d.t.Fatalf("login: %d, no form on the page after it:\n%s", res.StatusCode, body)
	}
	d.csrf = html.UnescapeString(m[1])
}

func (d *doors) uiGet(path string) string {
	d.t.Helper()
	res, err := d.uiClient.Get(d.ui.URL + path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// viaAPI sends body as JSON and returns the status and error message.
func (d *doors) viaAPI(method, path string, body any) (int, string) {
	d.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, d.api.URL+path, strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+d.secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Error struct{ Message string }
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &env); err != nil {
		d.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, env.Error.Message
}

// viaUI posts form and returns the status and the page's text.
func (d *doors) viaUI(path string, form url.Values) (int, string) {
	d.t.Helper()
	form.Set("csrf", d.csrf)
	d.uiClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := d.uiClient.PostForm(d.ui.URL+path, form)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, html.UnescapeString(string(b))
}

func TestSameRefusalThroughAPIAndUI(t *testing.T) {
	t.Parallel()
	d := newDoors(t)
	longTarget := strings.Repeat("h", 300)
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		uiPath string
		form   url.Values
		// want is part of the one text both must show.
		want string
	}{
		{"silence with a bad regular expression", "POST", "/api/v1/silences",
			map[string]any{"matchers": []string{`alertname=~"("`}, "duration": "2h", "comment": "swap"},
			"/silences", url.Values{"matchers": {`alertname=~"("`}, "duration": {"2h"}, "comment": {"swap"}},
			"invalid regular expression"},
		{"silence without a comment", "POST", "/api/v1/silences",
			map[string]any{"matchers": []string{`alertname="DiskFull"`}, "duration": "2h", "comment": ""},
			"/silences", url.Values{"matchers": {`alertname="DiskFull"`}, "duration": {"2h"}, "comment": {""}},
			"comment is required"},
		{"silence without a matcher", "POST", "/api/v1/silences",
			map[string]any{"matchers": []string{}, "duration": "2h", "comment": "swap"},
			"/silences", url.Values{"matchers": {""}, "duration": {"2h"}, "comment": {"swap"}},
			"at least one matcher"},
		{"silence of 65 matchers", "POST", "/api/v1/silences",
			map[string]any{"matchers": manyMatchers(65), "duration": "2h", "comment": "swap"},
			"/silences", url.Values{"matchers": {strings.Join(manyMatchers(65), "\n")}, "duration": {"2h"}, "comment": {"swap"}},
			"at most 64 matchers"},
		{"silence longer than a year and a day", "POST", "/api/v1/silences",
			map[string]any{"matchers": []string{`alertname="DiskFull"`}, "duration": "8800h", "comment": "swap"},
			"/silences", url.Values{"matchers": {`alertname="DiskFull"`}, "duration": {"8800h"}, "comment": {"swap"}},
			"at most 366 days"},
		{"maintenance window ending in the past", "POST", "/api/v1/maintenance-windows",
			map[string]any{"name": "old", "timezone": "UTC", "schedule": map[string]any{"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T01:00:00Z"},
				"targets": map[string]any{"matchers": []string{`job="db"`}}},
			"/maintenance", url.Values{"name": {"old"}, "timezone": {"UTC"}, "start": {"2020-01-01T00:00"}, "duration": {"1h"}, "matchers": {`job="db"`}},
			"2020-01-01T01:00:00Z is in the past"},
		{"maintenance window with 65 matchers", "POST", "/api/v1/maintenance-windows",
			map[string]any{"name": "many", "timezone": "UTC", "schedule": map[string]any{"start": "2030-01-01T00:00:00Z", "end": "2030-01-01T01:00:00Z"},
				"targets": map[string]any{"matchers": manyMatchers(65)}},
			"/maintenance", url.Values{"name": {"many"}, "timezone": {"UTC"}, "start": {"2030-01-01T00:00"}, "duration": {"1h"}, "matchers": {strings.Join(manyMatchers(65), "\n")}},
			"at most 64 matchers"},
		{"empty OpsItem note", "POST", "/api/v1/opsitems/" + d.opsItem + "/notes", map[string]any{"text": ""},
			"/opsitems/" + d.opsItem + "/notes", url.Values{"text": {""}},
			"text is required"},
		{"OpsItem note over 8 KiB", "POST", "/api/v1/opsitems/" + d.opsItem + "/notes", map[string]any{"text": strings.Repeat("n", 8<<10+1)},
			"/opsitems/" + d.opsItem + "/notes", url.Values{"text": {strings.Repeat("n", 8<<10+1)}},
			"text is longer than"},
		{"note on an OpsItem that does not exist", "POST", "/api/v1/opsitems/oi_nosuch/notes", map[string]any{"text": "hi"},
			"/opsitems/oi_nosuch/notes", url.Values{"text": {"hi"}},
			`opsitem "oi_nosuch" not found`},
		{"runbook run with a parameter of the wrong type", "POST", "/api/v1/runbooks/check-host/executions",
			map[string]any{"parameters": map[string]any{"level": "many"}},
			"/runbooks/check-host/run", url.Values{"p.level": {"many"}, "mode": {"run"}},
			`"many" is not an int`},
		{"runbook run with a target ID over 256 bytes", "POST", "/api/v1/runbooks/check-host/executions",
			map[string]any{"targets": []string{longTarget}},
			"/runbooks/check-host/run", url.Values{"targets": {longTarget}, "mode": {"run"}},
			"is longer than 256 bytes"},
		{"token with an expiry that is not a duration", "POST", "/api/v1/tokens",
			map[string]any{"name": "ci", "role": "viewer", "expires_in": "soon"},
			"/tokens", url.Values{"name": {"ci"}, "role": {"viewer"}, "expires_in": {"soon"}},
			`expires_in "soon" is not a positive duration`},
		{"token of a role that does not exist", "POST", "/api/v1/tokens",
			map[string]any{"name": "ci", "role": "root"},
			"/tokens", url.Values{"name": {"ci"}, "role": {"root"}},
			`role "root" is not one of`},
		{"tenant with an ID that is not a slug", "POST", "/api/v1/tenants",
			map[string]any{"id": "Acme Corp"},
			"/tenants", url.Values{"id": {"Acme Corp"}},
			`id "Acme Corp" must be lowercase letters`},
		{"tenant that exists", "POST", "/api/v1/tenants",
			map[string]any{"id": "acme"},
			"/tenants", url.Values{"id": {"acme"}},
			`tenant "acme" already exists`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, msg := d.viaAPI(c.method, c.path, c.body)
			if status < 400 || status >= 500 || !strings.Contains(msg, c.want) {
				t.Fatalf("API: %d %q; want a 4xx containing %q", status, msg, c.want)
			}
			uiStatus, page := d.viaUI(c.uiPath, c.form)
			if uiStatus < 400 || uiStatus >= 500 {
				t.Errorf("UI: status %d, want a 4xx", uiStatus)
			}
			if !strings.Contains(page, msg) {
				t.Errorf("UI page lacks the API's text %q:\n%s", msg, excerpt(page, c.want))
			}
		})
	}
}

func manyMatchers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`label%d="v"`, i)
	}
	return out
}

// excerpt is the part of a page around want, or its start.
func excerpt(page, want string) string {
	i := strings.Index(page, want)
	if i < 0 {
		return page[:min(len(page), 1500)]
	}
	return page[max(0, i-300):min(len(page), i+300)]
}
