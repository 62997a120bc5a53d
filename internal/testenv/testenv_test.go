package testenv

import (
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
