package event

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Bounds on an event's text fields (docs/hardening.md): an intake event
// past them is stored cut, ending with TruncatedMarker, so no sender can
// make one event, OpsItem title or label arbitrarily large.
const (
	MaxTitle       = 512
	MaxDescription = 16 << 10
	MaxLabels      = 64 // labels and annotations each
	MaxLabelName   = 128
	MaxLabelValue  = 2 << 10
	MaxAnnotation  = 16 << 10
	MaxResources   = 32
	MaxResourceID  = 1 << 10
	MaxResourceTyp = 64
	MaxSmall       = 256 // source id, fingerprint, region, account
)

// TruncatedMarker ends a field Bound cut.
const TruncatedMarker = "…[truncated]"

// Bound cuts e's text fields to the bounds above (bytes, on a rune
// boundary), makes them valid UTF-8, and keeps the first MaxLabels labels
// and annotations (by name) and MaxResources resources. It reports whether
// anything was cut.
func Bound(e *Event) bool {
	cut := false
	field := func(s *string, limit int) {
		var c bool
		*s, c = truncate(*s, limit)
		cut = cut || c
	}
	field(&e.Title, MaxTitle)
	field(&e.Description, MaxDescription)
	field(&e.SourceID, MaxSmall)
	field(&e.Fingerprint, MaxSmall)
	var c bool
	e.Labels, c = boundMap(e.Labels, MaxLabelValue)
	cut = cut || c
	e.Annotations, c = boundMap(e.Annotations, MaxAnnotation)
	cut = cut || c
	if len(e.Resources) > MaxResources {
		e.Resources, cut = e.Resources[:MaxResources], true
	}
	for i := range e.Resources {
		r := &e.Resources[i]
		field(&r.Type, MaxResourceTyp)
		field(&r.ID, MaxResourceID)
		field(&r.Region, MaxSmall)
		field(&r.Account, MaxSmall)
	}
	return cut
}

func boundMap(m map[string]string, valueLimit int) (map[string]string, bool) {
	cut := false
	for k, v := range m {
		if len(k) <= MaxLabelName && len(v) <= valueLimit && utf8.ValidString(k) && utf8.ValidString(v) && len(m) <= MaxLabels {
			continue
		}
		cut = true
		break
	}
	if !cut {
		return m, false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]string, min(len(m), MaxLabels))
	for _, k := range keys {
		if len(out) == MaxLabels {
			break
		}
		nk, _ := truncate(k, MaxLabelName)
		if _, dup := out[nk]; dup {
			continue
		}
		out[nk], _ = truncate(m[k], valueLimit)
	}
	return out, true
}

// truncate cuts s to at most limit bytes of valid UTF-8, the marker
// included, and reports whether it changed s.
func truncate(s string, limit int) (string, bool) {
	changed := false
	if !utf8.ValidString(s) {
		s, changed = strings.ToValidUTF8(s, "\uFFFD"), true
	}
	if len(s) <= limit {
		return s, changed
	}
	end := max(limit-len(TruncatedMarker), 0)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + TruncatedMarker, true
}
