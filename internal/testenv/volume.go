package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Volume mounts a tmpfs file system of sizeMiB MiB on a new temporary
// directory and returns it; it is unmounted when t ends. A volume of its
// own lets a test fill a disk, and lets disk tools (df, find -xdev) see a
// mount point other than the machine's. It needs root (CAP_SYS_ADMIN).
func Volume(t testing.TB, sizeMiB int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		Absent(t, "mounting a test volume needs root")
	}
	dir, err := os.MkdirTemp("", "flywheel-volume-")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm,mode=0755", sizeMiB), "flywheel-test", dir).CombinedOutput()
	if err != nil {
		_ = os.Remove(dir)
		Absent(t, "mount a tmpfs test volume: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
		_ = os.Remove(dir)
	})
	return dir
}
