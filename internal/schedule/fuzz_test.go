package schedule

import (
	"testing"
	"time"
)

// FuzzParse: no expression panics or hangs, and a schedule that parses
// yields strictly increasing starts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"30 2 * * *", "*/15 1-3 * * mon-fri", "cron(30 23 ? * TUE#3 *)", "cron(0 4 L * ? 2026-2030)",
		"cron(0 9 ? * 6L *)", "cron(0/10 * ? * 2-6 *)", "rate(12 hours)", "rate(1 day)", "cron(0 0 3W * ? *)", "0 0 31 2 *"} {
		f.Add(s, 1)
	}
	loc, _ := time.LoadLocation("Europe/Berlin")
	f.Fuzz(func(t *testing.T, expr string, offset int) {
		if len(expr) > 200 {
			return
		}
		s, err := Parse(expr, Options{Location: loc, OffsetDays: offset % 8, Anchor: time.Unix(1_700_000_000, 0)})
		if err != nil {
			return
		}
		prev := time.Date(2026, 3, 28, 0, 0, 0, 0, loc)
		for _, st := range Upcoming(s, prev, 5) {
			if !st.After(prev) {
				t.Fatalf("%q: start %s is not after %s", expr, st, prev)
			}
			prev = st
		}
	})
}
