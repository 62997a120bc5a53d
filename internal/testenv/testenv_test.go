package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAbsentFailsInCI runs a test calling Absent in a child process, with
// and without CI=true: skipped without, failed with.
func TestAbsentFailsInCI(t *testing.T) {
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
		cmd := exec.Command(os.Args[0], "-test.run=^TestAbsentFailsInCI$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.fail || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "no-such-package") {
			t.Errorf("CI=%q: err %v, output:\n%s\nwant %s naming the package", tc.ci, err, out, tc.want)
		}
	}
}
