package application

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// Discovery: the labels and tags that name a service in events already
// seen, and that no declared application selects, become proposals — each
// a drafted Application a person reviews and accepts by adding it to
// content. Nothing here changes correlation.

// DiscoveryLabels are the labels that name an application, in the order a
// proposal prefers them; "tag:Application" is the AWS tag.
var DiscoveryLabels = []string{"service", "app", "app.kubernetes.io/name", "job", "tag:Application"}

// Proposal is a proposed application: the label value that names it, how
// many events carried it, their alert names (up to five) and the drafted
// Application (YAML).
type Proposal struct {
	Name   string   `json:"name"`
	Label  string   `json:"label"`
	Value  string   `json:"value"`
	Events int      `json:"events"`
	Alerts []string `json:"alerts"`
	YAML   string   `json:"yaml"`
}

var nameClean = regexp.MustCompile(`[^a-z0-9-]+`)

// Propose proposes applications for tenant from events: one per label
// value of DiscoveryLabels (the first each event has) among events no
// application in c selects, most events first. The drafts carry
// metadata.tenant.
func Propose(c *Catalog, tenant string, evs []*event.Event) []Proposal {
	type key struct{ label, value string }
	by := map[key]*Proposal{}
	for _, e := range evs {
		if _, ok := c.Of(tenant, e); ok {
			continue
		}
		for _, l := range DiscoveryLabels {
			v := e.Labels[l]
			if v == "" || !utf8.ValidString(v) {
				continue // content cannot select what it cannot spell
			}
			k := key{l, v}
			p := by[k]
			if p == nil {
				p = &Proposal{Label: l, Value: v}
				by[k] = p
			}
			p.Events++
			if n := e.Labels["alertname"]; n != "" && len(p.Alerts) < 5 && !slices.Contains(p.Alerts, n) {
				p.Alerts = append(p.Alerts, n)
			}
			break
		}
	}
	var out []Proposal
	taken := map[string]bool{}
	for _, p := range by {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Proposal) int {
		if a.Events != b.Events {
			return b.Events - a.Events
		}
		return strings.Compare(a.Label+"="+a.Value, b.Label+"="+b.Value)
	})
	for i := range out {
		p := &out[i]
		name := strings.Trim(nameClean.ReplaceAllString(strings.ToLower(p.Value), "-"), "-")
		if name == "" {
			name = "app"
		}
		for base, n := name, 2; taken[name] || c.has(name); n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		taken[name] = true
		p.Name, p.YAML = name, draft(name, tenant, p.Label, p.Value)
		if p.Alerts == nil {
			p.Alerts = []string{}
		}
	}
	return out
}

func (c *Catalog) has(name string) bool {
	_, ok := c.Get(name)
	return ok
}

// draft is the Application YAML of a proposal.
func draft(name, tenant, label, value string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: flywheel/v1\nkind: Application\nmetadata:\n  name: %s\n", name)
	if tenant != "" {
		fmt.Fprintf(&b, "  tenant: %s\n", quote(tenant))
	}
	fmt.Fprintf(&b, "  description: %s\n", quote(fmt.Sprintf("Proposed from events labelled %s=%q; review before adding.", label, value)))
	b.WriteString("spec:\n  environment: prod\n  criticality: medium\n  resources:\n")
	if tag, ok := strings.CutPrefix(label, "tag:"); ok {
		fmt.Fprintf(&b, "    - tags: {%s: %s}\n", quote(tag), quote(value))
	} else {
		fmt.Fprintf(&b, "    - matchers: [%s]\n", quote(label+"="+fmt.Sprintf("%q", value)))
	}
	return b.String()
}

// quote is a YAML double-quoted scalar: JSON string syntax, valid YAML.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
