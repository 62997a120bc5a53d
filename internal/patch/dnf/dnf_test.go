package dnf

import (
	"os"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUpdates reads the outputs in testdata (see its README): five
// packages available (kernel-headers is only an obsolete, not counted);
// kernel, kernel-core, python3-perf and sudo are covered by Important
// security advisories, tzdata by a bug fix.
func TestUpdates(t *testing.T) {
	avail := ParseCheckUpdate(read(t, "check-update.txt"))
	if len(avail) != 5 {
		t.Fatalf("ParseCheckUpdate = %+v", avail)
	}
	if a := avail[2]; a != (Available{Name: "sudo", Arch: "x86_64", Version: "1.8.29-6.el8_3.1", Repo: "rhel-8-for-x86_64-baseos-rpms"}) {
		t.Errorf("sudo = %+v", a)
	}
	advs := ParseUpdateinfo(read(t, "updateinfo-list.txt"))
	if len(advs) != 5 {
		t.Fatalf("ParseUpdateinfo = %+v", advs)
	}
	if a := advs[3]; a != (Advisory{ID: "RHSA-2021:0218", Type: "security", Severity: "Important", Name: "sudo", Version: "1.8.29-6.el8_3.1", Arch: "x86_64"}) {
		t.Errorf("sudo advisory = %+v", a)
	}
	if a := advs[1]; a.Name != "kernel-core" || a.Version != "4.18.0-240.10.1.el8_3" {
		t.Errorf("kernel-core advisory = %+v", a)
	}
	want := map[string]wire.PackageUpdate{
		"kernel":       {Security: true, Severity: "Important"},
		"kernel-core":  {Security: true, Severity: "Important"},
		"sudo":         {Security: true, Severity: "Important"},
		"python3-perf": {Security: true, Severity: "Important"},
		"tzdata":       {},
	}
	for _, u := range Updates(avail, advs) {
		w, ok := want[u.Name]
		if !ok || u.Security != w.Security || u.Severity != w.Severity {
			t.Errorf("%s: security %v severity %q, want %+v", u.Name, u.Security, u.Severity, w)
		}
		delete(want, u.Name)
	}
	if len(want) != 0 {
		t.Errorf("missing updates: %v", want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("sudo.x86_64 1.8.29-6.el8_3.1 baseos\n")
	f.Add("RHSA-2021:0218 Important/Sec. sudo-1.8.29-6.el8_3.1.x86_64\n")
	f.Add("X-1 security a-.b\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range ParseCheckUpdate(s) {
			if !wire.ValidPackageName(a.Name) {
				t.Errorf("accepted %+v", a)
			}
		}
		for _, a := range ParseUpdateinfo(s) {
			if !wire.ValidPackageName(a.Name) || a.Version == "" {
				t.Errorf("accepted %+v", a)
			}
		}
	})
}
