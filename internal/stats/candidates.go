package stats

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// MinRecurrence is how many hand resolutions make a signature recurring.
const MinRecurrence = 2

// maxExamples bounds the OpsItems a candidate lists.
const maxExamples = 5

// Candidate is a recurring problem people resolved by hand: OpsItems of
// one signature (area, title pattern, resource types, runbooks run by
// hand), ranked by the time people spent on them.
type Candidate struct {
	// ID names the signature (stable for the same signature).
	ID            string   `json:"id"`
	TitlePattern  string   `json:"title_pattern"`
	Category      string   `json:"category"`
	CategoryTitle string   `json:"category_title"`
	ResourceTypes []string `json:"resource_types"`
	// Runbooks are the runbooks people ran on these OpsItems, most used
	// first.
	Runbooks      []string  `json:"runbooks"`
	Count         int       `json:"count"`
	HumanMinutes  float64   `json:"human_minutes"`
	MedianMinutes float64   `json:"median_minutes"`
	LastResolved  time.Time `json:"last_resolved_at"`
	// Examples are the newest of its OpsItems.
	Examples []Example `json:"examples"`
}

// Example is one OpsItem of a candidate.
type Example struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Candidates lists the automation candidates of a tenant's OpsItems
// resolved by hand in [from, to), most human minutes first.
func Candidates(ctx context.Context, st store.Reader, tenant string, from, to time.Time) ([]Candidate, error) {
	if err := CheckPeriod(from, to); err != nil {
		return nil, err
	}
	items, err := loadItems(ctx, st, tenant, from, to, nil, nil)
	if err != nil {
		return nil, err
	}
	types, err := st.ListOpsItemResourceTypes(ctx, tenant, from, to)
	if err != nil {
		return nil, err
	}
	type group struct {
		c      *Candidate
		human  []int64
		uses   map[string]int
		newest []store.OpsItem
	}
	groups := map[string]*group{}
	for _, it := range items {
		o := it.o
		if o.ResolvedAt == nil || o.ResolvedAt.Before(from) || !o.ResolvedAt.Before(to) || ResolvedBy(o.ResolvedBy) != ByHand {
			continue
		}
		runbooks := HandRunbooks(it.byRunbook)
		key := strings.Join([]string{o.Category, TitlePattern(o.Title), strings.Join(types[o.ID], ","), strings.Join(runbooks, ",")}, "\x00")
		g := groups[key]
		if g == nil {
			sum := sha256.Sum256([]byte(key))
			g = &group{uses: map[string]int{}, c: &Candidate{ID: "cand_" + hex.EncodeToString(sum[:6]), TitlePattern: TitlePattern(o.Title),
				Category: o.Category, CategoryTitle: categoryTitle(o.Category), ResourceTypes: nonNil(types[o.ID])}}
			groups[key] = g
		}
		g.c.Count++
		g.human = append(g.human, it.human)
		g.c.HumanMinutes += float64(it.human) / 60
		for _, rb := range runbooks {
			g.uses[rb]++
		}
		if o.ResolvedAt.After(g.c.LastResolved) {
			g.c.LastResolved = *o.ResolvedAt
		}
		g.newest = append(g.newest, o)
	}
	var out []Candidate
	for _, g := range groups {
		if g.c.Count < MinRecurrence {
			continue
		}
		g.c.MedianMinutes = float64(percentile(g.human, 50)) / 60
		g.c.Runbooks = []string{}
		for rb := range g.uses {
			g.c.Runbooks = append(g.c.Runbooks, rb)
		}
		slices.SortFunc(g.c.Runbooks, func(a, b string) int { return cmp.Or(g.uses[b]-g.uses[a], strings.Compare(a, b)) })
		slices.SortFunc(g.newest, func(a, b store.OpsItem) int { return b.ResolvedAt.Compare(*a.ResolvedAt) })
		for _, o := range g.newest[:min(len(g.newest), maxExamples)] {
			g.c.Examples = append(g.c.Examples, Example{ID: o.ID, Title: o.Title})
		}
		out = append(out, *g.c)
	}
	slices.SortFunc(out, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(b.HumanMinutes, a.HumanMinutes), cmp.Compare(b.Count, a.Count), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// HandRunbooks are the distinct runbooks people ran (not dry runs, not
// rules), sorted.
func HandRunbooks(runs []store.OpsItemRunbook) []string {
	var out []string
	for _, r := range runs {
		if r.Rule == "" && !r.DryRun && !slices.Contains(out, r.Runbook) {
			out = append(out, r.Runbook)
		}
	}
	slices.Sort(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
