// Package learn proposes correlation rules from history: alert names that
// fire together within a short time far more often than chance would
// make them, and alert names people keep merging into one OpsItem, become
// candidates — each a drafted CorrelationRule a person reviews, backtests
// with `flywheel replay` (OpsItems before and after) and accepts by adding
// it to content. Nothing here changes live grouping.
//
// The test of "far beyond chance" treats each alert name's firings as
// spread evenly over the history: with nA firings of A, nB of B over a
// span T, about nA·nB·2Δt/T firings of A would have a B within Δt by
// chance. A pair is a candidate when it co-occurs at least MinSupport
// times, at least MinLift times the chance figure, and for at least half
// the firings of the rarer name.
package learn

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// Options tune the search; zero values take the defaults.
type Options struct {
	// Within is Δt: how close two firings must be to co-occur (default 2m).
	Within time.Duration
	// MinSupport is the fewest co-occurrences of a candidate (default 3).
	MinSupport int
	// MinLift is how many times the chance figure (default 10).
	MinLift float64
	// MinMerges is how many human merges of one pattern make a candidate
	// (default 5).
	MinMerges int
}

func (o Options) withDefaults() Options {
	if o.Within <= 0 {
		o.Within = 2 * time.Minute
	}
	if o.MinSupport <= 0 {
		o.MinSupport = 3
	}
	if o.MinLift <= 0 {
		o.MinLift = 10
	}
	if o.MinMerges <= 0 {
		o.MinMerges = 5
	}
	return o
}

// Merge is a person's merge of two OpsItems (or split, with Split set):
// the alert names on either side.
type Merge struct {
	A, B  string
	Split bool
}

// Candidate is a proposed correlation: two alert names and the evidence.
type Candidate struct {
	A, B string
	// CoOccurred is how many firings of A had a firing of B within Δt in
	// the same cluster; Expected is the chance figure; Lift their ratio.
	CoOccurred int
	Expected   float64
	Lift       float64
	// Merges is how many times people merged the two (less splits).
	Merges int
	// Rule is the drafted CorrelationRule (YAML), named RuleName.
	RuleName string
	Rule     string
}

// Why is the candidate's evidence in words.
func (c Candidate) Why() string {
	var parts []string
	if c.CoOccurred > 0 {
		parts = append(parts, fmt.Sprintf("%s and %s fired together %d times (%.2f expected by chance, lift %.0f)", c.A, c.B, c.CoOccurred, c.Expected, c.Lift))
	}
	if c.Merges > 0 {
		parts = append(parts, fmt.Sprintf("people merged %s and %s %d times", c.A, c.B, c.Merges))
	}
	return strings.Join(parts, "; ")
}

type firing struct {
	name, cluster string
	at            time.Time
}

// Candidates finds candidates in a history of events (any order; repeats
// of one alert's firing count once) and in people's merges. It leaves out
// pairs the current grouping already joins: skip reports whether it does.
func Candidates(history []event.Event, merges []Merge, o Options, skip func(a, b string) bool) []Candidate {
	o = o.withDefaults()
	fs, span := firings(history)
	by := map[string]*Candidate{}
	get := func(a, b string) *Candidate {
		if a > b {
			a, b = b, a
		}
		k := a + "\x00" + b
		if by[k] == nil {
			by[k] = &Candidate{A: a, B: b}
		}
		return by[k]
	}
	// times[name][cluster] are the firing times, sorted.
	times := map[string]map[string][]time.Time{}
	for _, f := range fs {
		if times[f.name] == nil {
			times[f.name] = map[string][]time.Time{}
		}
		times[f.name][f.cluster] = append(times[f.name][f.cluster], f.at)
	}
	names := make([]string, 0, len(times))
	for n := range times {
		names = append(names, n)
	}
	sort.Strings(names)
	count := func(n string) int {
		c := 0
		for _, ts := range times[n] {
			c += len(ts)
		}
		return c
	}
	for i, a := range names {
		for _, b := range names[i+1:] {
			co := 0
			for cl, ta := range times[a] {
				tb := times[b][cl]
				for _, t := range ta {
					if near(tb, t, o.Within) {
						co++
					}
				}
			}
			if co == 0 {
				continue
			}
			na, nb := count(a), count(b)
			exp := float64(na) * (1 - math.Exp(-float64(nb)*2*o.Within.Seconds()/span.Seconds()))
			lift := math.Inf(1)
			if exp > 0 {
				lift = float64(co) / exp
			}
			if co >= o.MinSupport && lift >= o.MinLift && 2*co >= min(na, nb) {
				c := get(a, b)
				c.CoOccurred, c.Expected, c.Lift = co, exp, lift
			}
		}
	}
	merged := map[[2]string]int{}
	for _, m := range merges {
		a, b := m.A, m.B
		if a > b {
			a, b = b, a
		}
		if m.Split {
			merged[[2]string{a, b}]--
		} else {
			merged[[2]string{a, b}]++
		}
	}
	for p, n := range merged {
		if p[0] != p[1] && n >= o.MinMerges {
			get(p[0], p[1]).Merges = n
		} else if c := by[p[0]+"\x00"+p[1]]; c != nil {
			c.Merges = max(n, 0)
		}
	}
	var out []Candidate
	for _, c := range by {
		if skip != nil && skip(c.A, c.B) {
			continue
		}
		c.RuleName, c.Rule = draft(*c, o)
		out = append(out, *c)
	}
	slices.SortFunc(out, func(x, y Candidate) int {
		if d := (y.CoOccurred + y.Merges) - (x.CoOccurred + x.Merges); d != 0 {
			return d
		}
		return strings.Compare(x.A+x.B, y.A+y.B)
	})
	return out
}

// firings are the distinct firings in history (an alert's resends share
// its start time) and the history's span.
func firings(history []event.Event) ([]firing, time.Duration) {
	seen := map[string]bool{}
	var out []firing
	var first, last time.Time
	for _, e := range history {
		t := e.OccurredAt
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
		if e.Status != event.StatusFiring {
			continue
		}
		k := e.Fingerprint + "\x00" + t.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		name := e.Labels["alertname"]
		if name == "" {
			name = e.Title
		}
		out = append(out, firing{name: name, cluster: e.Labels["cluster"], at: t})
	}
	slices.SortFunc(out, func(a, b firing) int { return a.at.Compare(b.at) })
	span := last.Sub(first)
	if span < time.Hour {
		span = time.Hour
	}
	return out, span
}

// near reports whether a sorted list has a time within d of t.
func near(ts []time.Time, t time.Time, d time.Duration) bool {
	i := sort.Search(len(ts), func(i int) bool { return !ts[i].Before(t.Add(-d)) })
	return i < len(ts) && !ts[i].After(t.Add(d))
}

var unsafe = regexp.MustCompile(`[^a-z0-9]+`)

// draft writes the candidate's CorrelationRule: the two alert names, in
// one cluster, one OpsItem, above the library's rules.
func draft(c Candidate, o Options) (string, string) {
	name := "learned-" + strings.Trim(unsafe.ReplaceAllString(strings.ToLower(c.A+"-"+c.B), "-"), "-")
	if len(name) > 200 {
		name = name[:200]
	}
	window := max(5*time.Minute, 2*o.Within)
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	return name, fmt.Sprintf(`# Drafted by Flywheel from history: %s.
# Review it, replay it (flywheel replay --content DIR), then add it to content.
apiVersion: flywheel/v1
kind: CorrelationRule
metadata:
  name: %s
  description: %s
spec:
  priority: 160
  filter: >-
    event.source == "alertmanager"
    && event.labels[?"alertname"].orValue(event.title) in [%s, %s]
  group_by:
    - event.labels[?"cluster"].orValue("")
  title: >-
    event.labels[?"alertname"].orValue(event.title)
    + ("cluster" in event.labels ? " in " + event.labels.cluster : "")
  window: %s
  max_span: 4h
  hold: 2m
  hold_severities: [medium, low, info]
  resolve: all
`, c.Why(), name, q("One OpsItem for "+c.A+" and "+c.B+" in a cluster: "+c.Why()+"."), q(c.A), q(c.B), window)
}
