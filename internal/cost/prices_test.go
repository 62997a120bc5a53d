package cost

import (
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// The built-in table loads, and carries AWS's published on-demand price
// of a t3.medium in us-east-1 (Linux): $0.0416 an hour.
func TestBuiltinPrices(t *testing.T) {
	t.Parallel()
	p := BuiltinPrices()
	if p.Currency != "USD" || len(p.Regions()) < 3 {
		t.Fatalf("currency %s, %d regions", p.Currency, len(p.Regions()))
	}
	if v, ok := p.Hourly("us-east-1", "t3.medium"); !ok || v != 0.0416 {
		t.Errorf("t3.medium in us-east-1 = %v, %v", v, ok)
	}
	if _, ok := p.Hourly("us-east-1", "x9.huge"); ok {
		t.Error("an unknown type has a price")
	}
	if _, ok := p.Hourly("db.t3.medium", "mars-1"); ok {
		t.Error("an unknown region has a price")
	}
	if v, ok := p.VolumeMonthly("us-east-1", "gp3", 100); !ok || math.Abs(v-8) > 1e-9 {
		t.Errorf("100 GB gp3 = %v a month", v)
	}
}

// Money saved by office hours on a t3.medium in us-east-1 for a week:
// 113 stopped hours at $0.0416.
func TestOfficeHoursMoney(t *testing.T) {
	t.Parallel()
	s := officeHours(t, "America/New_York", HolidaySpec{})
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, s.Location())
	u := s.Usage(from, from.AddDate(0, 0, 7))
	price, _ := BuiltinPrices().Hourly("us-east-1", "t3.medium")
	if got, want := u.SavedHours*price, 113*0.0416; math.Abs(got-want) > 1e-9 {
		t.Errorf("saved $%.4f a week, want $%.4f", got, want)
	}
}

func TestLoadPricesErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{}, "no *.yaml files"},
		{map[string]string{"p/a.yaml": "region: a\ncurrency: USD\nec2: {t3.micro: -1}\n"}, "p/a.yaml: ec2.t3.micro: -1 is negative"},
		{map[string]string{"p/a.yaml": "region: a\ncurrency: USD\nspot: {}\n"}, "p/a.yaml: yaml: unmarshal errors"},
		{map[string]string{"p/a.yaml": "region: a\ncurrency: USD\n", "p/b.yaml": "region: b\ncurrency: EUR\n"}, "currency EUR differs"},
		{map[string]string{"p/a.yaml": "region: a\ncurrency: USD\n", "p/b.yaml": "region: a\ncurrency: USD\n"}, "region a is in another file"},
		{map[string]string{"p/a.yaml": "currency: USD\n"}, "region and currency are required"},
	} {
		fsys := fstest.MapFS{}
		for n, b := range c.files {
			fsys[n] = &fstest.MapFile{Data: []byte(b)}
		}
		_, err := LoadPrices(fsys, "p")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.files, err, c.want)
		}
	}
}
