package alertmanager

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

// testNow is the fixed clock: after the v2 fixture's third alert ended
// (08:44:59Z) and before the other two (09:12:14Z).
var testNow = time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)

func testClock() time.Time { return testNow }

// fixture reads an event fixture; a missing file is a setup
// error worth a clear message, not a skipped test.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, filepath.FromSlash(name)))
	if err != nil {
		tb.Fatalf("reading fixture %s: %v (the fixtures are in %s)", name, err, fixtureDir)
	}
	return b
}

func parse(tb testing.TB, a intake.Adapter, body []byte) (intake.Result, error) {
	tb.Helper()
	return a.Parse(context.Background(), intake.Request{Body: body})
}

// badRequest asserts err is a *intake.BadRequest and returns its message.
func badRequest(tb testing.TB, err error) string {
	tb.Helper()
	var br *intake.BadRequest
	if !errors.As(err, &br) {
		tb.Fatalf("error %v (%T) is not a *intake.BadRequest", err, err)
	}
	if br.Status != 0 && br.Status != 400 {
		tb.Fatalf("status %d, want 400", br.Status)
	}
	return br.Message
}
