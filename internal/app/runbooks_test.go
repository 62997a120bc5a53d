package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const triage = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: triage, description: Record what is known and close the item}
spec:
  steps:
    - name: facts
      action: collect
      with: {name: triage, value: "{'title': opsitem.title, 'by': execution.started_by}"}
    - name: close
      action: opsitem
      with: {resolve: true, note: "closed by triage"}
`

// TestRunbookOnOpsItem runs a content runbook on an OpsItem through the
// server's API: it executes on the server's job queue and resolves the
// item as automation.
func TestRunbookOnOpsItem(t *testing.T) {
	t.Parallel()
	content := t.TempDir()
	if err := os.WriteFile(filepath.Join(content, "triage.yaml"), []byte(triage), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := startApp(t, config.Config{DataDir: dir, ContentDir: content}, &bytes.Buffer{})
	b, _ := os.ReadFile(filepath.Join(dir, AdminTokenFile))
	token := strings.TrimSpace(string(b))
	call := func(method, path string, body any, out any) int {
		t.Helper()
		var rd io.Reader
		if body != nil {
			j, _ := json.Marshal(body)
			rd = bytes.NewReader(j)
		}
		req, _ := http.NewRequest(method, "http://"+a.Addr()+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return resp.StatusCode
	}
	var item store.OpsItem
	if code := call("POST", "/api/v1/opsitems", map[string]any{"title": "disk full on web-1", "severity": "high"}, &item); code != 201 {
		t.Fatalf("create OpsItem: %d", code)
	}
	var ex store.Execution
	if code := call("POST", "/api/v1/opsitems/"+item.ID+"/runbooks/triage", nil, &ex); code != 201 {
		t.Fatalf("run: %d %+v", code, ex)
	}
	deadline := time.Now().Add(30 * time.Second)
	for ex.Status != "succeeded" {
		if time.Now().After(deadline) || ex.Status == "failed" {
			t.Fatalf("execution %s: %s %q", ex.ID, ex.Status, ex.Error)
		}
		time.Sleep(50 * time.Millisecond)
		call("GET", "/api/v1/executions/"+ex.ID, nil, &ex)
	}
	got, err := a.Store().GetOpsItem(context.Background(), "default", item.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "resolved" || got.ResolvedBy != "automation:runbook:triage" ||
		!strings.Contains(string(got.OperationalData), `"triage":{"by":"token:`) || !strings.Contains(string(got.OperationalData), `"title":"disk full on web-1"`) {
		t.Errorf("OpsItem after triage: %+v %s", got, got.OperationalData)
	}
}
