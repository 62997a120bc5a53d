package stats

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestCandidates: nginx outages on three hosts resolved by hand with
// restart-service (45 human minutes) outrank two disk OpsItems (20
// minutes); a single certificate OpsItem does not recur; automated and
// pipeline resolutions never count.
func TestCandidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := seedStore(t, "acme", []seed{
		{title: "nginx down on web-01", category: "service", by: "token:tok_1", created: time.Hour, resolved: 2 * time.Hour, human: 900},
		{title: "nginx down on web-02", category: "service", by: "token:tok_2", created: 3 * time.Hour, resolved: 4 * time.Hour, human: 600},
		{title: "nginx down on web-17", category: "service", by: "token:tok_1", created: 5 * time.Hour, resolved: 6 * time.Hour, human: 1200},
		{title: "nginx down on web-18", category: "service", by: "automation:rule:x", created: 5 * time.Hour, resolved: 6 * time.Hour},
		{title: "Disk almost full on db-1", category: "monitoring", by: "token:tok_1", created: time.Hour, resolved: 2 * time.Hour, human: 600},
		{title: "Disk almost full on db-2", category: "monitoring", by: "token:tok_1", created: time.Hour, resolved: 3 * time.Hour, human: 600},
		{title: "Certificate expires", category: "monitoring", by: "token:tok_1", created: time.Hour, resolved: 3 * time.Hour, human: 6000},
		{title: "CPU high on api-4", category: "monitoring", by: "system:pipeline", created: time.Hour, resolved: 3 * time.Hour},
	})
	// People ran restart-service on the nginx OpsItems (and a dry run of
	// another runbook, which does not count); each is about a host.
	var nginx []store.OpsItem
	_ = st.ScanOpsItemsActive(ctx, "acme", day, day.Add(24*time.Hour), func(o store.OpsItem) error {
		if strings.HasPrefix(o.Title, "nginx") && o.ResolvedBy != "automation:rule:x" {
			nginx = append(nginx, o)
		}
		return nil
	})
	err := st.InTx(ctx, func(tx store.Tx) error {
		for i, o := range nginx {
			for j, x := range []store.Execution{
				{Runbook: "restart-service", StartedBy: "token:tok_1", Status: "succeeded", Parameters: []byte(`{"unit":"nginx","verify_seconds":30}`)},
				{Runbook: "collect-host-diagnostics", StartedBy: "token:tok_1", Status: "succeeded", DryRun: true},
			} {
				x.ID, x.TenantID, x.OpsItemID = store.NewID("ex", o.CreatedAt.Add(time.Duration(i*10+j))), "acme", o.ID
				x.CreatedAt, x.UpdatedAt = o.CreatedAt, o.CreatedAt
				if err := tx.CreateExecution(ctx, x); err != nil {
					return err
				}
			}
			if err := tx.AddOpsItemResource(ctx, "acme", o.ID, store.OpsItemResource{Type: "host", ID: o.Title[len(o.Title)-6:]}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := Candidates(ctx, st, "acme", day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d candidates, want 2: %+v", len(cs), cs)
	}
	c := cs[0]
	if c.TitlePattern != "nginx down on web-*" || c.Category != "service" || c.Count != 3 || c.HumanMinutes != 45 || c.MedianMinutes != 15 ||
		strings.Join(c.Runbooks, ",") != "restart-service" || strings.Join(c.ResourceTypes, ",") != "host" || len(c.Examples) != 3 ||
		c.Examples[0].Title != "nginx down on web-17" || !c.LastResolved.Equal(day.Add(6*time.Hour)) {
		t.Errorf("first candidate: %+v", c)
	}
	if d := cs[1]; d.TitlePattern != "Disk almost full on db-*" || d.Count != 2 || d.HumanMinutes != 20 || len(d.Runbooks) != 0 {
		t.Errorf("second candidate: %+v", d)
	}

	// The draft from the first candidate is a Rule the content loader
	// accepts next to the library, and its own test passes.
	draft := Draft{TitlePattern: c.TitlePattern, Category: c.Category, Runbook: c.Runbooks[0],
		Parameters: map[string]any{"unit": "nginx", "verify_seconds": 30.0}, Example: c.Examples[0].Title, From: "3 OpsItems"}
	checkDraft(t, draft, "auto-nginx-down-on-web", []string{`opsitem.title.matches("^nginx\\s+down\\s+on\\s+web-[A-Za-z0-9]+$")`, "mode: suggest",
		`unit: '"nginx"'`, "verify_seconds: \"30\""})
	if !draftMatches(t, draft, "nginx down on web-99") || draftMatches(t, draft, "nginx down on web-99 and more") || draftMatches(t, draft, "apache down on web-1") {
		t.Error("the drafted condition matches the wrong titles")
	}
}

// checkDraft loads d's YAML with the built-in library and runs its test.
func checkDraft(t *testing.T, d Draft, name string, contains []string) {
	t.Helper()
	y, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range contains {
		if !strings.Contains(string(y), s) {
			t.Errorf("draft lacks %q:\n%s", s, y)
		}
	}
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fstest.MapFS{"rules/draft.yaml": {Data: y}}})
	if err != nil {
		t.Fatalf("draft does not load: %v\n%s", err, y)
	}
	rs, err := rule.Compile(set.Items("Rule"))
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	for _, r := range rs.Test() {
		if r.Rule == name {
			ran = true
			if r.Err != nil {
				t.Errorf("draft's test %q: %v\n%s", r.Test, r.Err, y)
			}
		}
	}
	if !ran {
		t.Errorf("no test of rule %s ran", name)
	}
}

// draftMatches evaluates the draft's condition on an OpsItem titled title.
func draftMatches(t *testing.T, d Draft, title string) bool {
	t.Helper()
	d.Example, d.Parameters = "", nil
	y, _ := d.YAML()
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fstest.MapFS{"rules/draft.yaml": {Data: y}}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rule.Compile(set.Items("Rule"))
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := rs.Evaluate(nil, &store.OpsItem{Title: title, Category: d.Category, Status: "open"})
	for _, m := range ms {
		if m.Rule.Name == d.Name() {
			return true
		}
	}
	return false
}

func TestDraftQuoting(t *testing.T) {
	d := Draft{TitlePattern: `Job "backup\nightly" failed (exit *) [*%]`, Category: "backup", Runbook: "notify-escalate",
		Example: `Job "backup\nightly" failed (exit 3) [50%]`, From: "an OpsItem"}
	checkDraft(t, d, "auto-job-backup-nightly-failed-exit", nil)
	if !draftMatches(t, d, `Job "backup\nightly"  failed (exit 12) [7%]`) || draftMatches(t, d, `Job "backup\nightly" failed (exit 3)`) {
		t.Error("quoted draft matches the wrong titles")
	}
	if got := celLiteral(map[string]any{"b": []any{1.0, "x"}, "a": true}); got != `{"a": true, "b": [1, "x"]}` {
		t.Errorf("celLiteral = %s", got)
	}
}
