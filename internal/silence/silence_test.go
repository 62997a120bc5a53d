package silence

import (
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/matcher"
	"github.com/flywheel-ops/flywheel/internal/recurrence"
	"github.com/flywheel-ops/flywheel/internal/store"
)

var t0 = time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC) // a Wednesday

func mustMatchers(t testing.TB, s string) matcher.Matchers {
	t.Helper()
	ms, err := matcher.ParseList(s)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestActiveAndState(t *testing.T) {
	t.Parallel()
	s := &Silence{Matchers: mustMatchers(t, `alertname="X"`), StartsAt: t0, EndsAt: t0.Add(2 * time.Hour)}
	for _, tc := range []struct {
		at     time.Time
		active bool
		state  State
	}{
		{t0.Add(-time.Second), false, StatePending},
		{t0, true, StateActive},
		{t0.Add(2*time.Hour - time.Nanosecond), true, StateActive},
		{t0.Add(2 * time.Hour), false, StateExpired},
	} {
		if got := s.Active(tc.at); got != tc.active {
			t.Errorf("Active(%s) = %v, want %v", tc.at, got, tc.active)
		}
		if got := s.State(tc.at); got != tc.state {
			t.Errorf("State(%s) = %v, want %v", tc.at, got, tc.state)
		}
	}
}

func TestRecurringSilence(t *testing.T) {
	t.Parallel()
	loc, _ := recurrence.LoadLocation("Europe/Berlin")
	w, err := recurrence.Parse("sat,sun 02:00 4h", loc)
	if err != nil {
		t.Fatal(err)
	}
	// For four weeks from Wednesday 7 January 2026.
	s := &Silence{Matchers: mustMatchers(t, `job="backup"`), StartsAt: t0, EndsAt: t0.Add(28 * 24 * time.Hour), Recurrence: &w}
	berlin := func(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, loc) }
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{berlin(7, 14, 0), false},       // Wednesday: in range, outside a slot
		{berlin(10, 2, 0), true},        // Saturday 02:00
		{berlin(10, 5, 59), true},       // Saturday 05:59
		{berlin(10, 6, 0), false},       // Saturday 06:00
		{berlin(11, 3, 0), true},        // Sunday
		{berlin(3, 3, 0), false},        // a Saturday before StartsAt
		{berlin(31+7, 3, 0), false},     // Saturday 7 February: after EndsAt
		{berlin(31, 3, 0), true},        // Saturday 31 January: last one in range
		{berlin(12, 3, 0), false},       // Monday
		{berlin(10, 1, 0).UTC(), false}, // the zone matters, not the input's
	} {
		if got := s.Active(tc.at); got != tc.want {
			t.Errorf("Active(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if got := s.State(berlin(7, 14, 0)); got != StateActive {
		t.Errorf("State between slots = %s, want active (the silence is in force, its slot is not)", got)
	}
}

func TestExpire(t *testing.T) {
	t.Parallel()
	running := &Silence{StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	now := t0.Add(time.Minute)
	if !running.Expire(now, "token:a") || !running.EndsAt.Equal(now) || !running.ExpiredAt.Equal(now) || running.ExpiredBy != "token:a" || !running.StartsAt.Equal(t0) {
		t.Errorf("expired running silence = %+v", running)
	}
	if running.Active(now) || running.State(now) != StateExpired {
		t.Error("an expired silence is still active")
	}
	if running.Expire(now.Add(time.Minute), "token:b") || running.ExpiredBy != "token:a" {
		t.Error("expiring twice changed the silence")
	}
	pending := &Silence{StartsAt: t0.Add(time.Hour), EndsAt: t0.Add(2 * time.Hour)}
	if !pending.Expire(now, "token:a") || !pending.StartsAt.Equal(now) || !pending.EndsAt.Equal(now) {
		t.Errorf("expired pending silence = %+v", pending)
	}
	if err := pending.Validate(); err == nil {
		t.Error("Validate accepts a zero-length silence")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := &Silence{Matchers: mustMatchers(t, `alertname="X", env!="dev"`), StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	for _, tc := range []struct {
		s    Silence
		want string
	}{
		{Silence{StartsAt: t0, EndsAt: t0.Add(time.Hour)}, "matchers: at least one matcher is required"},
		{Silence{Matchers: mustMatchers(t, `env!="prod"`), StartsAt: t0, EndsAt: t0.Add(time.Hour)}, `matchers: {env!="prod"} would mute every event`},
		{Silence{Matchers: mustMatchers(t, `a=~".*", b=""`), StartsAt: t0, EndsAt: t0.Add(time.Hour)}, "would mute every event"},
		{Silence{Matchers: ok.Matchers, StartsAt: t0, EndsAt: t0}, "ends_at: 2026-01-07T12:00:00Z is not after starts_at 2026-01-07T12:00:00Z"},
		{Silence{Matchers: ok.Matchers, StartsAt: t0, EndsAt: t0.Add(-time.Hour)}, "ends_at:"},
		{Silence{Matchers: ok.Matchers, EndsAt: t0}, "starts_at: is required"},
		{Silence{Matchers: ok.Matchers, StartsAt: t0}, "ends_at: is required"},
	} {
		if err := tc.s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.s, err, tc.want)
		}
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	expired := t0.Add(time.Minute)
	r := store.Silence{
		ID: "sil_1", TenantID: "acme", Matchers: []string{`alertname=DiskFull`, `"service.name"=~"api|web"`},
		StartsAt: t0, EndsAt: t0.Add(time.Hour), Comment: "upgrade", CreatedBy: "token:a", CreatedAt: t0,
		Recurrence: &store.Recurrence{Days: []string{"mon-fri"}, Start: "22:00", Duration: "2h", Timezone: "America/New_York"},
		ExpiredAt:  &expired, ExpiredBy: "token:b",
	}
	s, err := FromRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	if s.Matchers.String() != `{alertname="DiskFull", service.name=~"api|web"}` || s.Recurrence.String() != "mon,tue,wed,thu,fri 22:00 2h" || !s.ExpiredAt.Equal(expired) {
		t.Errorf("FromRecord = %+v", s)
	}
	back := s.Record()
	if strings.Join(back.Matchers, " ") != `alertname="DiskFull" service.name=~"api|web"` || back.Recurrence.Timezone != "America/New_York" ||
		back.ExpiredAt == nil || !back.ExpiredAt.Equal(expired) || back.ExpiredBy != "token:b" || back.Comment != "upgrade" {
		t.Errorf("Record = %+v", back)
	}
	if (&Silence{}).Record().ExpiredAt != nil {
		t.Error("an unexpired silence records an ExpiredAt")
	}
	for _, tc := range []struct {
		mod  func(*store.Silence)
		want string
	}{
		{func(r *store.Silence) { r.Matchers = []string{`a="b"`, `c=~"("`} }, "matchers[1]: bad matcher `c=~\"(\"` at column 4: invalid regular expression"},
		{func(r *store.Silence) { r.Recurrence.Timezone = "Nowhere/Town" }, `recurrence.timezone: unknown time zone "Nowhere/Town"`},
		{func(r *store.Silence) { r.Recurrence.Start = "25:00" }, `recurrence.start: time of day "25:00"`},
	} {
		bad := r
		rec := *r.Recurrence
		bad.Recurrence = &rec
		tc.mod(&bad)
		if _, err := FromRecord(bad); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromRecord: %v, want %q", err, tc.want)
		}
	}
}
