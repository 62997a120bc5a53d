package retention

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Age is how long data is kept: a Go duration ("36h"), a number of days
// ("30d"), or "forever". The zero Age means "not set" (inherit); Forever
// keeps the data.
type Age time.Duration

// Forever keeps data: it is never pruned.
const Forever Age = -1

// Day is 24 hours, the unit of "30d".
const Day = Age(24 * time.Hour)

// maxDays is the longest age in days (about 100 years; a time.Duration
// holds up to about 292 years).
const maxDays = 36500

// ParseAge reads an Age as written in the configuration file.
func ParseAge(s string) (Age, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "forever":
		return Forever, nil
	case strings.HasSuffix(s, "d"):
		n, err := strconv.ParseInt(strings.TrimSuffix(s, "d"), 10, 32)
		if err != nil || n < 1 || n > maxDays {
			return 0, fmt.Errorf("%q is not a number of days from 1 to %d (e.g. 30d)", s, maxDays)
		}
		return Age(n) * Day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (e.g. 30d, 12h) or forever", s)
	}
	return Age(d), nil
}

// String writes a as ParseAge reads it, in days when whole.
func (a Age) String() string {
	switch {
	case a == Forever:
		return "forever"
	case a > 0 && a%Day == 0:
		return strconv.FormatInt(int64(a/Day), 10) + "d"
	}
	return time.Duration(a).String()
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (a *Age) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseAge(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*a = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (a Age) MarshalYAML() (any, error) { return a.String(), nil }
