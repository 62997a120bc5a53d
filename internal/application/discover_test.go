package application_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/event"
)

func catalogOf(t *testing.T, yaml string) *application.Catalog {
	t.Helper()
	set, err := load(t, map[string]string{"apps.yaml": yaml})
	if err != nil {
		t.Fatal(err)
	}
	c, err := application.Compile(set.Items(application.KindName))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// acceptDraft loads a proposal's YAML as content, as a person accepting it
// would, and returns the application it declares.
func acceptDraft(t testing.TB, yaml string) (*application.Catalog, error) {
	set, err := content.Load(kinds.NewRegistry(), content.Source{Name: "draft", FS: fstest.MapFS{"draft.yaml": {Data: []byte(yaml)}}})
	if err != nil {
		return nil, err
	}
	return application.Compile(set.Items(application.KindName))
}

// TestPropose: labels no application selects become proposals, most events
// first; events a declared application selects propose nothing; an
// accepted draft selects the events it was proposed from.
func TestPropose(t *testing.T) {
	t.Parallel()
	c := catalogOf(t, shop)
	ev := func(labels ...string) *event.Event {
		l := map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			l[labels[i]] = labels[i+1]
		}
		return &event.Event{Labels: l}
	}
	evs := []*event.Event{
		ev("alertname", "HTTP5xx", "service", "billing"), ev("alertname", "Latency", "service", "billing"),
		ev("alertname", "HTTP5xx", "service", "billing"),
		ev("alertname", "PodCrash", "app.kubernetes.io/name", "Search API"),
		ev("alertname", "X", "tag:Application", "payroll"),
		ev("alertname", "Y", "service", "orders"), // orders is declared
		ev("alertname", "Z"), // names no service
	}
	ps := application.Propose(c, "acme", evs)
	var got []string
	for _, p := range ps {
		got = append(got, p.Name+":"+p.Label+"="+p.Value)
	}
	want := "billing:service=billing search-api:app.kubernetes.io/name=Search API payroll:tag:Application=payroll"
	if strings.Join(got, " ") != want {
		t.Fatalf("proposals %q, want %q", strings.Join(got, " "), want)
	}
	if ps[0].Events != 3 || strings.Join(ps[0].Alerts, ",") != "HTTP5xx,Latency" {
		t.Errorf("billing: %+v", ps[0])
	}
	for i, p := range ps {
		accepted, err := acceptDraft(t, p.YAML)
		if err != nil {
			t.Fatalf("draft %s does not load: %v\n%s", p.Name, err, p.YAML)
		}
		a, ok := accepted.Of("acme", evs[[]int{0, 3, 4}[i]])
		if !ok || a.Name != p.Name || a.Tenant != "acme" {
			t.Errorf("accepted %s does not select its events: %v %+v", p.Name, ok, a)
		}
		if _, ok := accepted.Of("globex", evs[0]); ok && i == 0 {
			t.Errorf("accepted %s applies to another tenant", p.Name)
		}
	}
}

// FuzzPropose: whatever label values events carry, every proposal's draft
// loads as a valid Application that selects the events it came from.
func FuzzPropose(f *testing.F) {
	for _, s := range []string{"billing", "Search API", `a"b`, "x: y #z", "\x00\n", "ü-ß", "{[", "-"} {
		f.Add("service", s)
		f.Add("tag:Application", s)
	}
	f.Fuzz(func(t *testing.T, label, value string) {
		e := &event.Event{Labels: map[string]string{label: value}}
		for _, p := range application.Propose(nil, "acme", []*event.Event{e}) {
			c, err := acceptDraft(t, p.YAML)
			if err != nil {
				// Values content cannot hold (invalid UTF-8, over-long) are
				// refused by content validation, never loaded wrongly.
				return
			}
			if a, ok := c.Of("acme", e); !ok || a.Name != p.Name {
				t.Fatalf("draft for %s=%q does not select its event:\n%s", label, value, p.YAML)
			}
		}
	})
}
