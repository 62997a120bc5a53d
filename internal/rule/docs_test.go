package rule_test

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const docPage = "../../docs/rules.md"

// docRegistry has every kind but no cross-document checks: the page's
// examples name runbooks (disk-cleanup) that are yours, not the library's.
func docRegistry() *content.Registry {
	reg := content.NewRegistry()
	for _, k := range kinds.Foundation() {
		reg.Register(k)
	}
	return reg
}

// TestDocExamples loads the YAML examples of docs/rules.md as the files
// their first-line comments name, on top of the built-in library, checks
// the errors the page shows, and evaluates the examples the way the page
// says they behave.
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
	set, err := content.Load(docRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fsys})
	if got := errorLines(err); !slices.Equal(got, want) {
		t.Errorf("errors from the page's examples:\n got: %q\nwant (from the page): %q", got, want)
	}
	rs, err := rule.Compile(set.Items(rule.KindName))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rs.Rule("broken"); ok {
		t.Error("the broken example compiled")
	}
	// weekly-disk-report runs Mondays 07:00 in Berlin, whatever the season.
	if sc := rs.Scheduled(); len(sc) != 1 || sc[0].Name != "weekly-disk-report" {
		t.Errorf("scheduled rules of the page: %v", sc)
	} else if next, ok := sc[0].NextRun(time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC)); !ok || !next.Equal(time.Date(2026, 3, 30, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("weekly-disk-report next runs at %s, want Monday 30 March 07:00 CEST", next)
	}
	// The examples' own tests pass (and there are some).
	tests := 0
	for _, r := range rs.Test() {
		if r.Origin.Source != "ops" {
			continue
		}
		tests++
		if r.Err != nil {
			t.Errorf("%s: test %q: %v", r.Rule, r.Test, r.Err)
		}
	}
	if tests != 2 {
		t.Errorf("the page's examples carry %d tests, want 2", tests)
	}

	// web-disk-cleanup: a full root volume on a web host cleans up, in
	// service, automatically.
	disk := &event.Event{Source: "alertmanager", Kind: event.KindAlert, Status: event.StatusFiring, Title: "NodeFilesystemAlmostFull",
		Labels: map[string]string{"alertname": "NodeFilesystemAlmostFull", "mountpoint": "/", "role": "web"}}
	ms, errs := rs.Evaluate(disk, &store.OpsItem{Title: "NodeFilesystemAlmostFull", Severity: "medium"})
	if len(ms) != 1 || len(errs) != 0 {
		t.Fatalf("disk: matches %v, errors %v", ruleNames(ms), errs)
	}
	if m := ms[0]; m.Rule.Name != "web-disk-cleanup" || m.Rule.Mode != runbook.ModeAuto || m.Rule.Set.Category != "service" ||
		!reflect.DeepEqual(m.Parameters, map[string]any{"mountpoint": "/", "target_percent": int64(80)}) {
		t.Errorf("disk: %+v", m)
	}

	// sandbox-isolate-now takes the sandbox's instances before the library.
	sandbox := guardDutyEvent(t, "CryptoCurrency:EC2/BitcoinTool.B!DNS", "ACTOR", false)
	sandbox.Labels["account"] = "444455556666"
	o := opsItemFor(&sandbox)
	if m, _ := rs.Route(&sandbox, &o); m.Rule == nil || m.Rule.Name != "sandbox-isolate-now" || m.Rule.Mode != runbook.ModeAuto ||
		m.Parameters["instance_id"] != "i-0123456789abcdef0" {
		t.Errorf("sandbox: %+v", m)
	}
	other := guardDutyEvent(t, "CryptoCurrency:EC2/BitcoinTool.B!DNS", "ACTOR", false)
	if m, _ := rs.Route(&other, &o); m.Rule == nil || m.Rule.Name != "guardduty-compromised-instance" {
		t.Errorf("other account: %+v", m)
	}

	// dev-alerts classifies and notifies, and lets evaluation go on.
	dev := &event.Event{Kind: event.KindAlert, Labels: map[string]string{"env": "dev"}}
	ms, _ = rs.Evaluate(dev, &store.OpsItem{Title: "HighLatency"})
	if len(ms) != 1 || ms[0].Rule.Name != "dev-alerts" || ms[0].Message != "[dev] HighLatency" || ms[0].Rule.Stop {
		t.Errorf("dev: %+v", ms)
	}
}

// TestDocFields: the page's field table lists every spec field.
func TestDocFields(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("yaml")
			if tag == "" {
				continue
			}
			if !strings.Contains(string(page), "| `"+prefix+tag+"` |") {
				t.Errorf("%s has no table row for spec field %s%s", docPage, prefix, tag)
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft.PkgPath() == typ.PkgPath() {
				walk(prefix+tag+".", ft)
			}
		}
	}
	walk("", reflect.TypeFor[rule.Spec]())
}

// TestDocConsolidation: the page's figure and table are the library's.
func TestDocConsolidation(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(docPage)
	if err != nil {
		t.Fatal(err)
	}
	s := rule.Consolidation(builtinRules(t), rule.GuardDutyFindingTypes())
	if fig := fmt.Sprintf("**%d GuardDuty finding types → %d runbooks:**", s.Types, s.Runbooks); !strings.Contains(string(page), fig) {
		t.Errorf("%s does not show the figure %q", docPage, fig)
	}
	for _, c := range s.PerRunbook {
		var rules []string
		for _, r := range c.Rules {
			rules = append(rules, "`"+r+"`")
		}
		var modes []string
		for _, m := range c.Modes {
			modes = append(modes, string(m))
		}
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(c.Runbook) + "`[^|]* \\| " + strings.Join(modes, ", ") +
			" \\| " + fmt.Sprint(c.Types) + " \\| " + regexp.QuoteMeta(strings.Join(rules, ", ")) + " \\|$")
		if !row.Match(page) {
			t.Errorf("%s has no row %s | %s | %d | %s", docPage, c.Runbook, modes, c.Types, rules)
		}
	}
	fallbacks := 0
	for _, r := range s.Routes {
		if r.Runbook == fallback {
			fallbacks++
		}
	}
	if !strings.Contains(string(page), fmt.Sprintf("The %d GuardDuty types that fall back", fallbacks)) {
		t.Errorf("%s does not say %d types fall back", docPage, fallbacks)
	}
}
