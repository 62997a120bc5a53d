package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestEventsListBounded: six huge events (a 3 MiB raw payload and a 1 MiB
// description each, stored as they are) list without their raw payloads
// and within the list's byte bound, the rest one next cursor away; each
// raw payload is served whole by GET /api/v1/events/{id}/raw, to the
// event's tenant only.
func TestEventsListBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	var evs []store.Event
	for i := range 6 {
		at := epoch.Add(time.Duration(i) * time.Second)
		raw := fmt.Sprintf(`{"i":%d,"blob":%q}`, i, strings.Repeat("r", 3<<20))
		evs = append(evs, store.Event{ID: store.NewID("ev", at), TenantID: "acme", Source: "generic:big", Fingerprint: fmt.Sprint("fp", i),
			Kind: "alert", Severity: "high", Status: "firing", Title: "big", Description: strings.Repeat("d", 1<<20),
			OccurredAt: at, ReceivedAt: at, Raw: json.RawMessage(raw), Decision: "opened"})
	}
	if err := h.st.InTx(ctx, func(tx store.Tx) error { return tx.InsertEvents(ctx, evs) }); err != nil {
		t.Fatal(err)
	}
	viewer := h.secret("acme/viewer")
	seen := 0
	cursor := ""
	for pages := 0; ; pages++ {
		r := h.call("GET", "/api/v1/events?limit=100&cursor="+cursor, viewer, nil)
		var l api.List[map[string]any]
		r.ok(t, 200, &l)
		if len(r.Body) > 4<<20+64<<10 {
			t.Errorf("page %d: %d bytes, over the 4 MiB bound", pages, len(r.Body))
		}
		for _, e := range l.Items {
			if _, ok := e["raw"]; ok {
				t.Errorf("the list carries event %v's raw payload", e["id"])
			}
		}
		seen += len(l.Items)
		if l.NextCursor == "" || pages > 6 {
			break
		}
		cursor = l.NextCursor
	}
	if seen != 6 {
		t.Errorf("%d events listed across the pages, want 6", seen)
	}
	r := h.call("GET", "/api/v1/events/"+evs[2].ID+"/raw", viewer, nil)
	var raw struct {
		I    int    `json:"i"`
		Blob string `json:"blob"`
	}
	r.ok(t, 200, &raw)
	if raw.I != 2 || len(raw.Blob) != 3<<20 {
		t.Errorf("raw payload: i=%d, %d bytes", raw.I, len(raw.Blob))
	}
	h.call("GET", "/api/v1/events/"+evs[2].ID+"/raw", h.secret("globex/viewer"), nil).fail(t, 404, "not_found")
}

// TestJSONValidUTF8: an event stored with invalid UTF-8 in its resources
// (a raw JSON field the store keeps as it is) lists as valid UTF-8, each
// run of bad bytes a U+FFFD, because the one JSON writer sanitises.
func TestJSONValidUTF8(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	ev := store.Event{ID: store.NewID("ev", epoch), TenantID: "acme", Source: "generic:bad", Fingerprint: "fp",
		Kind: "alert", Severity: "high", Status: "firing", Title: "bad", OccurredAt: epoch, ReceivedAt: epoch,
		Resources: json.RawMessage("[{\"name\":\"h\xff\xfeost\"}]"), Decision: "opened"}
	if err := h.st.InTx(ctx, func(tx store.Tx) error { return tx.InsertEvents(ctx, []store.Event{ev}) }); err != nil {
		t.Fatal(err)
	}
	r := h.call("GET", "/api/v1/events", h.secret("acme/viewer"), nil)
	if !utf8.Valid(r.Body) {
		t.Fatalf("the events list carries invalid UTF-8: %q", r.Body)
	}
	var l api.List[struct {
		Resources []struct{ Name string } `json:"resources"`
	}]
	r.ok(t, 200, &l)
	if len(l.Items) != 1 || len(l.Items[0].Resources) != 1 || l.Items[0].Resources[0].Name != "h\ufffdost" {
		t.Errorf("items: %+v, want one resource named h\\ufffdost", l.Items)
	}
}

// TestListsBounded: every paged list answers through the one byte bound
// of WritePage; six OpsItems with 1.5 MiB descriptions (stored as they
// are) list a page short of 4 MiB at a time, and the next cursors reach
// each exactly once.
func TestListsBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	want := map[string]bool{}
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		for i := range 6 {
			at := epoch.Add(time.Duration(i) * time.Second)
			o := store.OpsItem{ID: store.NewID("oi", at), TenantID: "acme", Title: "big", Description: strings.Repeat("d", 3<<19),
				Category: "service", Severity: "high", Status: "open", Source: "api", CreatedAt: at, UpdatedAt: at}
			want[o.ID] = true
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	viewer := h.secret("acme/viewer")
	seen := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		r := h.call("GET", "/api/v1/opsitems?limit=100&cursor="+cursor, viewer, nil)
		var l api.List[store.OpsItem]
		r.ok(t, 200, &l)
		if len(r.Body) > 4<<20+64<<10 {
			t.Errorf("page %d: %d bytes, over the 4 MiB bound", pages, len(r.Body))
		}
		for _, o := range l.Items {
			seen[o.ID]++
		}
		if l.NextCursor == "" || pages > 6 {
			break
		}
		cursor = l.NextCursor
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("opsitem %s listed %d times across the pages, want once", id, seen[id])
		}
	}
}
