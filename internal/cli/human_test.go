package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestHumanOutputByDefault: tenant create, opsitem create and replay print
// for people unless --json is given, which keeps the JSON.
func TestHumanOutputByDefault(t *testing.T) {
	t.Parallel()
	run, _ := appServer(t)
	isJSON := func(s string) bool { return json.Valid([]byte(s)) && strings.HasPrefix(strings.TrimSpace(s), "{") }

	out, errOut, code := run("tenant", "create", "globex", "--name", "Globex Corp")
	if code != 0 || isJSON(out) || !strings.Contains(out, "ID:") || !strings.Contains(out, "globex") || !strings.Contains(out, "Globex Corp") {
		t.Errorf("tenant create: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run("--json", "tenant", "create", "initech")
	if code != 0 || !isJSON(out) || !strings.Contains(out, `"id": "initech"`) {
		t.Errorf("tenant create --json: exit %d\n%s%s", code, out, errOut)
	}

	out, errOut, code = run("opsitem", "create", "--title", "Certificate expires in 5 days", "--severity", "high")
	if code != 0 || isJSON(out) || !strings.Contains(out, "Title:") || !strings.Contains(out, "Certificate expires in 5 days") ||
		!strings.Contains(out, "Severity:") || !strings.Contains(out, "Created:") {
		t.Errorf("opsitem create: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run("--json", "opsitem", "create", "--title", "x")
	if code != 0 || !isJSON(out) {
		t.Errorf("opsitem create --json: exit %d\n%s%s", code, out, errOut)
	}

}
