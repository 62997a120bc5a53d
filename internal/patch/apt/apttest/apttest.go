// Package apttest builds real Debian packages and apt repositories for
// tests: .deb files made with dpkg-deb, a flat repository (Packages and
// Release written here) served as a file: source, and isolated roots (a
// dpkg database and apt state of their own) for the apt backend to patch,
// so the machine's own package database is never touched.
package apttest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// Deb is a package to build.
type Deb struct {
	Name, Version string
	// Section and Priority default to utils and optional.
	Section, Priority string
	// Depends is the Depends field ("" : none).
	Depends string
	// Postinst is the maintainer script run after unpacking ("" : none).
	Postinst string
}

// Require stops the test (skip locally, fail in CI) unless dpkg-deb and
// apt-get are here and the test runs as root (apt takes its locks).
func Require(t testing.TB) {
	t.Helper()
	testenv.Program(t, "dpkg", "dpkg-deb")
	testenv.Program(t, "apt", "apt-get")
	if os.Geteuid() != 0 {
		testenv.Absent(t, "apt in an isolated root needs root (its lock files)")
	}
}

// Repo is a flat apt repository in a directory.
type Repo struct {
	Dir           string
	Origin, Suite string
	debs          []string
}

// NewRepo makes an empty repository; a Suite containing "security"
// makes its packages security updates.
func NewRepo(t testing.TB, origin, suite string) *Repo {
	t.Helper()
	r := &Repo{Dir: t.TempDir(), Origin: origin, Suite: suite}
	r.index(t)
	return r
}

// Source is the repository's sources.list line.
func (r *Repo) Source() string { return "deb [trusted=yes] file:" + r.Dir + " ./" }

// Add builds packages into the repository and rewrites its index.
func (r *Repo) Add(t testing.TB, debs ...Deb) {
	t.Helper()
	for _, d := range debs {
		r.debs = append(r.debs, build(t, r.Dir, d))
	}
	r.index(t)
}

func build(t testing.TB, dir string, d Deb) string {
	t.Helper()
	if d.Section == "" {
		d.Section = "utils"
	}
	if d.Priority == "" {
		d.Priority = "optional"
	}
	tree := filepath.Join(t.TempDir(), d.Name)
	files := map[string]string{
		"usr/share/" + d.Name + "/version": d.Version + "\n",
	}
	control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Flywheel tests <tests@flywheel.invalid>\nSection: %s\nPriority: %s\n",
		d.Name, d.Version, d.Section, d.Priority)
	if d.Depends != "" {
		control += "Depends: " + d.Depends + "\n"
	}
	control += "Description: test package " + d.Name + "\n"
	files["DEBIAN/control"] = control
	if d.Postinst != "" {
		files["DEBIAN/postinst"] = d.Postinst
	}
	for name, data := range files {
		p := filepath.Join(tree, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "DEBIAN/post") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, fmt.Sprintf("%s_%s_all.deb", d.Name, d.Version))
	if b, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", tree, out).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build %s: %v\n%s", d.Name, err, b)
	}
	return out
}

// index writes Packages (each .deb's control fields, Filename, Size,
// SHA256) and a Release naming it.
func (r *Repo) index(t testing.TB) {
	t.Helper()
	var pk strings.Builder
	debs := append([]string(nil), r.debs...)
	sort.Strings(debs)
	for _, deb := range debs {
		ctrl, err := exec.Command("dpkg-deb", "-f", deb).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f %s: %v", deb, err)
		}
		data, err := os.ReadFile(deb)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&pk, "%sFilename: ./%s\nSize: %d\nSHA256: %s\n\n", strings.TrimRight(string(ctrl), "\n")+"\n", filepath.Base(deb), len(data), hex.EncodeToString(sum[:]))
	}
	packages := []byte(pk.String())
	if err := os.WriteFile(filepath.Join(r.Dir, "Packages"), packages, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(packages)
	release := fmt.Sprintf("Origin: %s\nLabel: %s\nSuite: %s\nCodename: %s\nDate: %s\nArchitectures: all amd64 arm64\nSHA256:\n %s %d Packages\n",
		r.Origin, r.Origin, r.Suite, r.Suite, time.Now().UTC().Format(time.RFC1123Z), hex.EncodeToString(sum[:]), len(packages))
	if err := os.WriteFile(filepath.Join(r.Dir, "Release"), []byte(release), 0o644); err != nil {
		t.Fatal(err)
	}
}

// NewRoot makes an isolated root: an empty dpkg database and apt state,
// with sources.list holding the given lines.
func NewRoot(t testing.TB, sources ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d", "var/lib/apt/lists/partial",
		"var/cache/apt/archives/partial", "var/lib/dpkg/updates", "var/lib/dpkg/info", "var/log/apt", "run"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	SetSources(t, root, sources...)
	return root
}

// SetSources replaces a root's sources.list.
func SetSources(t testing.TB, root string, sources ...string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte(strings.Join(sources, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Version returns the version of a package installed in root ("" : not
// installed, or not fully: half-configured after a failed script), read with dpkg-query from root's own database.
func Version(t testing.TB, root, name string) string {
	t.Helper()
	out, err := exec.Command("dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${Version} ${db:Status-Abbrev}", name).Output()
	if err != nil {
		return ""
	}
	ver, status, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if status != "ii" {
		return ""
	}
	return ver
}
