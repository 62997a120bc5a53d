package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/flywheel-ops/flywheel/internal/recurrence"
)

// starBit is robfig/cron's mark of a field given as "*" or "?".
const starBit = 1 << 63

// fieldParser reads the five standard fields; descriptors (@daily) and
// CRON_TZ= prefixes are not accepted: the zone is the window's.
var fieldParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

var fieldNames = []string{"minute", "hour", "day-of-month", "month", "day-of-week", "year"}

// cronSchedule is a parsed cron expression: robfig's bit sets for minute,
// hour, month and (plain) day fields, plus the SSM day forms robfig does
// not know.
type cronSchedule struct {
	expr   string
	loc    *time.Location
	offset int
	spec   *cron.SpecSchedule
	// day reports whether a date matches the day-of-month and day-of-week
	// fields together.
	day func(y int, m time.Month, d int) bool
	// years, when set, lists the years the expression runs in.
	years map[int]bool
}

// horizon bounds how far ahead Next looks: five years of days.
const horizon = 5 * 366

func (c *cronSchedule) String() string { return c.expr }

// Next scans local dates from the day before t's. For each date whose
// cron date (offset days earlier) matches, it takes the earliest instant
// after t among the date's times; the daylight-saving rules come from
// recurrence.WallClock.
func (c *cronSchedule) Next(t time.Time) (time.Time, bool) {
	y, m, d := t.In(c.loc).Date()
	for k := -1; k < horizon; k++ {
		date := time.Date(y, m, d+k, 0, 0, 0, 0, time.UTC)
		cd := date.AddDate(0, 0, -c.offset)
		if c.years != nil && !c.years[cd.Year()] {
			continue
		}
		if c.spec.Month&(1<<uint(cd.Month())) == 0 || !c.day(cd.Year(), cd.Month(), cd.Day()) {
			continue
		}
		var best time.Time
		var bestTOD time.Duration
		for h := 0; h < 24; h++ {
			if c.spec.Hour&(1<<uint(h)) == 0 {
				continue
			}
			for mi := 0; mi < 60; mi++ {
				if c.spec.Minute&(1<<uint(mi)) == 0 {
					continue
				}
				tod := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute
				if !best.IsZero() && tod > bestTOD+3*time.Hour {
					// Later wall times are later instants: a zone's
					// offset moves by far less than three hours at once.
					return best, true
				}
				if date.Add(tod + 15*time.Hour).Before(t) {
					continue // before t whatever the zone's offset
				}
				at := recurrence.WallClock(date.Year(), date.Month(), date.Day(), tod, c.loc)
				if at.After(t) && (best.IsZero() || at.Before(best)) {
					best, bestTOD = at, tod
				}
			}
		}
		if !best.IsZero() {
			return best, true
		}
	}
	return time.Time{}, false
}

// parseField parses one field through robfig by placing it in an
// otherwise all-star expression, so an error names the field.
func parseField(i int, v string) (*cron.SpecSchedule, error) {
	f := []string{"*", "*", "*", "*", "*"}
	f[i] = v
	s, err := fieldParser.Parse(strings.Join(f, " "))
	if err != nil {
		return nil, fmt.Errorf("%s field %q: %v", fieldNames[i], v, err)
	}
	return s.(*cron.SpecSchedule), nil
}

func parseStandard(e string) (*cronSchedule, error) {
	if strings.HasPrefix(e, "@") || strings.Contains(e, "TZ=") {
		return nil, errors.New("descriptors (@daily) and TZ= prefixes are not accepted: write the five fields and set timezone")
	}
	f := strings.Fields(e)
	if len(f) != 5 {
		return nil, fmt.Errorf("want 5 fields (minute hour day-of-month month day-of-week), or cron(…) with 6 or rate(…); got %d", len(f))
	}
	spec := &cron.SpecSchedule{}
	for i, v := range f {
		s, err := parseField(i, v)
		if err != nil {
			return nil, err
		}
		switch i {
		case 0:
			spec.Minute = s.Minute
		case 1:
			spec.Hour = s.Hour
		case 2:
			spec.Dom = s.Dom
		case 3:
			spec.Month = s.Month
		case 4:
			spec.Dow = s.Dow
		}
	}
	// Vixie cron: when both day fields are restricted, either may match.
	domStar, dowStar := spec.Dom&starBit != 0, spec.Dow&starBit != 0
	c := &cronSchedule{spec: spec}
	c.day = func(y int, m time.Month, d int) bool {
		domOK := spec.Dom&(1<<uint(d)) != 0
		dowOK := spec.Dow&(1<<uint(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday())) != 0
		if domStar || dowStar {
			return domOK && dowOK
		}
		return domOK || dowOK
	}
	return c, nil
}

var ssmDays = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

// parseAWS reads SSM's six fields: minute hour dom month dow year.
func parseAWS(body string) (*cronSchedule, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron() takes 6 fields (minute hour day-of-month month day-of-week year), got %d", len(f))
	}
	spec := &cron.SpecSchedule{}
	for i, v := range f[:2] {
		s, err := parseField(i, v)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			spec.Minute = s.Minute
		} else {
			spec.Hour = s.Hour
		}
	}
	ms, err := parseField(3, f[3])
	if err != nil {
		return nil, err
	}
	spec.Month = ms.Month
	domQ, dowQ := f[2] == "?", f[4] == "?"
	switch {
	case domQ && dowQ:
		return nil, errors.New("day-of-month and day-of-week are both ?: give one of them")
	case !domQ && !dowQ:
		return nil, fmt.Errorf("day-of-month %q and day-of-week %q: one of them must be ? (SSM does not combine them)", f[2], f[4])
	}
	c := &cronSchedule{spec: spec}
	if dowQ {
		c.day, err = awsDom(f[2])
	} else {
		c.day, err = awsDow(f[4])
	}
	if err != nil {
		return nil, err
	}
	if c.years, err = awsYears(f[5]); err != nil {
		return nil, err
	}
	return c, nil
}

func lastDay(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

func awsDom(v string) (func(int, time.Month, int) bool, error) {
	switch {
	case v == "L":
		return func(y int, m time.Month, d int) bool { return d == lastDay(y, m) }, nil
	case strings.Contains(v, "W"):
		return nil, fmt.Errorf("day-of-month field %q: W (nearest weekday) is not supported", v)
	case strings.Contains(v, "L"):
		return nil, fmt.Errorf("day-of-month field %q: only a plain L (the last day) is supported", v)
	}
	s, err := parseField(2, v)
	if err != nil {
		return nil, err
	}
	return func(_ int, _ time.Month, d int) bool { return s.Dom&(1<<uint(d)) != 0 }, nil
}

// awsDay reads one SSM day of the week: 1-7 or SUN-SAT; it returns
// Go's weekday.
func awsDay(v string) (time.Weekday, bool) {
	if n, ok := ssmDays[strings.ToUpper(v)]; ok {
		return time.Weekday(n - 1), true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 7 {
		return 0, false
	}
	return time.Weekday(n - 1), true
}

func awsDow(v string) (func(int, time.Month, int) bool, error) {
	weekday := func(y int, m time.Month, d int) time.Weekday {
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()
	}
	if day, nth, ok := strings.Cut(v, "#"); ok {
		wd, okd := awsDay(day)
		n, err := strconv.Atoi(nth)
		if !okd || err != nil || n < 1 || n > 5 {
			return nil, fmt.Errorf("day-of-week field %q: want DAY#N, a day 1-7 or SUN-SAT and N 1-5 (TUE#3, the third Tuesday)", v)
		}
		return func(y int, m time.Month, d int) bool { return weekday(y, m, d) == wd && (d-1)/7+1 == n }, nil
	}
	if v == "L" {
		return func(y int, m time.Month, d int) bool { return weekday(y, m, d) == time.Saturday }, nil
	}
	if day, ok := strings.CutSuffix(v, "L"); ok {
		wd, okd := awsDay(day)
		if !okd {
			return nil, fmt.Errorf("day-of-week field %q: want DAYL, the last such day of the month (6L or FRIL)", v)
		}
		return func(y int, m time.Month, d int) bool { return weekday(y, m, d) == wd && d+7 > lastDay(y, m) }, nil
	}
	// Lists, ranges and steps of SSM days (1 = Sunday) become robfig's
	// (0 = Sunday).
	var items []string
	for _, item := range strings.Split(v, ",") {
		base, step, hasStep := strings.Cut(item, "/")
		var parts []string
		for _, p := range strings.Split(base, "-") {
			if p == "*" {
				parts = append(parts, p)
				continue
			}
			wd, ok := awsDay(p)
			if !ok {
				return nil, fmt.Errorf("day-of-week field %q: %q is not a day 1-7 (1 is Sunday) or SUN-SAT", v, p)
			}
			parts = append(parts, strconv.Itoa(int(wd)))
		}
		it := strings.Join(parts, "-")
		if hasStep {
			it += "/" + step
		}
		items = append(items, it)
	}
	s, err := parseField(4, strings.Join(items, ","))
	if err != nil {
		return nil, fmt.Errorf("day-of-week field %q: %v", v, err)
	}
	return func(y int, m time.Month, d int) bool { return s.Dow&(1<<uint(weekday(y, m, d))) != 0 }, nil
}

// awsYears reads the year field: *, a year, a range or a list of them,
// within 1970-2199.
func awsYears(v string) (map[int]bool, error) {
	if v == "*" {
		return nil, nil
	}
	out := map[int]bool{}
	bad := func() error {
		return fmt.Errorf("year field %q: want *, a year 1970-2199, a range (2026-2028) or a list of them", v)
	}
	for _, item := range strings.Split(v, ",") {
		a, b, isRange := strings.Cut(item, "-")
		lo, err := strconv.Atoi(a)
		if err != nil {
			return nil, bad()
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(b); err != nil {
				return nil, bad()
			}
		}
		if lo < 1970 || hi > 2199 || hi < lo {
			return nil, bad()
		}
		for y := lo; y <= hi; y++ {
			out[y] = true
		}
	}
	return out, nil
}
