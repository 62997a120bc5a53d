package apt_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/patch/apt"
	"github.com/flywheel-ops/flywheel/internal/patch/apt/apttest"
)

// TestParseSimulation reads `apt-get -s` lines: the first two as apt 2.6
// printed them in an isolated root with a flat test repository, the third
// in the form Debian's apt prints for a package offered by two archives
// (a point release and the security archive).
func TestParseSimulation(t *testing.T) {
	out := `Reading package lists...
Building dependency tree...
Calculating upgrade...
The following packages will be upgraded:
  alpha
Inst alpha [1.0] (2.0 test:stable [all])
Inst newdep (0.5 test:stable [all])
Inst libssl3 [3.0.11-1~deb12u2] (3.0.15-1~deb12u1 Debian:12.8/stable, Debian-Security:12/stable-security [amd64])
Conf alpha (2.0 test:stable [all])
`
	all := apt.ParseSimulationAll(out)
	if len(all) != 3 {
		t.Fatalf("ParseSimulationAll = %+v", all)
	}
	ups := apt.ParseSimulation(out)
	if len(ups) != 2 {
		t.Fatalf("ParseSimulation = %+v, want the two upgrades", ups)
	}
	if u := ups[0]; u.Name != "alpha" || u.Installed != "1.0" || u.Candidate != "2.0" || u.Security || !slices.Equal(u.Origins, []string{"test:stable"}) {
		t.Errorf("alpha = %+v", u)
	}
	if u := ups[1]; u.Name != "libssl3" || u.Installed != "3.0.11-1~deb12u2" || u.Candidate != "3.0.15-1~deb12u1" || !u.Security ||
		!slices.Equal(u.Origins, []string{"Debian:12.8/stable", "Debian-Security:12/stable-security"}) {
		t.Errorf("libssl3 = %+v", u)
	}
}

// TestParseStatus reads dpkg-query lines with the status abbreviations of
// dpkg-query(1): ii installed, iF half-configured, iU unpacked, rc removed
// with its configuration left.
func TestParseStatus(t *testing.T) {
	n, failed := apt.ParseStatus("a\t1\tii \nb\t2\tiF \nc\t3\tiU \nd\t4\trc \n")
	if n != 3 || !slices.Equal(failed, []string{"b", "c"}) {
		t.Errorf("ParseStatus = %d, %v", n, failed)
	}
}

func FuzzParseSimulation(f *testing.F) {
	f.Add("Inst alpha [1.0] (2.0 test:stable [all])\n")
	f.Add("Inst x (")
	f.Add("Inst [ ] ( [")
	f.Fuzz(func(t *testing.T, s string) {
		for _, u := range apt.ParseSimulationAll(s) {
			if !wire.ValidPackageName(u.Name) || u.Candidate == "" {
				t.Errorf("accepted %+v", u)
			}
		}
		apt.ParseControl(s)
		apt.ParseStatus(s)
	})
}

// TestRealPackages runs the backend on packages built here, in an
// isolated root: scan finds the updates (the security one flagged), an
// install takes exactly the versions asked, a blocked package stays out
// even as a dependency (and comes in when allowed), a failing maintainer
// script is a failed package, and a package asking for a reboot gets one.
func TestRealPackages(t *testing.T) {
	apttest.Require(t)
	ctx := context.Background()
	main := apttest.NewRepo(t, "Flywheel", "stable")
	sec := apttest.NewRepo(t, "Flywheel-Security", "stable-security")
	flag := filepath.Join(t.TempDir(), "broken")
	main.Add(t,
		apttest.Deb{Name: "fw-tool", Version: "1.0"}, apttest.Deb{Name: "fw-tool", Version: "2.0", Priority: "important"},
		apttest.Deb{Name: "fw-telnet", Version: "1.0"}, apttest.Deb{Name: "fw-telnet", Version: "2.0"},
		apttest.Deb{Name: "fw-app", Version: "1.0", Depends: "fw-telnet"}, apttest.Deb{Name: "fw-app", Version: "2.0", Depends: "fw-telnet (>= 2.0)"},
		apttest.Deb{Name: "fw-lib", Version: "1.0"},
		apttest.Deb{Name: "fw-fragile", Version: "1.0"},
		apttest.Deb{Name: "fw-fragile", Version: "2.0", Postinst: "#!/bin/sh\nif [ -e " + flag + " ]; then echo 'fw-fragile: this host is broken' >&2; exit 1; fi\n"},
		apttest.Deb{Name: "fw-kernel", Version: "1.0"},
		apttest.Deb{Name: "fw-kernel", Version: "2.0", Postinst: "#!/bin/sh\ntouch \"$DPKG_ROOT/run/reboot-required\"\necho fw-kernel >> \"$DPKG_ROOT/run/reboot-required.pkgs\"\n"},
	)
	sec.Add(t, apttest.Deb{Name: "fw-lib", Version: "1.1"})
	root := apttest.NewRoot(t, main.Source(), sec.Source())
	rebooted := filepath.Join(root, "rebooted")
	b := apt.New(apt.Options{Root: root, RebootCommand: []string{"sh", "-c", "touch " + rebooted + " && rm " + filepath.Join(root, "run/reboot-required")}})
	var log strings.Builder

	seed := wire.PatchRequest{Operation: wire.PatchInstall, Reboot: wire.NoReboot}
	for _, p := range []string{"fw-tool", "fw-telnet", "fw-app", "fw-lib", "fw-fragile", "fw-kernel"} {
		seed.Install = append(seed.Install, wire.PackageVersion{Name: p, Version: "1.0"})
	}
	if rep, err := b.Install(ctx, seed, &log); err != nil || countStatus(rep, "installed") != 6 {
		t.Fatalf("seed: %v %+v\n%s", err, rep.InstallResults, log.String())
	}

	rep, err := b.Scan(ctx, &log)
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, log.String())
	}
	if rep.Backend != "apt" || rep.Installed != 6 || len(rep.Failed) != 0 || rep.PendingReboot {
		t.Errorf("scan = %+v", rep)
	}
	byName := map[string]wire.PackageUpdate{}
	for _, u := range rep.Updates {
		byName[u.Name] = u
	}
	if len(byName) != 6 {
		t.Errorf("updates = %+v, want the six 1.0 → newer", rep.Updates)
	}
	if u := byName["fw-lib"]; u.Candidate != "1.1" || !u.Security {
		t.Errorf("fw-lib = %+v, want 1.1 from the security suite", u)
	}
	if u := byName["fw-tool"]; u.Candidate != "2.0" || u.Security || u.Priority != "important" || u.Section != "utils" {
		t.Errorf("fw-tool = %+v", u)
	}

	// fw-app 2.0 needs fw-telnet 2.0, which is blocked: fw-app is skipped,
	// fw-tool goes in, fw-telnet stays.
	req := wire.PatchRequest{Operation: wire.PatchInstall, Reboot: wire.NoReboot, Blocked: []string{"fw-telnet"},
		Install: []wire.PackageVersion{{Name: "fw-app", Version: "2.0"}, {Name: "fw-tool", Version: "2.0"}}}
	rep, err = b.Install(ctx, req, &log)
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.InstallResults[0]; r.Status != "skipped" || !strings.Contains(r.Error, "rejected package fw-telnet 2.0") {
		t.Errorf("fw-app = %+v", r)
	}
	if got := []string{apttest.Version(t, root, "fw-app"), apttest.Version(t, root, "fw-tool"), apttest.Version(t, root, "fw-telnet")}; !slices.Equal(got, []string{"1.0", "2.0", "1.0"}) {
		t.Errorf("after a blocked install: fw-app, fw-tool, fw-telnet = %v", got)
	}
	// Allowed as a dependency, it comes in with fw-app.
	req.Blocked, req.Install = nil, req.Install[:1]
	if rep, err = b.Install(ctx, req, &log); err != nil || rep.InstallResults[0].Status != "installed" {
		t.Fatalf("fw-app with its dependency: %v %+v", err, rep.InstallResults)
	}
	if got := apttest.Version(t, root, "fw-telnet"); got != "2.0" {
		t.Errorf("fw-telnet = %q, want 2.0 as fw-app's dependency", got)
	}

	// A maintainer script that fails leaves the package failed.
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err = b.Install(ctx, wire.PatchRequest{Operation: wire.PatchInstall, Install: []wire.PackageVersion{{Name: "fw-fragile", Version: "2.0"}}}, &log)
	if err != nil || rep.InstallResults[0].Status != "failed" || !slices.Equal(rep.Failed, []string{"fw-fragile"}) {
		t.Errorf("fw-fragile: %v %+v failed=%v", err, rep.InstallResults, rep.Failed)
	}

	// A package that asks for a reboot gets one (reboot-if-needed), not
	// with no-reboot.
	kernel := wire.PatchRequest{Operation: wire.PatchInstall, Reboot: wire.NoReboot, Install: []wire.PackageVersion{{Name: "fw-kernel", Version: "2.0"}}}
	rep, err = b.Install(ctx, kernel, &log)
	if err != nil || !rep.PendingReboot || rep.Rebooted || !slices.Equal(rep.RebootPackages, []string{"fw-kernel"}) {
		t.Errorf("no-reboot: %v pending=%v rebooted=%v pkgs=%v", err, rep.PendingReboot, rep.Rebooted, rep.RebootPackages)
	}
	kernel.Reboot, kernel.Install = wire.RebootIfNeeded, nil
	if rep, err = b.Install(ctx, kernel, &log); err != nil || !rep.Rebooted {
		t.Errorf("reboot-if-needed: %v %+v", err, rep)
	}
	if _, err := os.Stat(rebooted); err != nil {
		t.Errorf("the reboot command did not run: %v", err)
	}
}

func countStatus(rep wire.PatchReport, status string) int {
	n := 0
	for _, r := range rep.InstallResults {
		if r.Status == status {
			n++
		}
	}
	return n
}
