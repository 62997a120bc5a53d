package agentcmd

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestStandaloneUsageErrors runs the flywheel-agent command line on bad
// input: each fails before contacting a server, with exit code ExitUsage
// and a message naming the flag.
func TestStandaloneUsageErrors(t *testing.T) {
	t.Parallel()
	env := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tags", "nokey", "--server", "http://127.0.0.1:1"}, `--tags "nokey" is not KEY=VALUE`},
		{[]string{"run", "--bundle", filepath.Join(t.TempDir(), "none.bundle"), "--state", t.TempDir()}, "--bundle:"},
		{[]string{"run", "--log-level", "loud", "--server", "http://127.0.0.1:1"}, `--log-level "loud"`},
		// flywheel's own arguments, as a self-update re-executes them.
		{[]string{"agent", "run", "--log-level", "loud", "--server", "http://127.0.0.1:1"}, `--log-level "loud"`},
		{[]string{"agent", "--tags", "=x", "--server", "http://127.0.0.1:1"}, `--tags "=x" is not KEY=VALUE`},
	} {
		root := NewRoot(env)
		root.SetArgs(tc.args)
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.ExecuteContext(context.Background())
		if code := ExitCode(err); code != ExitUsage || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: exit %d, error %v; want exit %d naming %q", tc.args, code, err, ExitUsage, tc.want)
		}
	}
}

func TestStandaloneVersion(t *testing.T) {
	t.Parallel()
	root := NewRoot(func(string) (string, bool) { return "", false })
	root.SetArgs([]string{"version"})
	var out bytes.Buffer
	root.SetOut(&out)
	if err := root.Execute(); err != nil || !strings.HasPrefix(out.String(), "flywheel-agent ") {
		t.Fatalf("version: %q, %v", out.String(), err)
	}
}
