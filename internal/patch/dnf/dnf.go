// Package dnf reads the output of dnf (and yum, which prints the same) on
// RHEL-family hosts into the updates a patch baseline decides on: `dnf
// check-update` for what is available, `dnf updateinfo list --available`
// for which advisories (security, with a severity) cover it.
package dnf

import (
	"bufio"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// Available is a line of `dnf check-update`.
type Available struct {
	Name, Arch, Version, Repo string
}

// ParseCheckUpdate reads `dnf check-update`: "name.arch version repo"
// lines, up to the obsoletes section.
func ParseCheckUpdate(out string) []Available {
	var l []Available
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Obsoleting Packages") {
			break
		}
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasPrefix(line, " ") {
			continue
		}
		i := strings.LastIndexByte(f[0], '.')
		if i <= 0 || !wire.ValidPackageName(f[0][:i]) {
			continue
		}
		l = append(l, Available{Name: f[0][:i], Arch: f[0][i+1:], Version: f[1], Repo: f[2]})
	}
	return l
}

// Advisory is a line of `dnf updateinfo list`.
type Advisory struct {
	ID string
	// Type is security, bugfix or enhancement.
	Type string
	// Severity is Critical, Important, Moderate or Low (security only).
	Severity string
	// Name, Version and Arch are the package's ("sudo", "1.8.29-6.el8_3.1").
	Name, Version, Arch string
}

// ParseUpdateinfo reads `dnf updateinfo list`: "ID TYPE NEVRA" lines,
// where a security TYPE reads "Important/Sec.".
func ParseUpdateinfo(out string) []Advisory {
	var l []Advisory
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || !strings.Contains(f[0], "-") {
			continue
		}
		a := Advisory{ID: f[0], Type: f[1]}
		if sev, ok := strings.CutSuffix(f[1], "/Sec."); ok {
			a.Type, a.Severity = "security", sev
		}
		var ok bool
		if a.Name, a.Version, a.Arch, ok = splitNEVRA(f[2]); !ok {
			continue
		}
		l = append(l, a)
	}
	return l
}

// splitNEVRA splits name-version-release.arch (the epoch, if any, is in
// the version).
func splitNEVRA(s string) (name, version, arch string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 {
		return "", "", "", false
	}
	s, arch = s[:i], s[i+1:]
	rel := strings.LastIndexByte(s, '-')
	if rel <= 0 {
		return "", "", "", false
	}
	ver := strings.LastIndexByte(s[:rel], '-')
	if ver <= 0 {
		return "", "", "", false
	}
	name, version = s[:ver], s[ver+1:]
	return name, version, arch, wire.ValidPackageName(name)
}

var severityRank = []string{"Critical", "Important", "Moderate", "Low"}

// Updates joins the two: each available package, security when a
// security advisory covers its version, with the most severe severity.
func Updates(avail []Available, advisories []Advisory) []wire.PackageUpdate {
	out := make([]wire.PackageUpdate, 0, len(avail))
	for _, a := range avail {
		u := wire.PackageUpdate{Name: a.Name, Candidate: a.Version, Origins: []string{a.Repo}}
		for _, adv := range advisories {
			if adv.Name != a.Name || adv.Version != a.Version || adv.Type != "security" {
				continue
			}
			u.Security = true
			if u.Severity == "" || rank(adv.Severity) < rank(u.Severity) {
				u.Severity = adv.Severity
			}
		}
		out = append(out, u)
	}
	return out
}

func rank(sev string) int {
	if i := slices.Index(severityRank, sev); i >= 0 {
		return i
	}
	return len(severityRank)
}
