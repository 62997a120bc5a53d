package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The API's JSON as existing clients see it, recorded before the service
// layer and the wire types moved out of the handlers (issue #25): a fixed
// sequence of representative calls whose responses, with generated IDs,
// secrets and request IDs replaced by stable placeholders, must match
// testdata/golden/api.json byte for byte. Regenerate only for a deliberate
// API change: go test ./internal/api -run TestGoldenResponses -update-golden.

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden/api.json from the current responses")

// goldenCall is one recorded exchange.
type goldenCall struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body,omitempty"`
}

// generated matches what differs between runs: IDs ("<prefix>_<26 base32>"),
// token secrets and request IDs.
var (
	generatedID = regexp.MustCompile(`\b([a-z]+)_[0-9a-v]{26}\b`)
	secretField = regexp.MustCompile(`"(secret|prefix)":"[^"]*"`)
	requestID   = regexp.MustCompile(`"request_id":"[0-9a-f]{16}"`)
	// chainHash is an audit record's hash or previous hash, which covers
	// the generated IDs it names.
	chainHash = regexp.MustCompile(`"(hash|prev_hash)":"[0-9a-f]{64}"`)
	// wallTime is a time the executor took from the wall clock rather
	// than the harness's fixed clock (which starts at 2025-03-14; times it
	// derives, such as expiries, stay in 2025).
	wallTime = regexp.MustCompile(`"(20[0-9]{2}-[0-9]{2}-[0-9]{2})T[0-9:.]+Z"`)
)

// goldenNormalizer replaces each generated ID by "<prefix>#n", n counting
// distinct IDs in order of first appearance, so that relations between
// responses (an execution naming its OpsItem) stay visible and checked.
type goldenNormalizer struct{ seen map[string]string }

func (n *goldenNormalizer) normalize(s string) string {
	s = generatedID.ReplaceAllStringFunc(s, func(id string) string {
		if p, ok := n.seen[id]; ok {
			return p
		}
		p := fmt.Sprintf("%s#%d", id[:strings.IndexByte(id, '_')], len(n.seen)+1)
		n.seen[id] = p
		return p
	})
	s = secretField.ReplaceAllString(s, `"$1":"<secret>"`)
	s = chainHash.ReplaceAllString(s, `"$1":"<sha256>"`)
	s = wallTime.ReplaceAllStringFunc(s, func(ts string) string {
		if strings.HasPrefix(ts, `"2025-`) {
			return ts
		}
		return `"<wall-clock>"`
	})
	return requestID.ReplaceAllString(s, `"request_id":"<request-id>"`)
}

func TestGoldenResponses(t *testing.T) {
	h := newHarness(t)
	admin, op, viewer := h.secret("acme/admin"), h.secret("acme/operator"), h.secret("acme/viewer")
	norm := &goldenNormalizer{seen: map[string]string{}}
	var got, raw []goldenCall
	// do makes a call and records it; the path may name earlier IDs as
	// "{n}" (the n-th call's "id" field).
	ids := []string{}
	do := func(method, path, secret string, body any) map[string]any {
		t.Helper()
		for i, id := range ids {
			path = strings.ReplaceAll(path, fmt.Sprintf("{%d}", i), id)
		}
		r := h.call(method, path, secret, body)
		var decoded map[string]any
		_ = json.Unmarshal(r.Body, &decoded)
		id, _ := decoded["id"].(string)
		ids = append(ids, id)
		c := goldenCall{Method: method, Path: norm.normalize(path), Status: r.Status}
		if len(bytes.TrimSpace(r.Body)) > 0 {
			c.Body = json.RawMessage(norm.normalize(string(bytes.TrimSpace(r.Body))))
		}
		got = append(got, c)
		raw = append(raw, goldenCall{Method: method, Path: path, Status: r.Status, Body: bytes.TrimSpace(r.Body)})
		return decoded
	}

	// Silences: create (valid and invalid), read, list, expire.
	do("POST", "/api/v1/silences", op, map[string]any{"matchers": []string{`alertname="DiskFull"`, `instance=~"db-.*"`}, "duration": "2h", "comment": "disk swap"}) // 0
	do("POST", "/api/v1/silences", op, map[string]any{"matchers": []string{`alertname=~"("`}, "duration": "2h", "comment": "x"})                                    // 1
	do("POST", "/api/v1/silences", op, map[string]any{"matchers": []string{`a="b"`}, "comment": "x"})                                                               // 2
	do("GET", "/api/v1/silences/{0}", viewer, nil)                                                                                                                  // 3
	do("GET", "/api/v1/silences", viewer, nil)                                                                                                                      // 4
	do("DELETE", "/api/v1/silences/{0}", op, nil)                                                                                                                   // 5
	do("GET", "/api/v1/silences?expired=true", viewer, nil)                                                                                                         // 6

	// OpsItems: create, handle, read, list.
	do("POST", "/api/v1/opsitems", op, map[string]any{"title": "Disk full on db-1", "severity": "high"}) // 7
	do("POST", "/api/v1/opsitems/{7}/acknowledge", op, map[string]any{"comment": "looking"})             // 8
	do("POST", "/api/v1/opsitems/{7}/notes", op, map[string]any{"text": "swapped the disk"})             // 9
	do("POST", "/api/v1/opsitems/{7}/notes", op, map[string]any{"text": ""})                             // 10
	do("POST", "/api/v1/opsitems/{7}/assign", op, map[string]any{"assignee": "alice"})                   // 11
	do("PATCH", "/api/v1/opsitems/{7}", op, map[string]any{"severity": "critical"})                      // 12
	do("GET", "/api/v1/opsitems/{7}", viewer, nil)                                                       // 13
	do("GET", "/api/v1/opsitems", viewer, nil)                                                           // 14

	// Runbooks and executions: list, read, run (valid and invalid), read.
	do("GET", "/api/v1/runbooks", viewer, nil)                                                                                            // 15
	do("GET", "/api/v1/runbooks/check-host", viewer, nil)                                                                                 // 16
	do("POST", "/api/v1/runbooks/check-host/executions", op, map[string]any{"parameters": map[string]any{"note": "hi"}, "dry_run": true}) // 17
	do("POST", "/api/v1/runbooks/check-host/executions", op, map[string]any{"parameters": map[string]any{"level": "many"}})               // 18
	do("POST", "/api/v1/opsitems/{7}/runbooks/approve-then-act", op, map[string]any{})                                                    // 19
	do("GET", "/api/v1/executions/{19}", viewer, nil)                                                                                     // 20
	do("POST", "/api/v1/executions/{19}/cancel", op, map[string]any{"comment": "not now"})                                                // 21

	// Tokens: create, list, revoke.
	do("POST", "/api/v1/tokens", admin, map[string]any{"name": "ci", "role": "operator", "expires_in": "720h"}) // 22
	do("DELETE", "/api/v1/tokens/{22}", admin, nil)                                                             // 23

	// Maintenance windows: create, read, list, delete.
	do("POST", "/api/v1/maintenance-windows", op, map[string]any{"name": "db-nightly", "timezone": "Europe/Paris",
		"schedule": map[string]any{"weekly": map[string]any{"days": []string{"sun"}, "start": "02:00", "duration": "2h"}},
		"targets":  map[string]any{"matchers": []string{`service="db"`}}, "comment": "patching"}) // 24
	do("GET", "/api/v1/maintenance-windows/{24}", viewer, nil) // 25
	do("GET", "/api/v1/maintenance-windows", viewer, nil)      // 26
	do("DELETE", "/api/v1/maintenance-windows/{24}", op, nil)  // 27
	do("GET", "/api/v1/audit?limit=20", admin, nil)            // 28

	checkGoldenWire(t, raw)

	want := filepath.Join("testdata", "golden", "api.json")
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(want, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	golden, err := os.ReadFile(want)
	if err != nil {
		t.Fatalf("%v (record with -update-golden)", err)
	}
	var wantCalls []goldenCall
	if err := json.Unmarshal(golden, &wantCalls); err != nil {
		t.Fatalf("%s: %v", want, err)
	}
	if len(wantCalls) != len(got) {
		t.Fatalf("%d calls recorded in %s, %d made", len(wantCalls), want, len(got))
	}
	for i := range got {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(wantCalls[i])
		if !bytes.Equal(g, w) {
			t.Errorf("call %d changed:\n got %s\nwant %s", i, g, w)
		}
	}
}
