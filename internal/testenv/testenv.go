// Package testenv holds what tests share about the machine they run on:
// a test that needs something the machine lacks (a binary, root, a
// service) skips on a developer's machine but fails in CI, where the
// environment is meant to be complete (.ci/run installs it), so a missing
// dependency can never turn an acceptance test into a silent skip.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI (the CI environment variable
// is "true", as GitHub Actions and most CI systems set it).
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t, saying why, or fails it in CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and "+format, args...)
	}
	t.Skipf(format, args...)
}

// Volume mounts a tmpfs file system of sizeMiB MiB on a new temporary
// directory and returns it; it is unmounted when t ends. A volume of its
// own lets a test fill a disk, and lets disk tools (df, find -xdev) see a
// mount point other than the machine's. It needs root (CAP_SYS_ADMIN).
func Volume(t testing.TB, sizeMiB int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "mounting a test volume needs root")
	}
	dir, err := os.MkdirTemp("", "flywheel-volume-")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm,mode=0755", sizeMiB), "flywheel-test", dir).CombinedOutput()
	if err != nil {
		_ = os.Remove(dir)
		Unavailable(t, "mount a tmpfs test volume: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
		_ = os.Remove(dir)
	})
	return dir
}
