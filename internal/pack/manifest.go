// Package pack reads service packs: folders of ordinary content (runbooks,
// rules, config rules …) with Prometheus alerting rules and a manifest
// (pack.yaml, kind Pack) naming the service's top failure scenarios and the
// alerts and runbooks that handle each. The catalogue is embedded in the
// binary (package packs); a tenant installs a pack to make its documents
// that tenant's content (internal/service, internal/app).
package pack

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/content"
)

// KindName is the kind of a pack's manifest.
const KindName = "Pack"

// Spec is a manifest's spec.
type Spec struct {
	// Version is the pack's semantic version, MAJOR.MINOR.PATCH.
	Version string `yaml:"version"`
	// Service is what the pack knows, for people: "PostgreSQL".
	Service  string   `yaml:"service"`
	Requires Requires `yaml:"requires"`
	// Scenarios are the service's top failure scenarios.
	Scenarios []Scenario `yaml:"scenarios"`
}

// Requires is what a pack needs where it runs.
type Requires struct {
	// Host lists programs the runbooks run on the hosts (through the agent).
	Host []string `yaml:"host" json:"host"`
	// IAM lists the AWS IAM actions the runbooks call.
	IAM []string `yaml:"iam" json:"iam"`
}

// Scenario is one failure scenario: how it is detected and which runbooks
// diagnose and remedy it.
type Scenario struct {
	Name    string `yaml:"name" json:"name"`
	Summary string `yaml:"summary" json:"summary"`
	// Alerts are alert names of the pack's prometheus/*.yaml; a pack
	// without Prometheus rule files names the alerts of the service's own
	// monitoring (CloudWatch alarms, EventBridge events).
	Alerts []string `yaml:"alerts" json:"alerts"`
	// Rules are Rule or ConfigRule documents of the pack that detect or
	// route the scenario (for services Prometheus does not watch).
	Rules []string `yaml:"rules" json:"rules"`
	// Diagnostics and Remediation name Runbook documents of the pack.
	Diagnostics []string `yaml:"diagnostics" json:"diagnostics"`
	Remediation []string `yaml:"remediation" json:"remediation"`
}

// Kind returns the Pack kind. It is registered only in the registry that
// reads manifests, not in the content kinds: a manifest is not content.
func Kind() content.Kind {
	return content.Kind{Name: KindName, New: func() any { return new(Spec) }, Validate: func(spec any) error { return spec.(*Spec).validate() }}
}

var semverRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

func (s *Spec) validate() error {
	var errs []error
	if !semverRE.MatchString(s.Version) {
		errs = append(errs, content.FieldErrorf("version", "%q is not a semantic version MAJOR.MINOR.PATCH (e.g. 1.0.0)", s.Version))
	}
	if strings.TrimSpace(s.Service) == "" {
		errs = append(errs, content.FieldErrorf("service", "is required"))
	}
	if len(s.Scenarios) == 0 {
		errs = append(errs, content.FieldErrorf("scenarios", "a pack names at least one scenario"))
	}
	seen := map[string]bool{}
	for i, sc := range s.Scenarios {
		at := func(f string) string { return fmt.Sprintf("scenarios[%d].%s", i, f) }
		switch {
		case sc.Name == "":
			errs = append(errs, content.FieldErrorf(at("name"), "is required"))
		case !content.ValidName(sc.Name):
			errs = append(errs, content.FieldErrorf(at("name"), "%q: letters, digits, '.', '_', '-', starting with a letter or digit", sc.Name))
		case seen[sc.Name]:
			errs = append(errs, content.FieldErrorf(at("name"), "scenario %q named twice", sc.Name))
		}
		seen[sc.Name] = true
		if strings.TrimSpace(sc.Summary) == "" {
			errs = append(errs, content.FieldErrorf(at("summary"), "is required"))
		}
		if len(sc.Diagnostics) == 0 {
			errs = append(errs, content.FieldErrorf(at("diagnostics"), "scenario %q names no diagnostic runbook", sc.Name))
		}
	}
	return errors.Join(errs...)
}

// Compare orders two semantic versions: -1, 0 or 1. Both must be valid.
func Compare(a, b string) int {
	pa, pb := parts(a), parts(b)
	for i := range 3 {
		switch {
		case pa[i] < pb[i]:
			return -1
		case pa[i] > pb[i]:
			return 1
		}
	}
	return 0
}

func parts(v string) [3]uint64 {
	var out [3]uint64
	m := semverRE.FindStringSubmatch(v)
	for i := 0; m != nil && i < 3; i++ {
		out[i], _ = strconv.ParseUint(m[i+1], 10, 64)
	}
	return out
}
