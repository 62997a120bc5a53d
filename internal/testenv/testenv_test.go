package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		ci, require string
		want        bool
	}{
		{"", "", false},
		{"true", "", true},
		{"1", "", true},
		{"false", "", false},
		{"0", "", false},
		{"", "1", true},
		{"true", "0", false},
		{"", "false", false},
	} {
		t.Setenv("CI", c.ci)
		t.Setenv("FLYWHEEL_REQUIRE_SERVICES", c.require)
		if got := Required(); got != c.want {
			t.Errorf("CI=%q FLYWHEEL_REQUIRE_SERVICES=%q: Required() = %v, want %v", c.ci, c.require, got, c.want)
		}
	}
}

// recorder captures whether Absent skipped or failed, without ending the
// real test.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestAbsentFailsInCI(t *testing.T) {
	t.Setenv("FLYWHEEL_REQUIRE_SERVICES", "")
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	Absent(r, "no %s", "chromium")
	if !r.failed || r.skipped {
		t.Fatalf("in CI Absent must fail, not skip: failed=%v skipped=%v", r.failed, r.skipped)
	}
	t.Setenv("CI", "")
	r = &recorder{TB: t}
	Absent(r, "no %s", "chromium")
	if r.failed || !r.skipped {
		t.Fatalf("outside CI Absent must skip: failed=%v skipped=%v", r.failed, r.skipped)
	}
}

// TestProgramAbsentFailsInCI runs a test calling Program for a program no
// machine has in a child process, with and without CI=true: skipped
// without, failed with, and the message names the package either way.
func TestProgramAbsentFailsInCI(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Program(t, "no-such-package", "flywheel-no-such-program")
		return
	}
	for _, tc := range []struct {
		ci, want string
		fail     bool
	}{
		{"", "--- SKIP", false},
		{"true", "--- FAIL", true},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProgramAbsentFailsInCI$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "CI="+tc.ci, "FLYWHEEL_REQUIRE_SERVICES=")
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.fail || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "no-such-package") {
			t.Errorf("CI=%q: err %v, output:\n%s\nwant %s naming the package", tc.ci, err, out, tc.want)
		}
	}
}
