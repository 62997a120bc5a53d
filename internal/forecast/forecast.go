// Package forecast predicts when a filling resource — a disk, memory —
// crosses a threshold, so Flywheel opens an OpsItem before it does
// ("disk / on web-03 full in ~3 days") instead of after.
//
// The model is a linear trend plus a seasonal profile: usage grows at a
// steady rate (log files, a database) with a daily rhythm on top (busy
// hours write more). Fit estimates both from the samples by alternating
// least squares: the trend fitted to the samples less the profile, the
// profile as the mean residual of each phase bucket of the period. The
// profile is used once the samples cover two periods; before that the
// model is the trend alone. Crossing walks the fitted curve forward from
// the last sample to the first instant it reaches the threshold.
//
// The Engine (engine.go) keeps the series from agents' reports and opens
// the OpsItems; Fit and Crossing are the arithmetic, clock-free.
package forecast

import (
	"errors"
	"math"
	"sort"
	"time"
)

// Sample is one observation of a series.
type Sample struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
}

// Options shape a fit.
type Options struct {
	// Period is the seasonal cycle (default 24h); Buckets divides it
	// (default 24: an hour each for a day).
	Period  time.Duration
	Buckets int
	// MinSamples below which Fit refuses (default 6).
	MinSamples int
}

func (o Options) withDefaults() Options {
	if o.Period <= 0 {
		o.Period = 24 * time.Hour
	}
	if o.Buckets <= 0 {
		o.Buckets = 24
	}
	if o.MinSamples <= 0 {
		o.MinSamples = 6
	}
	return o
}

// Model is a fitted trend and seasonal profile.
type Model struct {
	Origin    time.Time `json:"origin"`
	Last      time.Time `json:"last"`
	LastVal   float64   `json:"last_value"`
	Intercept float64   `json:"intercept"`
	// Slope is the trend's growth per hour.
	Slope    float64       `json:"slope_per_hour"`
	Seasonal []float64     `json:"seasonal,omitempty"`
	Period   time.Duration `json:"period"`
	// RMSE is the residual error of the fit, in the series' unit.
	RMSE float64 `json:"rmse"`
}

// ErrTooFew is Fit's error for a series too short to fit.
var ErrTooFew = errors.New("forecast: too few samples")

// Fit fits the model to samples (any order).
func Fit(samples []Sample, o Options) (*Model, error) {
	o = o.withDefaults()
	if len(samples) < o.MinSamples {
		return nil, ErrTooFew
	}
	s := append([]Sample(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i].At.Before(s[j].At) })
	m := &Model{Origin: s[0].At, Last: s[len(s)-1].At, LastVal: s[len(s)-1].Value, Period: o.Period}
	if m.Last.Sub(m.Origin) <= 0 {
		return nil, ErrTooFew
	}
	x := make([]float64, len(s))
	for i, p := range s {
		x[i] = p.At.Sub(m.Origin).Hours()
	}
	seasonal := m.Last.Sub(m.Origin) >= 2*o.Period
	season := make([]float64, o.Buckets)
	bucket := func(t time.Time) int {
		ph := t.Sub(m.Origin) % o.Period
		if ph < 0 {
			ph += o.Period
		}
		return int(int64(ph) * int64(o.Buckets) / int64(o.Period))
	}
	rounds := 1
	if seasonal {
		rounds = 4
	}
	for r := 0; r < rounds; r++ {
		y := make([]float64, len(s))
		for i, p := range s {
			y[i] = p.Value - season[bucket(p.At)]
		}
		m.Intercept, m.Slope = leastSquares(x, y)
		if !seasonal {
			break
		}
		sum, n := make([]float64, o.Buckets), make([]int, o.Buckets)
		for i, p := range s {
			b := bucket(p.At)
			sum[b] += p.Value - (m.Intercept + m.Slope*x[i])
			n[b]++
		}
		for b := range season {
			if n[b] > 0 {
				season[b] = sum[b] / float64(n[b])
			}
		}
	}
	if seasonal {
		m.Seasonal = season
	}
	var sq float64
	for _, p := range s {
		d := p.Value - m.At(p.At)
		sq += d * d
	}
	m.RMSE = math.Sqrt(sq / float64(len(s)))
	return m, nil
}

func leastSquares(x, y []float64) (a, b float64) {
	var sx, sy, sxx, sxy float64
	n := float64(len(x))
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return sy / n, 0
	}
	b = (n*sxy - sx*sy) / den
	return (sy - b*sx) / n, b
}

// At is the model's value at t.
func (m *Model) At(t time.Time) float64 {
	v := m.Intercept + m.Slope*t.Sub(m.Origin).Hours()
	if len(m.Seasonal) > 0 {
		ph := t.Sub(m.Origin) % m.Period
		if ph < 0 {
			ph += m.Period
		}
		v += m.Seasonal[int(int64(ph)*int64(len(m.Seasonal))/int64(m.Period))]
	}
	return v
}

// Crossing returns the first instant after the last sample at which the
// model reaches threshold, looking up to horizon ahead; ok is false when
// it does not (a flat or shrinking series, or a crossing further off).
// A series whose last sample is already at the threshold crosses then.
func (m *Model) Crossing(threshold float64, horizon time.Duration) (time.Time, bool) {
	if m.LastVal >= threshold {
		return m.Last, true
	}
	if m.Slope <= 0 {
		return time.Time{}, false
	}
	step := m.Period / time.Duration(max(len(m.Seasonal), 1)*4)
	if len(m.Seasonal) == 0 {
		// The trend alone crosses where the line does.
		h := (threshold - m.Intercept) / m.Slope
		if h-m.Last.Sub(m.Origin).Hours() > horizon.Hours() {
			return time.Time{}, false // also keeps a near-flat slope from overflowing a Duration
		}
		at := m.Origin.Add(time.Duration(h * float64(time.Hour)))
		if at.Before(m.Last) {
			at = m.Last
		}
		return at, at.Sub(m.Last) <= horizon
	}
	for t := m.Last; t.Sub(m.Last) <= horizon; t = t.Add(step) {
		if m.At(t) >= threshold {
			// Refine within the step.
			lo := t.Add(-step)
			for d := step / 2; d > time.Second; d /= 2 {
				if m.At(lo.Add(d)) < threshold {
					lo = lo.Add(d)
				}
			}
			if lo.Before(m.Last) {
				lo = m.Last
			}
			return lo, true
		}
	}
	return time.Time{}, false
}
