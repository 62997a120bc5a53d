package patch_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/patch"
)

func TestValidate(t *testing.T) {
	a := patch.New(patch.Options{})
	for _, tc := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"operation": "scan"}, ""},
		{map[string]any{"operation": "install", "packages": []any{"openssl"}, "timeout": "1h"}, ""},
		{map[string]any{}, "operation"},
		{map[string]any{"operation": "upgrade"}, `"upgrade" is not scan or install`},
		{map[string]any{"operation": "scan", "packages": []any{"x"}}, "install only"},
		{map[string]any{"operation": "install", "packages": []any{"bad name"}}, "packages[0]"},
		{map[string]any{"operation": "scan", "colour": "red"}, "unknown input"},
	} {
		err := a.Validate(tc.with)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%v) = %v, want %q", tc.with, err, tc.want)
		}
	}
}

// TestParseReport finds the report on the last report line of an
// operation's output, after apt's own lines.
func TestParseReport(t *testing.T) {
	rep := wire.PatchReport{Backend: "apt", Installed: 3, Updates: []wire.PackageUpdate{{Name: "fw-tool", Installed: "1.0", Candidate: "2.0"}}}
	line, _ := json.Marshal(rep)
	out := "Reading package lists...\nSetting up fw-tool (2.0) ...\n\n" + wire.PatchReportPrefix + string(line) + "\n"
	got, err := patch.ParseReport(out)
	if err != nil || got.Installed != 3 || len(got.Updates) != 1 || got.Updates[0].Candidate != "2.0" {
		t.Errorf("ParseReport = %+v, %v", got, err)
	}
	for _, bad := range []string{"E: Unable to locate package\n", wire.PatchReportPrefix + "{\n", wire.PatchReportPrefix + "{}\n"} {
		if _, err := patch.ParseReport(bad); err == nil {
			t.Errorf("ParseReport(%q) accepted", bad)
		}
	}
}

func FuzzParseReport(f *testing.F) {
	f.Add(wire.PatchReportPrefix + `{"backend":"apt","installed":1,"updates":[]}` + "\n")
	f.Add("noise\n" + wire.PatchReportPrefix + `{"backend":""}`)
	f.Fuzz(func(t *testing.T, out string) {
		rep, err := patch.ParseReport(out)
		if err == nil && rep.Backend == "" {
			t.Errorf("accepted a report without a backend: %q", out)
		}
	})
}
