package wire

import (
	"errors"
	"fmt"
	"strings"
)

// Patch operations an agent runs itself (CommandSpec.Patch), with the
// package backend of its host (apt on Debian and Ubuntu) configured on
// the agent, not sent by the server.
const (
	PatchScan    = "scan"
	PatchInstall = "install"
)

// Reboot policies of an install.
const (
	RebootIfNeeded = "reboot-if-needed"
	NoReboot       = "no-reboot"
)

// PatchRequest is a patch operation. The server decides what is approved;
// the agent installs exactly the versions it is given.
type PatchRequest struct {
	// Operation is scan or install.
	Operation string `json:"operation"`
	// Install lists the package versions to install (install only).
	Install []PackageVersion `json:"install,omitempty"`
	// Blocked names packages that must not be installed or upgraded, even
	// as a dependency of an approved one; an approved package that would
	// pull one in is not installed.
	Blocked []string `json:"blocked,omitempty"`
	// PreHook and PostHook are shell scripts run before and after the
	// installs; a failing pre-hook installs nothing.
	PreHook  string `json:"pre_hook,omitempty"`
	PostHook string `json:"post_hook,omitempty"`
	// Reboot is reboot-if-needed (default) or no-reboot.
	Reboot string `json:"reboot,omitempty"`
}

// PackageVersion names one version of a package.
type PackageVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Check validates a request.
func (r *PatchRequest) Check() error {
	switch r.Operation {
	case PatchScan:
		if len(r.Install) > 0 {
			return errors.New("patch: a scan installs nothing")
		}
	case PatchInstall:
	default:
		return fmt.Errorf("patch: operation %q is not scan or install", r.Operation)
	}
	switch r.Reboot {
	case "", RebootIfNeeded, NoReboot:
	default:
		return fmt.Errorf("patch: reboot %q is not %s or %s", r.Reboot, RebootIfNeeded, NoReboot)
	}
	for _, p := range r.Install {
		if !ValidPackageName(p.Name) || p.Version == "" || strings.ContainsAny(p.Version, " \t\n=/\x00") {
			return fmt.Errorf("patch: %q=%q is not a package version", p.Name, p.Version)
		}
	}
	for _, b := range r.Blocked {
		if !ValidPackageName(b) {
			return fmt.Errorf("patch: blocked %q is not a package name", b)
		}
	}
	return nil
}

// ValidPackageName accepts Debian and RPM package names: letters, digits
// and + - . _, starting with a letter or digit.
func ValidPackageName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("+-._", c)) {
			return false
		}
	}
	return true
}

// PatchReport is what a patch operation prints on its last output line
// (prefixed by PatchReportPrefix): the host's package state after it.
type PatchReport struct {
	// Backend is apt, dnf or yum.
	Backend string `json:"backend"`
	// Installed counts the host's installed packages.
	Installed int `json:"installed"`
	// Updates are the versions the host's repositories offer above the
	// installed ones.
	Updates []PackageUpdate `json:"updates"`
	// Failed names packages dpkg left half-installed or half-configured.
	Failed []string `json:"failed,omitempty"`
	// PendingReboot is set when the host asks for a reboot
	// (/var/run/reboot-required), with the packages that asked.
	PendingReboot  bool            `json:"pending_reboot"`
	RebootPackages []string        `json:"reboot_packages,omitempty"`
	Rebooted       bool            `json:"rebooted,omitempty"`
	InstallResults []InstallResult `json:"install_results,omitempty"`
	HookError      string          `json:"hook_error,omitempty"`
}

// PackageUpdate is an available update.
type PackageUpdate struct {
	Name      string `json:"name"`
	Installed string `json:"installed"`
	Candidate string `json:"candidate"`
	// Origins are the repositories offering it, as origin:suite
	// ("Debian-Security:12/stable-security").
	Origins []string `json:"origins,omitempty"`
	// Section and Priority are the package's (Debian: "utils",
	// "optional"); Security is set when an origin is a security suite.
	Section  string `json:"section,omitempty"`
	Priority string `json:"priority,omitempty"`
	Security bool   `json:"security"`
	// Severity is the vendor's (RHEL advisories: Critical, Important, …).
	Severity string `json:"severity,omitempty"`
}

// InstallResult is how installing one package version went.
type InstallResult struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Status is installed, failed or skipped.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// PatchReportPrefix starts the output line that carries the report.
const PatchReportPrefix = "FLYWHEEL-PATCH-REPORT "
