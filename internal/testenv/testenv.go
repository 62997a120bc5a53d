// Package testenv decides what a test does when a real service it needs
// (PostgreSQL, Chromium, Prometheus, Alertmanager, node-exporter) is absent.
//
// On a developer's machine the test skips with a message saying what to
// install. In CI (the environment variable CI is set and not "false") or
// when FLYWHEEL_REQUIRE_SERVICES=1, the same absence fails the test: .ci/run
// installs and starts every service, so a missing one there is a broken
// CI set-up, never a reason to pass.
package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Required reports whether absent services must fail tests instead of
// skipping them.
func Required() bool {
	if v := os.Getenv("FLYWHEEL_REQUIRE_SERVICES"); v != "" {
		return v != "0" && !strings.EqualFold(v, "false")
	}
	v := os.Getenv("CI")
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

// Absent ends t because a service it needs is absent: Fatalf where
// services are required, Skipf elsewhere. The message should name the
// service and how to install or start it.
func Absent(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("required service absent (CI or FLYWHEEL_REQUIRE_SERVICES is set): "+format, args...)
		return
	}
	t.Skipf(format, args...)
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
