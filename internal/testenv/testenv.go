// Package testenv decides what a test does when something it needs from the
// machine — a service, a program from a Debian package — is absent: on a
// developer's machine it skips, saying what to install; in CI (the
// environment variable CI is "true", as .ci/run and CI services set it) it
// fails, so a missing install never passes as a skipped test.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI.
func InCI() bool { return os.Getenv("CI") == "true" }

// Absent stops the test because something it needs is missing: t.Fatal in
// CI, t.Skip elsewhere. The message says what is missing and how to get it.
func Absent(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		tb.Fatalf("%s (CI=true: a missing dependency fails the test)", msg)
	}
	tb.Skip(msg)
}

// Program returns the path of the first of names on PATH, or stops the test
// with Absent, naming the Debian package pkg that provides it.
func Program(tb testing.TB, pkg string, names ...string) string {
	tb.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Absent(tb, "none of %v on PATH: install the Debian package %s (.ci/run does)", names, pkg)
	return ""
}
