package runbook

import (
	"fmt"
	"strconv"
	"strings"
)

// Limit is a rate-control bound as SSM writes it: an absolute count ("10")
// or a percentage of the targets ("10%").
type Limit struct {
	N       int
	Percent bool
}

// DefaultMaxConcurrency bounds per-target steps that do not say.
var DefaultMaxConcurrency = Limit{N: 10}

// ParseLimit parses "N" or "N%"; empty gives def. zeroOK allows 0.
func ParseLimit(s string, def Limit, zeroOK bool) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	l := Limit{}
	num := s
	if p, ok := strings.CutSuffix(s, "%"); ok {
		l.Percent, num = true, strings.TrimSpace(p)
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return def, fmt.Errorf("%q is not a count (10) or a percentage (10%%)", s)
	}
	switch {
	case n < 0:
		return def, fmt.Errorf("%q is negative", s)
	case n == 0 && !zeroOK:
		return def, fmt.Errorf("%q must be at least 1", s)
	case l.Percent && n > 100:
		return def, fmt.Errorf("%q is over 100%%", s)
	}
	l.N = n
	return l, nil
}

// Of resolves the limit for a number of targets. A percentage of
// concurrency rounds up (at least 1 target runs); of errors, down.
func (l Limit) Of(targets int, roundUp bool) int {
	if !l.Percent {
		return l.N
	}
	n := l.N * targets
	if roundUp {
		return max((n+99)/100, 1)
	}
	return n / 100
}

// String writes the limit as parsed.
func (l Limit) String() string {
	if l.Percent {
		return strconv.Itoa(l.N) + "%"
	}
	return strconv.Itoa(l.N)
}

// MarshalText writes the limit as a string.
func (l Limit) MarshalText() ([]byte, error) { return []byte(l.String()), nil }
