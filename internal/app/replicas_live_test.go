package app

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/client"
)

// uiSession logs in to c's server's web UI with c's token and returns the
// session cookie.
func uiSession(t *testing.T, c *client.Client) *http.Cookie {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form, err := hc.Get(c.BaseURL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	form.Body.Close()
	var nonce *http.Cookie
	for _, ck := range form.Cookies() {
		if ck.Name == "flywheel_login" {
			nonce = ck
		}
	}
	if nonce == nil {
		t.Fatal("GET /login set no login cookie")
	}
	req, _ := http.NewRequest("POST", c.BaseURL+"/login", strings.NewReader(url.Values{"token": {c.Token}, "csrf": {nonce.Value}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(nonce)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "flywheel_session" {
			return ck
		}
	}
	t.Fatalf("login: %s, no session cookie", resp.Status)
	return nil
}

// TestReplicasLiveUpdates: a live page open on one replica shows an
// OpsItem opened through another: live pages render again from the shared
// database every interval, so what any replica writes reaches every open
// page.
func TestReplicasLiveUpdates(t *testing.T) {
	cs := startReplicas(t, 2)
	sess := uiSession(t, cs[1])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", cs[1].BaseURL+"/live?"+url.Values{"path": {"/opsitems"}}.Encode(), nil)
	req.AddCookie(sess)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("live stream on replica 1: %s", res.Status)
	}
	const alertname = "ReplicaLiveCheck"
	if err := cs[0].Do(ctx, "POST", "/api/v1/intake/alertmanager", amAlert(alertname, "prod-eu", "db-1:9100"), nil); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") && strings.Contains(line, alertname) {
			return
		}
	}
	t.Fatalf("replica 1's live OpsItems page never showed the OpsItem opened through replica 0 (%v)", sc.Err())
}
