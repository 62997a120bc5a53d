package pipeline

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestConsiderRootCause: the root cause is the firing member most
// upstream, then most severe, then earliest; one further upstream gives
// the OpsItem its group key and title; other operational data is kept.
func TestConsiderRootCause(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 4, 14, 9, 0, 0, 0, time.UTC)
	o := store.OpsItem{Rule: "services", GroupKey: "k-checkout", Title: "CheckoutErrors in west",
		OperationalData: json.RawMessage(`{"runbook_url":"https://wiki/x"}`)}
	ev := func(title string, sev event.Severity, status event.Status) *event.Event {
		return &event.Event{Title: title, Fingerprint: "fp-" + title, Severity: sev, Status: status,
			Labels: map[string]string{"instance": title + "-1:80"}}
	}
	g := func(rank int, key, title string) Group {
		return Group{Rule: "services", Key: key, Rank: rank, Title: title}
	}
	root := func() string {
		rc, ok := RootCauseOf(o)
		if !ok {
			return ""
		}
		return rc.Title
	}

	considerRootCause(&o, ev("CheckoutErrors", event.SeverityMedium, event.StatusFiring), g(0, "k-checkout", "CheckoutErrors in west"), at)
	if root() != "CheckoutErrors on CheckoutErrors-1:80" {
		t.Fatalf("first member: root %q", root())
	}
	considerRootCause(&o, ev("CheckoutLatency", event.SeverityMedium, event.StatusFiring), g(0, "k-checkout", "x"), at.Add(time.Second))
	if root() != "CheckoutErrors on CheckoutErrors-1:80" {
		t.Errorf("same rank and severity, later: root %q, want the earliest kept", root())
	}
	considerRootCause(&o, ev("CheckoutDown", event.SeverityCritical, event.StatusFiring), g(0, "k-checkout", "x"), at.Add(2*time.Second))
	if root() != "CheckoutDown on CheckoutDown-1:80" || o.GroupKey != "k-checkout" || o.Title != "CheckoutErrors in west" {
		t.Errorf("more severe, same rank: root %q key %s title %q; want it root, key and title kept", root(), o.GroupKey, o.Title)
	}
	considerRootCause(&o, ev("PostgresDown", event.SeverityCritical, event.StatusResolved), g(3, "k-db", "PostgresDown in db-1"), at.Add(3*time.Second))
	if root() != "CheckoutDown on CheckoutDown-1:80" {
		t.Errorf("a resolved event became root cause: %q", root())
	}
	considerRootCause(&o, ev("PostgresDown", event.SeverityMedium, event.StatusFiring), g(3, "k-db", "PostgresDown in db-1"), at.Add(4*time.Second))
	if root() != "PostgresDown on PostgresDown-1:80" || o.GroupKey != "k-db" || o.Title != "PostgresDown in db-1" {
		t.Errorf("upstream: root %q key %s title %q; want the database, its key and title", root(), o.GroupKey, o.Title)
	}
	considerRootCause(&o, ev("AuthDown", event.SeverityCritical, event.StatusFiring), g(1, "k-auth", "AuthDown"), at.Add(5*time.Second))
	if root() != "PostgresDown on PostgresDown-1:80" || o.GroupKey != "k-db" {
		t.Errorf("less upstream but more severe: root %q key %s; want the database kept", root(), o.GroupKey)
	}
	var d map[string]any
	if err := json.Unmarshal(o.OperationalData, &d); err != nil || d["runbook_url"] != "https://wiki/x" {
		t.Errorf("operational data %s: the other facts were lost", o.OperationalData)
	}
}
