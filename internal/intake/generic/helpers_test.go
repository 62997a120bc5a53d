package generic

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// fixtureDir is the event fixtures of every source (testdata/events at the
// module root).
const fixtureDir = "../../../testdata/events"

var testNow = time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)

func testClock() time.Time { return testNow }

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, filepath.FromSlash(name)))
	if err != nil {
		tb.Fatalf("reading fixture %s: %v (the fixtures are in %s)", name, err, fixtureDir)
	}
	return b
}

// grafanaMapping is the example mapping the tests share: Grafana's alerting
// webhook, one event per notification.
var grafanaMapping = Mapping{
	Name:        "grafana",
	Match:       `has(body.orgId) && has(body.alerts)`,
	Title:       `body.commonLabels.alertname`,
	Severity:    `body.commonLabels.?severity.orValue("warning")`,
	Status:      `body.status`,
	Resource:    `body.alerts[0].labels.?instance.orValue(null)`,
	Fingerprint: `body.alerts[0].fingerprint`,
	Description: `body.alerts[0].annotations.summary`,
	ID:          `body.alerts[0].fingerprint + ":" + body.alerts[0].startsAt + ":" + body.status`,
	Timestamp:   `timestamp(body.alerts[0].startsAt)`,
	Labels: map[string]string{
		"team":   `body.commonLabels.team`,
		"folder": `body.commonLabels.grafana_folder`,
		"owner":  `body.commonLabels.?owner.orValue(null)`,
	},
}

func newAdapter(tb testing.TB, mappings ...Mapping) *Adapter {
	tb.Helper()
	a, err := NewFromConfig(Config{Mappings: mappings, Clock: testClock})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func parse(a *Adapter, body []byte) (intake.Result, error) {
	return a.Parse(context.Background(), intake.Request{Body: body})
}

// badRequest asserts err is a *intake.BadRequest and returns its message.
func badRequest(tb testing.TB, err error) string {
	tb.Helper()
	var br *intake.BadRequest
	if !errors.As(err, &br) {
		tb.Fatalf("error %v (%T) is not a *intake.BadRequest", err, err)
	}
	return br.Message
}
