package patch

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// GroupKind is the content kind of patch groups.
const GroupKind = "PatchGroup"

// Reboot policies of a group: the agent's two, and coordinated, which
// patches (and so reboots) one host of an application at a time.
const RebootCoordinated = "coordinated"

var rebootPolicies = []string{wire.RebootIfNeeded, wire.NoReboot, RebootCoordinated}

// GroupSpec is a PatchGroup document's spec: which hosts follow which
// baseline, how they reboot, and what is excepted.
type GroupSpec struct {
	// Baseline names the PatchBaseline the group's hosts follow.
	Baseline string `yaml:"baseline" json:"baseline,omitempty"`
	// Targets select the hosts: inventory tags, a ResourceGroup, resource
	// IDs; any one given that matches puts a host in the group.
	Targets Targets `yaml:"targets" json:"targets,omitempty"`
	// Reboot is reboot-if-needed (default), no-reboot or coordinated.
	Reboot string `yaml:"reboot" json:"reboot,omitempty"`
	// PreHook and PostHook are shell scripts the agent runs around an
	// install (stop a service, drain a node, check it came back).
	PreHook  string `yaml:"pre_hook" json:"pre_hook,omitempty"`
	PostHook string `yaml:"post_hook" json:"post_hook,omitempty"`
	// Exceptions take a package, or a whole host, out of compliance until
	// they expire.
	Exceptions []Exception `yaml:"exceptions" json:"exceptions,omitempty"`
	// ComplianceSLA is how long a host may stay non-compliant before an
	// OpsItem is opened about it ("" : never).
	ComplianceSLA string `yaml:"compliance_sla" json:"compliance_sla,omitempty"`
}

// Targets select a group's hosts.
type Targets struct {
	Tags        map[string]string `yaml:"tags" json:"tags,omitempty"`
	Group       string            `yaml:"group" json:"group,omitempty"`
	ResourceIDs []string          `yaml:"resource_ids" json:"resource_ids,omitempty"`
}

// Exception is a workload exception: a package (on every host of the
// group) or a host (for every package), with who asked, why and until
// when.
type Exception struct {
	Package string `yaml:"package" json:"package,omitempty"`
	Host    string `yaml:"host" json:"host,omitempty"`
	Reason  string `yaml:"reason" json:"reason,omitempty"`
	Owner   string `yaml:"owner" json:"owner,omitempty"`
	// Expires is a date (YYYY-MM-DD, UTC); the exception ends when it
	// begins.
	Expires string `yaml:"expires" json:"expires,omitempty"`
}

// GroupKindDef returns the PatchGroup content kind.
func GroupKindDef() content.Kind {
	return content.Kind{
		Name:     GroupKind,
		New:      func() any { return &GroupSpec{Reboot: wire.RebootIfNeeded} },
		Validate: func(spec any) error { return spec.(*GroupSpec).Validate() },
	}
}

// Validate checks a group.
func (g *GroupSpec) Validate() error {
	var errs []error
	if g.Baseline == "" {
		errs = append(errs, content.FieldErrorf("baseline", "is required"))
	}
	if len(g.Targets.Tags) == 0 && g.Targets.Group == "" && len(g.Targets.ResourceIDs) == 0 {
		errs = append(errs, content.FieldErrorf("targets", "select no host; give tags, group or resource_ids"))
	}
	if !slices.Contains(rebootPolicies, g.Reboot) {
		errs = append(errs, content.FieldErrorf("reboot", "%q is not one of %s", g.Reboot, strings.Join(rebootPolicies, ", ")))
	}
	if g.ComplianceSLA != "" {
		if d, err := time.ParseDuration(g.ComplianceSLA); err != nil || d <= 0 {
			errs = append(errs, content.FieldErrorf("compliance_sla", "%q is not a positive duration (72h)", g.ComplianceSLA))
		}
	}
	for i, e := range g.Exceptions {
		f := "exceptions[" + strconv.Itoa(i) + "]"
		if (e.Package == "") == (e.Host == "") {
			errs = append(errs, content.FieldErrorf(f, "names exactly one of package and host"))
		}
		if e.Package != "" && !wire.ValidPackageName(e.Package) {
			errs = append(errs, content.FieldErrorf(f+".package", "%q is not a package name", e.Package))
		}
		if strings.TrimSpace(e.Reason) == "" || strings.TrimSpace(e.Owner) == "" {
			errs = append(errs, content.FieldErrorf(f, "needs a reason and an owner"))
		}
		if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
			errs = append(errs, content.FieldErrorf(f+".expires", "%q is not a date (YYYY-MM-DD); exceptions expire", e.Expires))
		}
	}
	return errors.Join(errs...)
}

// SLA is the group's compliance SLA (0: none).
func (g *GroupSpec) SLA() time.Duration {
	d, _ := time.ParseDuration(g.ComplianceSLA)
	return d
}

// activeExceptions returns the package exceptions in force at now for a
// host (by resource ID or name), and the host's own exception ("" : none).
func (g *GroupSpec) activeExceptions(hostIDs []string, now time.Time) (packages map[string]string, host string) {
	packages = map[string]string{}
	for _, e := range g.Exceptions {
		exp, err := time.Parse(time.DateOnly, e.Expires)
		if err != nil || !now.Before(exp) {
			continue
		}
		why := e.Reason + " (" + e.Owner + ", until " + e.Expires + ")"
		switch {
		case e.Package != "":
			packages[e.Package] = why
		case slices.Contains(hostIDs, e.Host):
			host = why
		}
	}
	return packages, host
}

// CheckRefs is a cross-document check: a group's baseline and resource
// group exist.
func CheckRefs(set *content.Set) error {
	var errs []error
	for _, it := range set.Items(GroupKind) {
		g, ok := it.Spec.(*GroupSpec)
		if !ok {
			continue
		}
		if !set.Defined(BaselineKind, g.Baseline) {
			errs = append(errs, &content.Error{Origin: it.Origin, Msg: fmt.Sprintf("PatchGroup %q: spec.baseline: no PatchBaseline %q", it.Name, g.Baseline)})
		}
		if g.Targets.Group != "" && !set.Defined("ResourceGroup", g.Targets.Group) {
			errs = append(errs, &content.Error{Origin: it.Origin, Msg: fmt.Sprintf("PatchGroup %q: spec.targets.group: no ResourceGroup %q", it.Name, g.Targets.Group)})
		}
	}
	return errors.Join(errs...)
}
