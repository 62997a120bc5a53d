// Package e2e holds end-to-end tests that run Flywheel against the real
// programs it integrates with, not against recordings of them: Prometheus
// and Alertmanager (Debian packages prometheus and prometheus-alertmanager,
// which .ci/run installs) started by the tests themselves on free loopback
// ports, with their own temporary directories and configuration.
//
// Flywheel runs in-process (internal/app) on a loopback port. The peers'
// configuration is taken from the user documentation (docs/intake.md), so
// the snippets users copy are the ones that are tested. A test skips, saying
// what to install, only when a peer's binary is not on PATH.
package e2e
