// Package apt is the agent's patch backend for Debian and Ubuntu: it scans
// the host's real package database with apt-get and dpkg-query, and
// installs exactly the package versions the server approved.
//
// Everything it runs takes its root from Options, so a test (or a host
// image being prepared) can point it at an isolated root — its own dpkg
// database, apt lists and sources — while production uses the system's.
package apt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// Options configure the backend.
type Options struct {
	// Root is the directory apt and dpkg treat as the system's root ("" or
	// "/": the system itself). Under it: etc/apt (sources),
	// var/lib/dpkg (the package database), var/lib/apt/lists.
	Root string
	// Extra are further apt options, each "Key=Value" (passed as -o).
	Extra []string
	// RebootCommand reboots the host (default systemctl reboot).
	RebootCommand []string
	// NoUpdate skips `apt-get update` before a scan or an install.
	NoUpdate bool
}

// Backend runs patch operations with apt.
type Backend struct {
	o Options
}

// New returns the apt backend.
func New(o Options) *Backend {
	if len(o.RebootCommand) == 0 {
		o.RebootCommand = []string{"systemctl", "reboot"}
	}
	return &Backend{o: o}
}

func (b *Backend) isolated() bool { return b.o.Root != "" && b.o.Root != "/" }

func (b *Backend) path(p string) string {
	if !b.isolated() {
		return p
	}
	return filepath.Join(b.o.Root, p)
}

// aptOptions are the -o options every apt command gets.
func (b *Backend) aptOptions() []string {
	var opts []string
	if b.isolated() {
		opts = append(opts,
			"Dir="+b.o.Root,
			"Dir::State::status="+b.path("/var/lib/dpkg/status"),
			"DPkg::Options::=--root="+b.o.Root,
			"DPkg::Options::=--admindir="+b.path("/var/lib/dpkg"),
			// Maintainer scripts run without chroot (the isolated root has no
			// shell of its own); they see DPKG_ROOT.
			"DPkg::Options::=--force-script-chrootless",
			// The _apt sandbox user cannot read a private temporary root.
			"APT::Sandbox::User=root",
		)
	}
	opts = append(opts, "DPkg::Options::=--force-confdef", "DPkg::Options::=--force-confold")
	opts = append(opts, b.o.Extra...)
	args := make([]string, 0, 2*len(opts))
	for _, o := range opts {
		args = append(args, "-o", o)
	}
	return args
}

// run runs a program, copying its output to log, and returns its stdout.
func run(ctx context.Context, log io.Writer, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.MultiWriter(&stderr, log)
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args[len(args)-min(len(args), 2):], " "), err, lastLine(stderr.String()))
	}
	return stdout.String(), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func (b *Backend) aptGet(ctx context.Context, log io.Writer, args ...string) (string, error) {
	return run(ctx, log, "apt-get", append(append(b.aptOptions(), "-q"), args...)...)
}

// Scan reports the host's package state: what is installed, the updates
// its repositories offer, what dpkg left failed, whether a reboot is due.
func (b *Backend) Scan(ctx context.Context, log io.Writer) (wire.PatchReport, error) {
	if !b.o.NoUpdate {
		if _, err := b.aptGet(ctx, log, "update"); err != nil {
			return wire.PatchReport{}, err
		}
	}
	return b.state(ctx, log)
}

func (b *Backend) state(ctx context.Context, log io.Writer) (wire.PatchReport, error) {
	rep := wire.PatchReport{Backend: "apt", Updates: []wire.PackageUpdate{}}
	args := []string{"-W", "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n"}
	if b.isolated() {
		args = append([]string{"--admindir=" + b.path("/var/lib/dpkg")}, args...)
	}
	out, err := run(ctx, log, "dpkg-query", args...)
	if err != nil {
		return rep, err
	}
	rep.Installed, rep.Failed = ParseStatus(out)
	sim, err := b.aptGet(ctx, log, "-s", "dist-upgrade")
	if err != nil {
		return rep, err
	}
	rep.Updates = ParseSimulation(sim)
	if len(rep.Updates) > 0 {
		showArgs := append(b.aptOptions(), "show", "--no-all-versions")
		for _, u := range rep.Updates {
			showArgs = append(showArgs, u.Name+"="+u.Candidate)
		}
		show, err := run(ctx, log, "apt-cache", showArgs...)
		if err != nil {
			return rep, err
		}
		fields := ParseControl(show)
		for i, u := range rep.Updates {
			f := fields[u.Name+"="+u.Candidate]
			rep.Updates[i].Section, rep.Updates[i].Priority = f["Section"], f["Priority"]
		}
	}
	rep.PendingReboot, rep.RebootPackages = b.rebootRequired()
	return rep, nil
}

func (b *Backend) rebootRequired() (bool, []string) {
	for _, dir := range []string{"/run", "/var/run"} {
		if _, err := os.Stat(b.path(dir + "/reboot-required")); err == nil {
			data, _ := os.ReadFile(b.path(dir + "/reboot-required.pkgs"))
			return true, strings.Fields(string(data))
		}
	}
	return false, nil
}

// Install installs the request's package versions one by one (a failed
// package does not stop the others), skipping any that would bring in a
// blocked package, runs the hooks around them, reboots if the policy says
// so, and reports the state after.
func (b *Backend) Install(ctx context.Context, req wire.PatchRequest, log io.Writer) (wire.PatchReport, error) {
	var results []wire.InstallResult
	if req.PreHook != "" {
		if _, err := run(ctx, log, "/bin/sh", "-c", req.PreHook); err != nil {
			rep, serr := b.state(ctx, log)
			rep.HookError = "pre_hook: " + err.Error()
			for _, p := range req.Install {
				rep.InstallResults = append(rep.InstallResults, wire.InstallResult{Name: p.Name, Version: p.Version, Status: "skipped", Error: "the pre-hook failed"})
			}
			return rep, serr
		}
	}
	if !b.o.NoUpdate && len(req.Install) > 0 {
		if _, err := b.aptGet(ctx, log, "update"); err != nil {
			return wire.PatchReport{}, err
		}
	}
	results = append(results, b.repair(ctx, log)...)
	for _, p := range req.Install {
		results = append(results, b.installOne(ctx, log, p, req.Blocked))
	}
	var hookErr string
	if req.PostHook != "" {
		if _, err := run(ctx, log, "/bin/sh", "-c", req.PostHook); err != nil {
			hookErr = "post_hook: " + err.Error()
		}
	}
	rep, err := b.state(ctx, log)
	rep.InstallResults, rep.HookError = results, hookErr
	if err != nil {
		return rep, err
	}
	if rep.PendingReboot && req.Reboot != wire.NoReboot {
		fmt.Fprintf(log, "rebooting: %s\n", strings.Join(b.o.RebootCommand, " "))
		if _, err := run(ctx, log, b.o.RebootCommand[0], b.o.RebootCommand[1:]...); err != nil {
			return rep, fmt.Errorf("reboot: %w", err)
		}
		rep.Rebooted = true
	}
	return rep, nil
}

// repair finishes what a failed install left half-done (apt-get -f
// install configures it again), and reports each package it concerned.
func (b *Backend) repair(ctx context.Context, log io.Writer) []wire.InstallResult {
	before, err := b.state(ctx, io.Discard)
	if err != nil || len(before.Failed) == 0 {
		return nil
	}
	_, ferr := b.aptGet(ctx, log, "install", "-y", "-f")
	after, err := b.state(ctx, io.Discard)
	var out []wire.InstallResult
	for _, name := range before.Failed {
		r := wire.InstallResult{Name: name, Version: "(repair)", Status: "installed"}
		if err != nil || slices.Contains(after.Failed, name) {
			r.Status, r.Error = "failed", fmt.Sprint(errors.Join(ferr, err))
		}
		out = append(out, r)
	}
	return out
}

func (b *Backend) installOne(ctx context.Context, log io.Writer, p wire.PackageVersion, blocked []string) wire.InstallResult {
	res := wire.InstallResult{Name: p.Name, Version: p.Version}
	spec := p.Name + "=" + p.Version
	sim, err := b.aptGet(ctx, log, "-s", "install", spec)
	if err != nil {
		res.Status, res.Error = "failed", err.Error()
		return res
	}
	for _, u := range ParseSimulationAll(sim) {
		if u.Name != p.Name && slices.Contains(blocked, u.Name) {
			res.Status, res.Error = "skipped", fmt.Sprintf("it would install the rejected package %s %s", u.Name, u.Candidate)
			return res
		}
	}
	if _, err := b.aptGet(ctx, log, "install", "-y", spec); err != nil {
		res.Status, res.Error = "failed", err.Error()
		return res
	}
	res.Status = "installed"
	return res
}

// ParseStatus reads dpkg-query lines (package, version, status
// abbreviation): the installed count, and the packages dpkg left
// half-installed, unpacked or half-configured.
func ParseStatus(out string) (installed int, failed []string) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 3 || len(f[2]) < 2 {
			continue
		}
		switch f[2][1] {
		case 'i':
			installed++
		case 'H', 'U', 'F':
			installed++
			failed = append(failed, f[0])
		}
	}
	return installed, failed
}

// ParseSimulation reads `apt-get -s` output: the upgrades of installed
// packages ("Inst NAME [CURRENT] (CANDIDATE ORIGIN:SUITE[, …] [ARCH])").
func ParseSimulation(out string) []wire.PackageUpdate {
	var ups []wire.PackageUpdate
	for _, u := range ParseSimulationAll(out) {
		if u.Installed != "" {
			ups = append(ups, u)
		}
	}
	if ups == nil {
		ups = []wire.PackageUpdate{}
	}
	return ups
}

// ParseSimulationAll is ParseSimulation with new installs as well.
func ParseSimulationAll(out string) []wire.PackageUpdate {
	var ups []wire.PackageUpdate
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "Inst ")
		if !ok {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		u := wire.PackageUpdate{Name: name}
		if cur, after, ok := strings.Cut(rest, "] "); strings.HasPrefix(rest, "[") && ok {
			u.Installed, rest = cur[1:], after
		}
		open, close := strings.IndexByte(rest, '('), strings.LastIndexByte(rest, ')')
		if open < 0 || close < open {
			continue
		}
		inner := rest[open+1 : close]
		if i := strings.LastIndex(inner, " ["); i >= 0 {
			inner = inner[:i]
		}
		ver, origins, _ := strings.Cut(inner, " ")
		u.Candidate = ver
		for _, o := range strings.Split(origins, ", ") {
			if o = strings.TrimSpace(o); o != "" {
				u.Origins = append(u.Origins, o)
				if strings.Contains(strings.ToLower(o), "security") {
					u.Security = true
				}
			}
		}
		if wire.ValidPackageName(u.Name) && u.Candidate != "" {
			ups = append(ups, u)
		}
	}
	return ups
}

// ParseControl reads control stanzas (apt-cache show) into fields by
// "Package=Version".
func ParseControl(out string) map[string]map[string]string {
	all := map[string]map[string]string{}
	cur := map[string]string{}
	flush := func() {
		if cur["Package"] != "" {
			all[cur["Package"]+"="+cur["Version"]] = cur
		}
		cur = map[string]string{}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
		default:
			if k, v, ok := strings.Cut(line, ":"); ok {
				cur[k] = strings.TrimSpace(v)
			}
		}
	}
	flush()
	return all
}
