package correlate_test

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
)

const docPage = "../../docs/correlation.md"

// TestDocExamples loads the YAML examples of docs/correlation.md as the
// files their first-line comments name, on top of the built-in library,
// checks the errors the page shows, and matches events against the rules
// the way the page says they behave.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{}
	var want []string
	for _, b := range mdtest.Blocks(t, docPage) {
		switch b.Lang {
		case "yaml":
			if len(b.Lines) == 0 || !strings.HasPrefix(b.Lines[0], "# ops/") {
				t.Fatalf("%s:%d: a yaml example must start with a comment naming its file", docPage, b.Line)
			}
			fsys[strings.TrimPrefix(b.Lines[0], "# ops/")] = &fstest.MapFile{Data: []byte(b.Text())}
		case "console":
			if len(b.Lines) > 0 && b.Lines[0] == "$ flywheel content validate ops" {
				want = append(want, b.Lines[1:]...)
			}
		}
	}
	if len(fsys) != 5 || len(want) == 0 {
		t.Fatalf("found %d yaml examples and %d expected errors; has the page changed?", len(fsys), len(want))
	}
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fsys})
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Errorf("errors from the page's examples:\n got: %q\nwant (from the page): %q", got, want)
	}
	rs, err := correlate.Compile(set.Items(correlate.KindName))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := application.Compile(set.Items(application.KindName))
	if err != nil {
		t.Fatal(err)
	}
	rs = rs.WithApplications(cat)

	// shop.yaml: the order service's alerts and its database's are one
	// group, whatever their names and hosts; the database ranks higher.
	web := alert("HTTPErrorRateHigh", "eu-1", "web-01:8080", event.SeverityMedium)
	web.Labels["service"] = "orders"
	dbe := alert("PostgresDown", "eu-1", "db-orders-01:9187", event.SeverityCritical)
	if w, d := match(t, rs, &web), match(t, rs, &dbe); w.Application != "orders" || d.Application != "orders-db" ||
		d.Rank != 1 || len(w.Links) != 1 || w.Links[0].GroupKey != d.GroupKey || w.Links[0].Why != "application orders depends on orders-db" {
		t.Errorf("shop: web %+v, db %+v", w, d)
	}

	// payments-postgres: the data team's PostgreSQL alerts of a cluster are
	// one group, before the library's Prometheus rule.
	pg := func(name string, sev event.Severity) event.Event {
		e := alert(name, "prod-use1", "pg-0:9187", sev)
		e.Labels["team"] = "data-platform"
		return e
	}
	lag, conns := pg("PostgresReplicationLag", event.SeverityMedium), pg("PostgresTooManyConnections", event.SeverityCritical)
	m1, m2 := match(t, rs, &lag), match(t, rs, &conns)
	if m1.Rule.Name != "payments-postgres" || m1.GroupKey != m2.GroupKey {
		t.Errorf("postgres alerts: rules %s/%s keys %s/%s", m1.Rule.Name, m2.Rule.Name, m1.GroupKey, m2.GroupKey)
	}
	if r := m1.Rule; r.Title(&lag) != "PostgreSQL problems in prod-use1" || r.Category(&lag) != "service" ||
		r.HoldFor(&lag) != time.Minute || r.HoldFor(&conns) != 0 || r.Resolve != correlate.ResolveAll {
		t.Errorf("payments-postgres: title %q category %s holds %s/%s", r.Title(&lag), r.Category(&lag), r.HoldFor(&lag), r.HoldFor(&conns))
	}

	// The override of prometheus-alerts holds warnings five minutes.
	other := alert("NodeFilesystemAlmostFull", "prod-use1", "web-1:9100", event.SeverityMedium)
	if m := match(t, rs, &other); m.Rule.Name != "prometheus-alerts" || m.Rule.Origin.Source != "ops" ||
		m.Rule.HoldFor(&other) != 5*time.Minute || m.Rule.Title(&other) != "NodeFilesystemAlmostFull" {
		t.Errorf("override: rule %s from %s, hold %s, title %q", m.Rule.Name, m.Rule.Origin, m.Rule.HoldFor(&other), m.Rule.Title(&other))
	}

	// acme-dev-shutdown applies to acme's events only.
	stop := fixtureEvents(t, "eventbridge/ec2-state-change.json")[0]
	stop.Labels["account"] = "444455556666"
	if m := match(t, rs.ForTenant("acme"), &stop); m.Rule.Name != "acme-dev-shutdown" ||
		m.Rule.Title(&stop) != "EC2 instances stopped in account 444455556666" || m.Rule.HoldFor(&stop) != 30*time.Minute {
		t.Errorf("acme: rule %s title %q", m.Rule.Name, m.Rule.Title(&stop))
	}
	if m := match(t, rs.ForTenant("globex"), &stop); m.Rule.Name != "ec2-state-changes" {
		t.Errorf("globex: rule %s, want ec2-state-changes", m.Rule.Name)
	}
	if _, ok := rs.Rule("broken"); ok {
		t.Error("the broken example compiled")
	}
}

// TestDocFields: the page's field table lists every spec field.
func TestDocFields(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeFor[correlate.Spec]()
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("yaml")
		if !strings.Contains(string(page), "| `"+tag+"` |") {
			t.Errorf("%s has no table row for spec field %s", docPage, tag)
		}
	}
}
