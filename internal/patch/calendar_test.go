package patch

import (
	"testing"
	"time"
)

// TestNextBusinessDayEnd checks deadlines against calendar facts worked
// out by hand from a wall calendar of 2026 (not from the code): 4 December
// 2026 is a Friday, 25 December a Friday, 23 October a Friday with
// Europe/Berlin leaving summer time on Sunday 25 October, 27 March a
// Friday with Berlin entering summer time on Sunday 29 March. Berlin is
// UTC+1 in winter and UTC+2 in summer; Tokyo UTC+9; New York UTC-5 in
// December; Riyadh UTC+3 all year, with a Friday-Saturday weekend.
func TestNextBusinessDayEnd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cal      CalendarSpec
		at, want string
	}{
		{"Thursday: by the end of Friday", CalendarSpec{Timezone: "UTC"},
			"2026-12-03T09:00:00Z", "2026-12-05T00:00:00Z"},
		{"Friday afternoon: by the end of Monday, Berlin", CalendarSpec{Timezone: "Europe/Berlin"},
			"2026-12-04T15:00:00+01:00", "2026-12-07T23:00:00Z"},
		{"Saturday: by the end of Monday", CalendarSpec{Timezone: "UTC"},
			"2026-12-05T10:00:00Z", "2026-12-08T00:00:00Z"},
		{"Christmas Eve, holidays 25 and 26 Dec: Monday 28th", CalendarSpec{Timezone: "Europe/Berlin", Holidays: []string{"2026-12-25", "2026-12-26"}},
			"2026-12-24T10:00:00+01:00", "2026-12-28T23:00:00Z"},
		{"holiday on the Monday: Tuesday", CalendarSpec{Timezone: "UTC", Holidays: []string{"2026-12-07"}},
			"2026-12-04T12:00:00Z", "2026-12-09T00:00:00Z"},
		{"Friday 23:30 UTC is Saturday in Tokyo: Monday, Tokyo", CalendarSpec{Timezone: "Asia/Tokyo"},
			"2026-12-04T23:30:00Z", "2026-12-07T15:00:00Z"},
		{"the same instant is Friday in New York: Monday, New York", CalendarSpec{Timezone: "America/New_York"},
			"2026-12-04T23:30:00Z", "2026-12-08T05:00:00Z"},
		{"Friday-Saturday weekend: Thursday to Sunday", CalendarSpec{Timezone: "Asia/Riyadh", Weekend: []string{"fri", "sat"}},
			"2026-12-03T12:00:00+03:00", "2026-12-06T21:00:00Z"},
		{"across the end of summer time", CalendarSpec{Timezone: "Europe/Berlin"},
			"2026-10-23T10:00:00+02:00", "2026-10-26T23:00:00Z"},
		{"across the start of summer time", CalendarSpec{Timezone: "Europe/Berlin"},
			"2026-03-27T16:00:00+01:00", "2026-03-30T22:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.cal
			if spec.Weekend == nil {
				spec.Weekend = []string{"sat", "sun"}
			}
			c, err := spec.Compile()
			if err != nil {
				t.Fatal(err)
			}
			at, _ := time.Parse(time.RFC3339, tc.at)
			want, _ := time.Parse(time.RFC3339, tc.want)
			if got := c.NextBusinessDayEnd(at); !got.Equal(want) {
				t.Errorf("NextBusinessDayEnd(%s) = %s, want %s", tc.at, got.UTC().Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestCalendarRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		spec CalendarSpec
		want string
	}{
		{CalendarSpec{Timezone: "Mars/Olympus"}, "timezone"},
		{CalendarSpec{Timezone: "UTC", Weekend: []string{"caturday"}}, "weekend[0]"},
		{CalendarSpec{Timezone: "UTC", Weekend: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}, "every day"},
		{CalendarSpec{Timezone: "UTC", Holidays: []string{"25/12/2026"}}, "holidays[0]"},
	} {
		if _, err := tc.spec.Compile(); err == nil || !contains(err.Error(), tc.want) {
			t.Errorf("Compile(%+v) = %v, want mention of %q", tc.spec, err, tc.want)
		}
	}
}
