package silence

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestSetMatch(t *testing.T) {
	t.Parallel()
	mk := func(id, ms string, from, to time.Duration) *Silence {
		return &Silence{ID: id, Matchers: mustMatchers(t, ms), StartsAt: t0.Add(from), EndsAt: t0.Add(to)}
	}
	set := NewSet([]*Silence{
		mk("newest-regex", `instance=~"db-.*", env="prod"`, 0, time.Hour),
		mk("disk-db1", `alertname="DiskFull", instance="db-1"`, 0, time.Hour),
		mk("disk-any", `alertname="DiskFull"`, 0, time.Hour),
		mk("later", `alertname="CPUHigh"`, time.Hour, 2*time.Hour),
		mk("env-only", `env="dev"`, 0, time.Hour),
	})
	if set.Len() != 5 {
		t.Fatalf("Len = %d", set.Len())
	}
	for _, tc := range []struct {
		labels string
		at     time.Duration
		want   string
	}{
		{`alertname=DiskFull, instance=db-1, env=prod`, 0, "newest-regex"}, // earliest in order wins
		{`alertname=DiskFull, instance=db-1, env=stage`, 0, "disk-db1"},
		{`alertname=DiskFull, instance=web-1`, 0, "disk-any"},
		{`alertname=DiskFull`, time.Hour, ""}, // all ended
		{`alertname=CPUHigh`, 0, ""},          // not started
		{`alertname=CPUHigh`, 90 * time.Minute, "later"},
		{`alertname=Other, env=dev`, 0, "env-only"},
		{`alertname=Other`, 0, ""},
		{``, 0, ""},
	} {
		labels := map[string]string{}
		for _, m := range mustMatchers(t, tc.labels) {
			labels[m.Name] = m.Value
		}
		got, ok := set.Match(labels, t0.Add(tc.at))
		switch {
		case tc.want == "" && ok:
			t.Errorf("Match(%s) = %s, want none", tc.labels, got.ID)
		case tc.want != "" && (!ok || got.ID != tc.want):
			t.Errorf("Match(%s) = %v %v, want %s", tc.labels, got, ok, tc.want)
		}
	}
	if _, ok := NewSet(nil).Match(map[string]string{"a": "b"}, t0); ok {
		t.Error("the empty set matched")
	}
}

func TestCompile(t *testing.T) {
	t.Parallel()
	good := store.Silence{ID: "sil_good", Matchers: []string{`alertname="X"`}, StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	bad := store.Silence{ID: "sil_bad", Matchers: []string{`alertname=~"("`}, StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	set, err := Compile([]store.Silence{bad, good})
	if err == nil || !strings.Contains(err.Error(), "silence sil_bad: matchers[0]") {
		t.Errorf("Compile error = %v", err)
	}
	if s, ok := set.Match(map[string]string{"alertname": "X"}, t0); !ok || s.ID != "sil_good" {
		t.Errorf("the good silence is not in the set: %v %v", s, ok)
	}
}

// TestSetAgreesWithScan checks the index against testing every silence in
// order, on random silences and label sets.
func TestSetAgreesWithScan(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"alertname", "instance", "env", "job"}
	values := []string{"a", "b", "c", ""}
	ops := []string{"=", "!=", "=~", "!~"}
	for round := range 200 {
		var sils []*Silence
		for i := range 30 {
			var parts []string
			for range 1 + rng.IntN(3) {
				parts = append(parts, fmt.Sprintf("%s%s%q", names[rng.IntN(len(names))], ops[rng.IntN(len(ops))], values[rng.IntN(len(values))]))
			}
			from := time.Duration(rng.IntN(3)-1) * time.Hour
			sils = append(sils, &Silence{ID: fmt.Sprint(i), Matchers: mustMatchers(t, strings.Join(parts, ",")), StartsAt: t0.Add(from), EndsAt: t0.Add(from + time.Hour)})
		}
		set := NewSet(sils)
		for range 50 {
			labels := map[string]string{}
			for _, n := range names {
				if v := values[rng.IntN(len(values))]; v != "" || rng.IntN(2) == 0 {
					labels[n] = v
				}
			}
			at := t0.Add(time.Duration(rng.IntN(120)-60) * time.Minute)
			var want *Silence
			for _, s := range sils {
				if s.Matches(labels) && s.Active(at) {
					want = s
					break
				}
			}
			got, ok := set.Match(labels, at)
			if ok != (want != nil) || (ok && got != want) {
				t.Fatalf("round %d: Match(%v) = %v, scan finds %v", round, labels, got, want)
			}
		}
	}
}

// benchSet is n silences as a busy tenant has them: most on one alert
// (alertname plus an instance or job), a tenth with regular expressions
// only, some recurring.
func benchSet(b *testing.B, n int) *Set {
	var recs []store.Silence
	for i := range n {
		r := store.Silence{ID: fmt.Sprintf("sil_%04d", i), StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(24 * time.Hour)}
		switch {
		case i%10 == 0:
			r.Matchers = []string{fmt.Sprintf(`instance=~"host-%d[0-9]*:9100"`, i), `env=~"prod|stage"`}
		case i%10 == 1:
			r.Matchers = []string{fmt.Sprintf(`alertname="Alert%d"`, i%50), `severity!="critical"`}
			r.Recurrence = &store.Recurrence{Days: []string{"sat", "sun"}, Start: "02:00", Duration: "4h", Timezone: "Europe/Berlin"}
		default:
			r.Matchers = []string{fmt.Sprintf(`alertname="Alert%d"`, i%50), fmt.Sprintf(`instance="host-%d:9100"`, i)}
		}
		recs = append(recs, r)
	}
	set, err := Compile(recs)
	if err != nil {
		b.Fatal(err)
	}
	return set
}

func BenchmarkSetMatch1000(b *testing.B) {
	set := benchSet(b, 1000)
	miss := map[string]string{"alertname": "Alert7", "instance": "host-99999:9100", "env": "prod", "severity": "high",
		"job": "node", "source": "alertmanager", "kind": "alert", "flywheel_severity": "high"}
	hit := map[string]string{"alertname": "Alert7", "instance": "host-507:9100", "env": "prod", "severity": "high"}
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := set.Match(miss, t0); ok {
				b.Fatal("matched")
			}
		}
	})
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := set.Match(hit, t0); !ok {
				b.Fatal("no match")
			}
		}
	})
	// Without the index: every silence tested in turn.
	b.Run("scan-baseline", func(b *testing.B) {
		for b.Loop() {
			for _, s := range set.silences {
				if s.Matches(miss) && s.Active(t0) {
					b.Fatal("matched")
				}
			}
		}
	})
}

func BenchmarkCompile1000(b *testing.B) {
	var recs []store.Silence
	for i := range 1000 {
		recs = append(recs, store.Silence{ID: fmt.Sprint(i), Matchers: []string{fmt.Sprintf(`alertname="A%d"`, i), `instance=~"db-.*"`}, StartsAt: t0, EndsAt: t0.Add(time.Hour)})
	}
	for b.Loop() {
		if _, err := Compile(recs); err != nil {
			b.Fatal(err)
		}
	}
}
