package servercmd

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// flywheel schedule holidays reads an iCalendar file offline and prints
// it as holidays.dates; a file that is not iCalendar is an error naming it.
func TestScheduleHolidaysCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ics := dir + "/h.ics"
	bad := dir + "/bad.ics"
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(ics, []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261003\r\nSUMMARY:Tag der Deutschen Einheit\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), 0o644))
	must(os.WriteFile(bad, []byte("hello"), 0o644))
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		root := NewRoot(Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
		root.SetArgs(args)
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	out, err := run("schedule", "holidays", ics)
	if err != nil || out != "holidays:\n  dates:\n    - 2026-10-03  # Tag der Deutschen Einheit\n" {
		t.Errorf("output %q, %v", out, err)
	}
	if _, err := run("schedule", "holidays", bad); err == nil || !strings.Contains(err.Error(), bad+": ical: no BEGIN:VCALENDAR") {
		t.Errorf("bad file: %v", err)
	}
}
