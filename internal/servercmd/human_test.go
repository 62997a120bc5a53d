package servercmd

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestReplayHumanOutputByDefault: replay prints a report for people, and
// JSON with --json (moved with the command from TestHumanOutputByDefault).
func TestReplayHumanOutputByDefault(t *testing.T) {
	t.Parallel()
	run, _ := appServer(t)
	isJSON := func(s string) bool { return json.Valid([]byte(s)) && strings.HasPrefix(strings.TrimSpace(s), "{") }

	args := []string{"replay", "--input", "../replay/testdata/storm.ndjson", "--content", "../replay/testdata/storm-content"}
	out, errOut, code := run(args...)
	if code != 0 || isJSON(out) || !strings.Contains(out, "received 192 alert occurrences") || !strings.Contains(out, "noise reduction 97.9 %: 4 OpsItems would open") ||
		!strings.Contains(out, "PostgresDown in eu-1") {
		t.Errorf("replay: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = run(append([]string{"--json"}, args...)...)
	var rep struct {
		Received int64 `json:"received"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Received != 192 {
		t.Errorf("replay --json: exit %d\n%s", code, out)
	}
}
