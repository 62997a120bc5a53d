package patch

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Expedites raised without a person: an Inspector finding naming a
// vulnerable package on a managed host, and a scan that sees a new
// critical or high security update the baseline approves (or will, after
// its delay). Both still wait for an admin's approval; the actor is
// SystemActor. Each claims a key — package, version, the sorted hosts — so
// a finding delivered again, a second finding of the same package, or the
// next tick does not expedite it twice.

// SystemActor is who requests the expedites Flywheel raises itself.
const SystemActor = "system:patch"

// FreshFor is how long after a version was first seen a scan still
// expedites it: older updates are the windows' to install.
const FreshFor = 7 * 24 * time.Hour

// expediteLevels are the compliance levels (and finding severities) that
// are expedited.
var expediteLevels = []string{"critical", "high"}

// expediteKey is the deduplication key of an expedite of pkg at version
// (for a finding: the fixed-in version) on hosts.
func expediteKey(pkg, version string, hosts []string) string {
	sorted := slices.Sorted(slices.Values(hosts))
	sum := sha256.Sum256([]byte(strings.Join(sorted, "\n")))
	return pkg + "=" + version + "@" + hex.EncodeToString(sum[:12])
}

// FindingPackage is a vulnerable package an Inspector finding names.
type FindingPackage struct {
	Name    string
	FixedIn string
}

// PackageFinding reports whether e is a firing critical or high Inspector
// package-vulnerability finding, and the packages it names (those with a
// valid package name) with the versions that fix them.
func PackageFinding(e *event.Event) ([]FindingPackage, bool) {
	if e.Source != "inspector2" || e.Kind != event.KindFinding || e.Status == event.StatusResolved ||
		!slices.Contains(expediteLevels, string(e.Severity)) || e.Labels["packages"] == "" {
		return nil, false
	}
	fixed := ParseVulnerablePackages(e.Annotations["vulnerable_packages"])
	var out []FindingPackage
	for name := range strings.SplitSeq(e.Labels["packages"], ",") {
		name = strings.TrimSpace(name)
		if wire.ValidPackageName(name) && !slices.ContainsFunc(out, func(p FindingPackage) bool { return p.Name == name }) {
			out = append(out, FindingPackage{Name: name, FixedIn: fixed[name]})
		}
	}
	return out, len(out) > 0
}

// ParseVulnerablePackages reads the eventbridge adapter's
// vulnerable_packages annotation, one "name version (fixed in V)" a line,
// into the fixed-in version by package name (lines without one are left
// out).
func ParseVulnerablePackages(s string) map[string]string {
	out := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		head, rest, ok := strings.Cut(line, " (fixed in ")
		v, closed := strings.CutSuffix(rest, ")")
		name, _, _ := strings.Cut(strings.TrimSpace(head), " ")
		if ok && closed && name != "" && v != "" && !strings.ContainsAny(v, " \t()") {
			out[name] = v
		}
	}
	return out
}

// ExpediteFinding expedites each package of an Inspector finding on the
// managed hosts it names (references resolved to agents' hosts), inside
// the pipeline's transaction tx. A finding on no managed host, or not a
// critical or high package vulnerability, does nothing. It returns the
// expedites it created.
func (s *Service) ExpediteFinding(ctx context.Context, tx store.Tx, tenant string, e *event.Event) ([]store.Expedite, error) {
	pkgs, ok := PackageFinding(e)
	if !ok {
		return nil, nil
	}
	var hosts []string
	for _, r := range e.Resources {
		res, err := s.o.Resolve(ctx, tx, tenant, r.ID)
		if err != nil {
			return nil, err
		}
		if res.Resolved() && !slices.Contains(hosts, res.ResourceID) {
			hosts = append(hosts, res.ResourceID)
		}
	}
	if len(hosts) == 0 {
		return nil, nil
	}
	slices.Sort(hosts)
	source := "inspector2 " + cmp.Or(e.Labels["vulnerability_id"], e.SourceID)
	var out []store.Expedite
	for _, p := range pkgs {
		reason := e.Title
		if p.FixedIn != "" {
			reason += " (fixed in " + p.FixedIn + ")"
		}
		ex, created, err := s.expedite(ctx, tx, tenant, SystemActor, ExpediteRequest{Package: p.Name, Source: source, Reason: reason, Targets: hosts},
			expediteKey(p.Name, p.FixedIn, hosts))
		if err != nil {
			return out, fmt.Errorf("expedite %s from %s: %w", p.Name, source, err)
		}
		if created {
			out = append(out, ex)
		}
	}
	return out, nil
}

// expediteScanned expedites the new critical or high security updates the
// tenant's latest scans saw and the baselines approve or will approve
// (first seen within FreshFor): one expedite per version, on the hosts that
// miss it and no expedite of it covers yet.
func (s *Service) expediteScanned(ctx context.Context, tenant string, now time.Time) error {
	states, err := s.o.Store.ListPatchStates(ctx, tenant)
	if err != nil {
		return err
	}
	hosts := map[string][]string{} // "name=version" → hosts
	var names []string
	for _, st := range states {
		var d HostDetail
		if err := json.Unmarshal(st.Detail, &d); err != nil || d.HostException != "" {
			continue
		}
		for _, dec := range d.Decisions {
			if dec.Security && (dec.Status == Approved || dec.Status == Pending) && slices.Contains(expediteLevels, dec.ComplianceLevel) {
				nv := dec.Name + "=" + dec.Candidate
				hosts[nv] = append(hosts[nv], st.ResourceID)
				names = append(names, dec.Name)
			}
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	released, err := s.o.Store.PatchReleases(ctx, tenant, slices.Compact(slices.Sorted(slices.Values(names))))
	if err != nil {
		return err
	}
	exps, err := s.o.Store.ListExpedites(ctx, tenant)
	if err != nil {
		return err
	}
	for _, nv := range sortedKeys(hosts) {
		first, ok := released[nv]
		if !ok || now.Sub(first) > FreshFor {
			continue
		}
		name, version, _ := strings.Cut(nv, "=")
		targets := slices.DeleteFunc(hosts[nv], func(h string) bool { return covered(exps, name, version, h) })
		if len(targets) == 0 {
			continue
		}
		slices.Sort(targets)
		req := ExpediteRequest{Package: name, Version: version, Source: "repository: " + nv + " flagged security",
			Reason: fmt.Sprintf("new security update, first seen %s", first.UTC().Format(time.RFC3339)), Targets: targets}
		err := s.o.Store.InTx(ctx, func(tx store.Tx) error {
			_, _, err := s.expedite(ctx, tx, tenant, SystemActor, req, expediteKey(name, version, targets))
			return err
		})
		if err != nil {
			return fmt.Errorf("expedite %s: %w", nv, err)
		}
	}
	return nil
}

// covered reports whether an expedite of name (at version, or at whatever
// the candidate is) includes host, whatever became of it: one a person
// rejected is not raised again; the windows install the update once its
// delay passes.
func covered(exps []store.Expedite, name, version, host string) bool {
	return slices.ContainsFunc(exps, func(e store.Expedite) bool {
		return e.Package == name && (e.Version == "" || e.Version == version) && slices.Contains(e.Targets, host)
	})
}
