package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/mdtest"
)

// TestPackCommands drives `flywheel pack` against a server: the catalogue's
// PostgreSQL pack installed, shown, diffed and uninstalled, and the example
// pack of docs/packs.md installed from a directory, then upgraded, refused
// as unchanged and as a downgrade unless forced.
func TestPackCommands(t *testing.T) {
	run, _ := appServer(t)
	must := func(want string, args ...string) string {
		t.Helper()
		out, errOut, code := run(args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("flywheel %s: exit %d, want output containing %q\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		out, errOut, code := run(args...)
		if code == 0 || !strings.Contains(errOut+out, want) {
			t.Fatalf("flywheel %s: exit %d, want a refusal saying %q\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
	}
	out := must("postgresql", "pack", "list")
	if !hasRow(out, "postgresql", "PostgreSQL", "1.0.0", "-", "-") {
		t.Errorf("pack list:\n%s", out)
	}
	must("installed postgresql 1.0.0 for default (digest ", "pack", "install", "postgresql")
	refused("is installed; upgrade it", "pack", "install", "postgresql")
	out = must("installed: 1.0.0", "pack", "show", "postgresql")
	if !hasRow(out, "connections-near-max", "PostgresConnectionsNearMax", "postgres-connection-report", "postgres-terminate-idle-in-transaction") {
		t.Errorf("pack show:\n%s", out)
	}
	must("postgresql 1.0.0 → 1.0.0: 0 document(s) change", "pack", "diff", "postgresql")
	if out := must("postgresql", "pack", "list"); !hasRow(out, "postgresql", "PostgreSQL", "1.0.0", "1.0.0", "installed") {
		t.Errorf("pack list after install:\n%s", out)
	}

	// The page's example pack, from a directory.
	dir := t.TempDir()
	for _, f := range mdtest.Blocks(t, "../../docs/packs.md") {
		if f.Lang != "yaml" || len(f.Lines) == 0 || !strings.HasPrefix(f.Lines[0], "# mypack/") {
			continue
		}
		p := filepath.Join(dir, strings.TrimPrefix(f.Lines[0], "# mypack/"))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.Text()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must("installed mypack 1.2.0 for default", "pack", "install", "mypack", "--dir", dir)
	edit := func(file, old, new string) {
		t.Helper()
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), old) {
			t.Fatalf("%s lacks %q (%v)", file, old, err)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("pack.yaml", "version: 1.2.0", "version: 1.3.0")
	edit("runbooks/billing-queue-report.yaml", "queue/stats", "queue/stats?all=1")
	out = must("mypack 1.2.0 → 1.3.0: 2 document(s) change", "pack", "diff", "mypack", "--dir", dir)
	if !strings.Contains(out, "changed Runbook/billing-queue-report\n") || !strings.Contains(out, `    +             command: [curl, -fsS, "http://localhost:8080/queue/stats?all=1"]`) {
		t.Errorf("pack diff:\n%s", out)
	}
	must("upgraded mypack 1.3.0", "pack", "upgrade", "mypack", "--dir", dir)
	refused("installed already, unchanged", "pack", "upgrade", "mypack", "--dir", dir)
	edit("pack.yaml", "version: 1.3.0", "version: 1.0.0")
	must("(a downgrade: upgrade refuses it without --force)", "pack", "diff", "mypack", "--dir", dir)
	refused("1.0.0 is not newer", "pack", "upgrade", "mypack", "--dir", dir)
	must("upgraded mypack 1.0.0", "pack", "upgrade", "mypack", "--dir", dir, "--force")

	must("uninstalled postgresql", "pack", "uninstall", "postgresql")
	refused("is not installed", "pack", "uninstall", "postgresql")
}

// hasRow reports whether a printed table has a row with exactly these
// cells.
func hasRow(table string, cells ...string) bool {
	for _, l := range strings.Split(table, "\n") {
		if strings.Join(strings.Fields(l), " ") == strings.Join(cells, " ") {
			return true
		}
	}
	return false
}
