package content_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// TestDiskCleanupRunsOnAVolume runs the library's disk-cleanup for real,
// on this machine (the exec action's local target), on a small volume of
// its own: report-only without an OpsItem lists what would go and removes
// nothing; a real run removes only old rotated logs and old core dumps —
// never live or recent files, links or what they point to — and a volume
// that one large non-log file keeps full ends the run ineffective with
// that file among the top consumers on the OpsItem.
func TestDiskCleanupRunsOnAVolume(t *testing.T) {
	vol := testenv.Volume(t, 16)
	old := time.Now().Add(-30 * 24 * time.Hour)
	write := func(rel string, kib int, aged bool) string {
		p := filepath.Join(vol, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), kib<<10), 0o644); err != nil {
			t.Fatal(err)
		}
		if aged {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	// Removed: old rotations in the log dir.
	gone := []string{write("log/syslog.1", 1024, true), write("log/app/app.log.2.gz", 1024, true), write("log/auth.log-20260101", 512, true)}
	// Kept: live logs (even old ones), a recent rotation, a non-log file.
	kept := []string{write("log/syslog", 64, true), write("log/syslog.3.gz", 64, false), write("log/notes.txt", 64, true)}
	outside := t.TempDir() // on another volume: never touched
	if err := os.WriteFile(filepath.Join(outside, "archive.gz"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(filepath.Join(outside, "archive.gz"), old, old)
	if err := os.Symlink(filepath.Join(outside, "archive.gz"), filepath.Join(vol, "log", "link.gz")); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, filepath.Join(vol, "log", "link.gz"), filepath.Join(outside, "archive.gz"))
	params := map[string]any{"mountpoint": vol, "log_dir": filepath.Join(vol, "log"), "journal": false, "package_cache": false,
		"core_dumps": true, "app_log_dirs": true, "target_percent": 50}

	h := newHarnessWith(t, nil, exec.Options{AllowLocal: true})

	// Report only, by hand, no OpsItem: lists, removes nothing.
	report := map[string]any{"report_only": true}
	for k, v := range params {
		report[k] = v
	}
	e, _ := h.runOn(t, false, "disk-cleanup", report, "local")
	if e.Status != runbook.StatusSucceeded {
		t.Fatalf("report only: %s %s\nsteps: %v", e.Status, e.Error, h.steps(t, e))
	}
	out := decode(t, e.Outputs)
	files := filesOf(out)
	slices.Sort(files)
	want := slices.Clone(gone)
	slices.Sort(want)
	if !slices.Equal(files, want) || out["removed_files"] != float64(len(gone)) {
		t.Errorf("report only lists %v (removed_files %v), want %v", files, out["removed_files"], want)
	}
	for _, p := range append(slices.Clone(gone), kept...) {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("report only removed %s", p)
		}
	}

	// The real run: the rotations go; the volume ends below 50%.
	e, o := h.run(t, "disk-cleanup", params, "local")
	if e.Status != runbook.StatusSucceeded {
		t.Fatalf("cleanup: %s %s\nsteps: %v", e.Status, e.Error, h.steps(t, e))
	}
	for _, p := range gone {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s not removed (%v)", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	data := decode(t, o.OperationalData)
	dc := data["disk_cleanup"].([]any)[0].(map[string]any)
	if removed := dc["removed_files"].([]any); len(removed) != len(gone) {
		t.Errorf("removed_files on the OpsItem: %v", removed)
	}
	if _, ok := data["disk_diagnostics"]; ok {
		t.Errorf("diagnostics for a volume below its target: %s", jsonOf(data["disk_diagnostics"]))
	}

	// One large non-log file fills the volume: nothing to clean, the run
	// is ineffective, the file is first among the top consumers.
	big := write("data/dump.bin", 12<<10, true)
	e, o = h.run(t, "disk-cleanup", params, "local")
	if e.Status != runbook.StatusIneffective || !strings.Contains(e.Error, "not verified: the volume is still above its target") {
		t.Fatalf("full volume: %s %q\nsteps: %v", e.Status, e.Error, h.steps(t, e))
	}
	if _, err := os.Stat(big); err != nil {
		t.Errorf("the large file was removed: %v", err)
	}
	data = decode(t, o.OperationalData)
	diag, _ := data["disk_diagnostics"].([]any)
	if len(diag) != 1 {
		t.Fatalf("disk_diagnostics: %s", jsonOf(data))
	}
	rep := diag[0].(map[string]any)["report"].(string)
	files5 := strings.SplitN(strings.SplitN(rep, "(bytes) ==\n", 2)[1], "\n", 2)[0]
	if !strings.HasSuffix(files5, " "+big) {
		t.Errorf("the largest file listed is %q, want %s:\n%s", files5, big, rep)
	}
	for _, section := range []string{"== largest directories on " + vol, "== deleted files still open ==", "== growth =="} {
		if !strings.Contains(rep, section) {
			t.Errorf("diagnostics lack %q:\n%s", section, rep)
		}
	}
}

// filesOf lists the files output of a disk-cleanup run.
func filesOf(out map[string]any) []string {
	var files []string
	hosts, _ := out["files"].([]any)
	for _, h := range hosts {
		fs, _ := h.(map[string]any)["files"].([]any)
		for _, f := range fs {
			files = append(files, f.(string))
		}
	}
	return files
}
