package forecast

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hourPerSecond is how the recording is read: one recorded second is one
// hour, so its 24 s rhythm is a day (see TestRecordFillingDisk).
const hourPerSecond = 3600

var epoch = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// LoadRecording reads testdata/filling-disk.csv, a real tmpfs filled by
// TestRecordFillingDisk, as a series starting at epoch.
func loadRecording(t testing.TB) []Sample {
	t.Helper()
	f, err := os.Open("testdata/filling-disk.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		ms, v, _ := strings.Cut(l, ",")
		n, err1 := strconv.ParseInt(ms, 10, 64)
		val, err2 := strconv.ParseFloat(v, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", l)
		}
		out = append(out, Sample{At: epoch.Add(time.Duration(n) * time.Millisecond * hourPerSecond), Value: val})
	}
	return out
}

// crossed is when the recording itself first reached threshold.
func crossed(t testing.TB, s []Sample, threshold float64) time.Time {
	for _, p := range s {
		if p.Value >= threshold {
			return p.At
		}
	}
	t.Fatalf("the recording never reaches %v", threshold)
	return time.Time{}
}

// The recorded filling disk: fitted on what was known when the disk was
// 40 to 75 % full, the predicted time of reaching 90 % is within 10 % of
// the lead time (from the last sample to when the recording did reach
// 90 %).
func TestRecordedDiskCrossingWithinTenPercent(t *testing.T) {
	t.Parallel()
	rec := loadRecording(t)
	actual := crossed(t, rec, 90)
	for _, cut := range []float64{40, 50, 60, 75} {
		var known []Sample
		for _, p := range rec {
			if p.Value >= cut {
				break
			}
			known = append(known, p)
		}
		m, err := Fit(known, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Seasonal) == 0 {
			t.Errorf("cut at %v%%: %s of samples fitted no seasonal profile", cut, m.Last.Sub(m.Origin))
		}
		got, ok := m.Crossing(90, 30*24*time.Hour)
		if !ok {
			t.Fatalf("cut at %v%%: no crossing predicted", cut)
		}
		lead := actual.Sub(m.Last)
		errPct := 100 * math.Abs(got.Sub(actual).Hours()) / lead.Hours()
		t.Logf("cut at %v%% (%s): predicted %s, recorded %s, lead %.1f h, error %.1f %%", cut, m.Last.Format(time.DateTime),
			got.Format(time.DateTime), actual.Format(time.DateTime), lead.Hours(), errPct)
		if errPct > 10 {
			t.Errorf("cut at %v%%: error %.1f %% of the lead time, more than 10 %%", cut, errPct)
		}
	}
}

// A synthetic series with a known answer: 1 %/h with a ±5 daily swing
// from 20 % crosses 80 % first where the line plus the swing does.
func TestKnownSeries(t *testing.T) {
	t.Parallel()
	var s []Sample
	for h := 0; h < 72; h++ {
		at := epoch.Add(time.Duration(h) * time.Hour)
		s = append(s, Sample{At: at, Value: 20 + 0.5*float64(h) + 5*math.Sin(2*math.Pi*float64(h)/24)})
	}
	m, err := Fit(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m.Slope-0.5) > 0.05 || m.RMSE > 0.5 {
		t.Errorf("slope %.3f/h, rmse %.3f", m.Slope, m.RMSE)
	}
	// Brute force over the true curve, hour by hour.
	var want time.Time
	for h := 72; ; h++ {
		if 20+0.5*float64(h)+5*math.Sin(2*math.Pi*float64(h)/24) >= 80 {
			want = epoch.Add(time.Duration(h) * time.Hour)
			break
		}
	}
	got, ok := m.Crossing(80, 30*24*time.Hour)
	if !ok || math.Abs(got.Sub(want).Hours()) > 2 {
		t.Errorf("crossing %s, %v; the curve crosses at %s", got, ok, want)
	}
	// The same series without the swing has no seasonal profile to find,
	// and a falling series never crosses.
	var flat []Sample
	for h := 0; h < 72; h++ {
		flat = append(flat, Sample{At: epoch.Add(time.Duration(h) * time.Hour), Value: 90 - 0.1*float64(h)})
	}
	m, _ = Fit(flat, Options{})
	if _, ok := m.Crossing(95, 365*24*time.Hour); ok {
		t.Error("a shrinking series crosses")
	}
	if _, err := Fit(flat[:3], Options{}); err != ErrTooFew {
		t.Errorf("three samples: %v", err)
	}
}
