package http

import (
	"fmt"
	"strconv"
	"strings"
)

// statusRange is an inclusive range of status codes.
type statusRange struct {
	lo, hi int
	text   string
}

// statusSet is a step's expect_status: codes (201), classes ("2xx") and
// ranges ("200-299").
type statusSet []statusRange

var defaultExpect = statusSet{{200, 299, "2xx"}}

func (s statusSet) match(code int) bool {
	for _, r := range s {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

func (s statusSet) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.text
	}
	return strings.Join(parts, ", ")
}

// parseStatus reads one expect_status entry.
func parseStatus(v any) (statusRange, error) {
	var text string
	switch x := v.(type) {
	case string:
		text = strings.TrimSpace(x)
	case int, int64, float64:
		text = fmt.Sprint(x)
	default:
		return statusRange{}, fmt.Errorf("a %T is not a status", v)
	}
	bad := fmt.Errorf("%q is not a status code (404), class (2xx) or range (200-299)", text)
	code := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 100 && n <= 599
	}
	switch {
	case len(text) == 3 && strings.EqualFold(text[1:], "xx"):
		c := int(text[0] - '0')
		if c < 1 || c > 5 {
			return statusRange{}, bad
		}
		return statusRange{c * 100, c*100 + 99, strings.ToLower(text)}, nil
	case strings.Contains(text, "-"):
		a, b, _ := strings.Cut(text, "-")
		lo, ok1 := code(strings.TrimSpace(a))
		hi, ok2 := code(strings.TrimSpace(b))
		if !ok1 || !ok2 || lo > hi {
			return statusRange{}, bad
		}
		return statusRange{lo, hi, fmt.Sprintf("%d-%d", lo, hi)}, nil
	}
	n, ok := code(text)
	if !ok {
		return statusRange{}, bad
	}
	return statusRange{n, n, text}, nil
}
