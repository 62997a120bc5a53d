package pack

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ruleFile is a Prometheus rule file (the rule_files format of Prometheus:
// groups of alerting and recording rules). Decoding is strict, so a
// misspelt field fails here rather than in the user's Prometheus.
type ruleFile struct {
	Groups []struct {
		Name        string            `yaml:"name"`
		Interval    string            `yaml:"interval"`
		QueryOffset string            `yaml:"query_offset"`
		Limit       int               `yaml:"limit"`
		Labels      map[string]string `yaml:"labels"`
		Rules       []struct {
			Alert         string            `yaml:"alert"`
			Record        string            `yaml:"record"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// readPrometheus reads the rule files and returns their alert names,
// sorted. Each rule has an expression and is an alert or a recording rule.
// An alert name may repeat (a warning and a critical threshold).
func readPrometheus(files map[string][]byte, source string) ([]string, error) {
	var errs []error
	seen := map[string]string{}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		var rf ruleFile
		dec := yaml.NewDecoder(bytes.NewReader(files[name]))
		dec.KnownFields(true)
		if err := dec.Decode(&rf); err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: not a Prometheus rule file: %w", source, name, err))
			continue
		}
		if len(rf.Groups) == 0 {
			errs = append(errs, fmt.Errorf("%s/%s: no rule groups", source, name))
		}
		for _, g := range rf.Groups {
			if g.Name == "" {
				errs = append(errs, fmt.Errorf("%s/%s: a group without a name", source, name))
			}
			for i, r := range g.Rules {
				where := fmt.Sprintf("%s/%s: group %q, rule %d", source, name, g.Name, i+1)
				switch {
				case (r.Alert == "") == (r.Record == ""):
					errs = append(errs, fmt.Errorf("%s: give one of alert and record", where))
				case strings.TrimSpace(r.Expr) == "":
					errs = append(errs, fmt.Errorf("%s: no expr", where))
				case r.Alert != "":
					seen[r.Alert] = name
				}
			}
		}
	}
	alerts := make([]string, 0, len(seen))
	for a := range seen {
		alerts = append(alerts, a)
	}
	sort.Strings(alerts)
	return alerts, errors.Join(errs...)
}
