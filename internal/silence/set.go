package silence

import (
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/matcher"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Set is one tenant's silences, indexed for matching. Every event is
// checked against it, so Match avoids testing silences that cannot apply:
// each silence with an equality matcher (alertname="DiskFull") is filed
// under that label and value, and only the silences filed under the
// event's own values, plus those without such a matcher, are tested.
//
// A Set is immutable and safe for concurrent use.
type Set struct {
	silences []*Silence
	// index: label name → value → positions in silences.
	index map[string]map[string][]int
	// scan are the positions of silences with no usable equality matcher.
	scan []int
}

// NewSet indexes silences; Match prefers earlier ones.
func NewSet(silences []*Silence) *Set {
	s := &Set{silences: silences, index: map[string]map[string][]int{}}
	for i, sil := range silences {
		m, ok := indexMatcher(sil.Matchers)
		if !ok {
			s.scan = append(s.scan, i)
			continue
		}
		byValue := s.index[m.Name]
		if byValue == nil {
			byValue = map[string][]int{}
			s.index[m.Name] = byValue
		}
		byValue[m.Value] = append(byValue[m.Value], i)
	}
	return s
}

// indexMatcher picks the matcher a silence is filed under: an equality
// with a non-empty value, which only events carrying that value can match.
// alertname is preferred, being the most selective label in practice.
func indexMatcher(ms matcher.Matchers) (matcher.Matcher, bool) {
	var best matcher.Matcher
	found := false
	for _, m := range ms {
		if m.Type != matcher.Equal || m.Value == "" {
			continue
		}
		if !found || m.Name == matcher.LabelAlertname {
			best, found = m, true
		}
	}
	return best, found
}

// Compile parses stored silences (newest first, as store.ActiveSilences
// returns them) into a Set. A record that no longer parses is left out and
// reported in the joined error, with the rest still usable: one bad row
// must not unmute everything.
func Compile(records []store.Silence) (*Set, error) {
	out := make([]*Silence, 0, len(records))
	var errs []error
	for _, r := range records {
		s, err := FromRecord(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("silence %s: %w", r.ID, err))
			continue
		}
		out = append(out, s)
	}
	return NewSet(out), errors.Join(errs...)
}

// Len returns the number of silences in the set.
func (s *Set) Len() int { return len(s.silences) }

// Match returns the first silence (in the order given to NewSet) that
// matches labels and is active at at.
func (s *Set) Match(labels map[string]string, at time.Time) (*Silence, bool) {
	best := -1
	try := func(i int) {
		sil := s.silences[i]
		// Matchers first: they are cheaper than a recurrence check.
		if sil.Matchers.Matches(labels) && sil.Active(at) {
			best = i
		}
	}
	for name, byValue := range s.index {
		v, ok := labels[name]
		if !ok {
			continue
		}
		for _, i := range byValue[v] {
			if best >= 0 && i > best {
				break // positions are in order
			}
			try(i)
		}
	}
	for _, i := range s.scan {
		if best >= 0 && i > best {
			break // scan is in order
		}
		try(i)
	}
	if best < 0 {
		return nil, false
	}
	return s.silences[best], true
}
