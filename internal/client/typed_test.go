package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// The typed methods send the method, path, tenant and body the API's
// routes take, and decode the answer into the wire type.
func TestCollectionRequests(t *testing.T) {
	t.Parallel()
	type seen struct{ method, uri, body string }
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.URL.RequestURI(), string(b)})
		switch {
		case r.Method == "DELETE":
			w.WriteHeader(http.StatusNoContent)
		case r.Method == "GET" && r.URL.Path == "/api/v1/silences":
			_, _ = io.WriteString(w, `{"items":[{"id":"sil_1","state":"active"}],"next_cursor":"c2"}`)
		case r.URL.Path == "/api/v1/opsitems/oi 1":
			_, _ = io.WriteString(w, `{"id":"oi 1","title":"Disk full","severity":"critical"}`)
		default:
			_, _ = io.WriteString(w, `{"id":"sil_1","comment":"swap","state":"active"}`)
		}
	}))
	defer srv.Close()
	c, ctx := New(srv.URL, "fw_x"), context.Background()

	sil, err := c.Silences("acme").Create(ctx, apiv1.SilenceInput{Matchers: []string{`a="b"`}, Duration: "2h", Comment: "swap"})
	if err != nil || sil.ID != "sil_1" || sil.Comment != "swap" || sil.State != "active" {
		t.Errorf("Create = %+v, %v", sil, err)
	}
	l, err := c.Silences("").List(ctx, url.Values{"expired": {"true"}})
	if err != nil || len(l.Items) != 1 || l.Items[0].ID != "sil_1" || l.NextCursor != "c2" {
		t.Errorf("List = %+v, %v", l, err)
	}
	sev := "critical"
	o, err := c.OpsItems("acme").Update(ctx, "oi 1", apiv1.OpsItemPatch{Severity: &sev})
	if err != nil || o.Title != "Disk full" || o.Severity != "critical" {
		t.Errorf("Update = %+v, %v", o, err)
	}
	if err := c.MaintenanceWindows("").Delete(ctx, "mw_1"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	var in map[string]any
	if err := json.Unmarshal([]byte(got[0].body), &in); err != nil || in["duration"] != "2h" || in["comment"] != "swap" {
		t.Errorf("create body %s (%v)", got[0].body, err)
	}
	want := []seen{
		{"POST", "/api/v1/silences?tenant=acme", got[0].body},
		{"GET", "/api/v1/silences?expired=true", ""},
		{"PATCH", "/api/v1/opsitems/oi%201?tenant=acme", `{"title":null,"description":null,"category":null,"severity":"critical","status":null}`},
		{"DELETE", "/api/v1/maintenance-windows/mw_1", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("requests %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
