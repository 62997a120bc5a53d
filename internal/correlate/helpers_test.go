package correlate_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/alertmanager"
	"github.com/flywheel-ops/flywheel/internal/intake/eventbridge"
	"github.com/flywheel-ops/flywheel/internal/intake/generic"
	"github.com/flywheel-ops/flywheel/internal/intake/sns"
)

// fixtureDir holds the request bodies of every source (testdata/events at
// the module root).
const fixtureDir = "../../testdata/events"

var testNow = time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)

// registry has only this package's kind, so these tests do not depend on
// other kinds' packages.
func registry() *content.Registry {
	reg := content.NewRegistry()
	reg.Register(correlate.Kind())
	return reg
}

// builtin compiles the library's correlation rules, loaded as the server
// loads them.
var builtin = sync.OnceValues(func() (*correlate.Rules, error) {
	set, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		return nil, err
	}
	return correlate.Compile(set.Items(correlate.KindName))
})

func builtinRules(tb testing.TB) *correlate.Rules {
	tb.Helper()
	rs, err := builtin()
	if err != nil {
		tb.Fatalf("built-in correlation rules: %v", err)
	}
	return rs
}

// loadYAML loads files (path → text) as the user's content directory "ops".
func loadYAML(files map[string]string) (*content.Set, error) {
	fsys := fstest.MapFS{}
	for p, s := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(s)}
	}
	return content.Load(registry(), content.Source{Name: "ops", FS: fsys})
}

func errorLines(err error) []string {
	var out []string
	for _, e := range content.Errors(err) {
		out = append(out, e.Error())
	}
	return out
}

// fixtureEvents parses one fixture file with the adapter of its folder.
func fixtureEvents(tb testing.TB, name string) []event.Event {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		tb.Fatalf("fixture: %v", err)
	}
	var a intake.Adapter
	switch dir, file := filepath.Split(name); {
	case dir == "alertmanager/" && strings.HasPrefix(file, "v2-"):
		a = alertmanager.NewAPIv2(alertmanager.WithClock(func() time.Time { return testNow }))
	case dir == "alertmanager/":
		a = alertmanager.NewWebhook(alertmanager.WithClock(func() time.Time { return testNow }))
	case dir == "eventbridge/":
		a = eventbridge.New()
	case dir == "cloudwatch/":
		// The fixtures' signatures are random bytes.
		a, err = sns.New(sns.Config{AllowedTopics: []string{"*"}, SkipVerify: true,
			Confirm: func(context.Context, string) error { return nil }})
	case dir == "generic/":
		a, err = generic.New()
	default:
		tb.Fatalf("no adapter for fixture %s", name)
	}
	if err != nil {
		tb.Fatal(err)
	}
	res, err := a.Parse(context.Background(), intake.Request{Body: body, Header: http.Header{}})
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return res.Events
}

// fixtureNames lists every fixture an adapter accepts (bad/ holds the
// malformed ones), so a new fixture is not silently left out.
func fixtureNames(tb testing.TB) []string {
	tb.Helper()
	var names []string
	for _, dir := range []string{"alertmanager", "cloudwatch", "eventbridge", "generic"} {
		files, err := filepath.Glob(filepath.Join(fixtureDir, dir, "*.json"))
		if err != nil || len(files) == 0 {
			tb.Fatalf("no fixtures in %s/%s (err %v)", fixtureDir, dir, err)
		}
		for _, f := range files {
			names = append(names, dir+"/"+filepath.Base(f))
		}
	}
	return names
}

func match(tb testing.TB, rs *correlate.Rules, e *event.Event) correlate.Match {
	tb.Helper()
	m, err := rs.Match(e)
	if err != nil {
		tb.Fatalf("Match(%s): %v", e.Title, err)
	}
	return m
}

// alert is a synthetic Alertmanager alert as the webhook adapter makes it.
func alert(name, cluster, instance string, sev event.Severity) event.Event {
	labels := map[string]string{
		"alertname": name, "cluster": cluster, "instance": instance, "job": "node-exporter",
		"prometheus": "monitoring/k8s", "severity": "warning",
	}
	return event.Event{
		Source: "alertmanager", Kind: event.KindAlert, Severity: sev, Status: event.StatusFiring,
		Title: name, Labels: labels, Annotations: map[string]string{"summary": "Filesystem almost full"},
		Resources:   []event.ResourceRef{{Type: "host", ID: strings.Split(instance, ":")[0]}},
		OccurredAt:  testNow,
		Fingerprint: event.FingerprintOf("alertmanager", labels),
	}
}
