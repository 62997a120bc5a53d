package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const testAdminToken = "intake-test-admin-token-0123456789"

func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", rel))
	if err != nil {
		t.Fatalf("fixture %s (testdata/events at the module root): %v", rel, err)
	}
	return b
}

func post(t *testing.T, url, contentType string, body io.Reader) (int, string) {
	t.Helper()
	return rawCall(t, "POST", url, "Bearer "+testAdminToken, contentType, body)
}

func waitOpsItems(t *testing.T, c *client.Client, q string, n int) []store.OpsItem {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var page struct{ Items []store.OpsItem }
		if err := c.Do(context.Background(), "GET", "/api/v1/opsitems?limit=500&"+q, nil, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) >= n || time.Now().After(deadline) {
			if len(page.Items) < n {
				t.Fatalf("%d OpsItems (%s) after 10s, want %d: %+v", len(page.Items), q, n, page.Items)
			}
			return page.Items
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIntakeFixturesOpenAndResolve(t *testing.T) {
	a := startApp(t, config.Config{DataDir: t.TempDir(), AdminToken: testAdminToken}, &bytes.Buffer{})
	base := "http://" + a.Addr()
	c := client.New(base, testAdminToken)

	code, body := post(t, base+"/api/v1/intake/alertmanager", "application/json", bytes.NewReader(fixture(t, "alertmanager/webhook-v4-firing.json")))
	if code != 200 || !strings.Contains(body, `"accepted":2`) {
		t.Fatalf("webhook: %d %s", code, body)
	}
	// Monitoring only: the "Host without an agent" OpsItems of the alerts'
	// hosts (deployment) open at the same time and may list first.
	items := waitOpsItems(t, c, "status=open&category=monitoring", 1)
	if !strings.Contains(items[0].Title, "NodeFilesystemAlmostFull") {
		t.Errorf("title = %q", items[0].Title)
	}
	code, body = post(t, base+"/api/v1/intake/alertmanager", "application/json", bytes.NewReader(fixture(t, "alertmanager/webhook-v4-resolved.json")))
	if code != 200 {
		t.Fatalf("resolved webhook: %d %s", code, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var open struct{ Items []store.OpsItem }
		c.Do(context.Background(), "GET", "/api/v1/opsitems?status=open", nil, &open)
		// The hosts the alerts name have no agent: their "Host without an
		// agent" OpsItems (internal/fleet) may open meanwhile and stay.
		open.Items = slices.DeleteFunc(open.Items, func(o store.OpsItem) bool { return o.Rule == "fleet-unmanaged-hosts" })
		if len(open.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still open after the resolved notification: %+v", open.Items)
		}
		time.Sleep(20 * time.Millisecond)
	}

	for _, f := range []string{"eventbridge/guardduty-ssh-bruteforce.json", "eventbridge/securityhub-findings-imported.json",
		"eventbridge/config-compliance-change.json", "eventbridge/health-event.json", "eventbridge/macie-finding.json",
		"eventbridge/inspector2-finding.json", "eventbridge/cloudwatch-alarm-state-change.json"} {
		if code, body := post(t, base+"/api/v1/intake/eventbridge", "application/json", bytes.NewReader(fixture(t, f))); code != 200 {
			t.Errorf("%s: %d %s", f, code, body)
		}
	}
	waitOpsItems(t, c, "category=security", 3)
	if code, body := post(t, base+"/api/v1/intake/generic", "application/json", bytes.NewReader(fixture(t, "generic/webhook.json"))); code != 200 {
		t.Errorf("generic: %d %s", code, body)
	}
	if code, body := post(t, base+"/api/v2/alerts", "application/json", bytes.NewReader(fixture(t, "alertmanager/v2-postable-alerts.json"))); code != 200 {
		t.Errorf("v2 alerts: %d %s", code, body)
	}
	var stats struct {
		Received       int64   `json:"received"`
		OpsItemsOpened int64   `json:"opsitems_opened"`
		NoiseReduction float64 `json:"noise_reduction"`
	}
	deadline = time.Now().Add(10 * time.Second)
	for stats.Received < 14 && time.Now().Before(deadline) {
		c.Do(context.Background(), "GET", "/api/v1/stats/noise", nil, &stats)
		time.Sleep(20 * time.Millisecond)
	}
	if stats.Received < 14 || stats.OpsItemsOpened == 0 {
		t.Errorf("noise stats = %+v", stats)
	}
	var evs struct{ Items []store.Event }
	if err := c.Do(context.Background(), "GET", "/api/v1/events?source=guardduty&limit=10", nil, &evs); err != nil || len(evs.Items) == 0 {
		t.Errorf("events?source=guardduty: %+v %v", evs.Items, err)
	}
}

func TestIntakeBadInput(t *testing.T) {
	a := startApp(t, config.Config{DataDir: t.TempDir(), AdminToken: testAdminToken}, &bytes.Buffer{})
	url := "http://" + a.Addr() + "/api/v1/intake/alertmanager"
	for file, want := range map[string]string{
		"bad/truncated.json":      "invalid JSON: unexpected end of input",
		"bad/not-json.txt":        "request body is not valid JSON",
		"bad/wrong-shape.json":    "expected an Alertmanager webhook object (or array of alerts), got array of numbers",
		"bad/empty.json":          "request body is empty",
		"bad/missing-labels.json": "alerts[0].labels is required",
		"bad/bad-timestamp.json":  `alerts[0].startsAt: invalid RFC 3339 timestamp \"yesterday\"`,
	} {
		code, body := post(t, url, "application/json", bytes.NewReader(fixture(t, file)))
		var env struct{ Error struct{ Message string } }
		json.Unmarshal([]byte(body), &env)
		if code != 400 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s, want 400 with %q", file, code, body, want)
		}
	}
	// 12 MiB: refused with 413 before the body is read.
	big := io.LimitReader(neverEnding('x'), 12<<20)
	req, _ := http.NewRequest("POST", url, big)
	req.ContentLength = 12 << 20
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("12 MiB body: %d, want 413", resp.StatusCode)
	}
	if code, body := post(t, "http://"+a.Addr()+"/api/v1/intake/nagios", "application/json", strings.NewReader("{}")); code != 404 || !strings.Contains(body, "nagios") {
		t.Errorf("unknown source: %d %s", code, body)
	}
	if n, _ := a.Store().CountUnprocessedIntake(context.Background()); n != 0 {
		t.Errorf("refused deliveries were stored: %d", n)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestIntakeMappingFromContent(t *testing.T) {
	dir := t.TempDir()
	// The mapping is the one docs/intake.md shows.
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "intake.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```yaml\napiVersion: flywheel/v1\nkind: IntakeMapping")
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("docs/intake.md has no IntakeMapping example")
	}
	os.WriteFile(filepath.Join(dir, "grafana.yaml"), []byte("apiVersion: flywheel/v1\nkind: IntakeMapping"+block), 0o600)
	a := startApp(t, config.Config{DataDir: t.TempDir(), AdminToken: testAdminToken, ContentDir: dir}, &bytes.Buffer{})
	body, err := os.ReadFile(filepath.Join("..", "intake", "generic", "testdata", "grafana-webhook.json"))
	if err != nil {
		t.Fatal(err)
	}
	code, resp := post(t, "http://"+a.Addr()+"/api/v1/intake/generic?mapping=grafana", "application/json", bytes.NewReader(body))
	if code != 200 {
		t.Fatalf("mapped delivery: %d %s", code, resp)
	}
	items := waitOpsItems(t, client.New("http://"+a.Addr(), testAdminToken), "q=checkout", 1)
	if items[0].Severity != "high" {
		t.Errorf("OpsItem = %+v", items[0])
	}
	// A mapping with a typo is a load error naming the field.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "m.yaml"), []byte("apiVersion: flywheel/v1\nkind: IntakeMapping\nmetadata:\n  name: m\nspec:\n  title: bdy.title\n"), 0o600)
	_, err = New(context.Background(), Options{Config: config.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", ContentDir: bad}, Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "m.yaml") || !strings.Contains(err.Error(), "title") {
		t.Errorf("bad mapping: %v", err)
	}
}
