package backup_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
)

const docPage = "../../docs/backup.md"

// TestDocExamples loads the page's plan as the server loads content, and
// holds the page's names (windows, the immutability error) to what the
// code makes of it.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	plans := 0
	for _, b := range mdtest.Blocks(t, docPage) {
		if b.Lang != "yaml" {
			continue
		}
		plans++
		set, err := content.Load(kinds.NewRegistry(), content.Source{Name: "docs", FS: fstest.MapFS{"ops/backup/plan.yaml": {Data: []byte(b.Text())}}})
		if err != nil {
			t.Fatalf("%s:%d: %v", docPage, b.Line, err)
		}
		items := set.Items(backup.KindName)
		if len(items) != 1 {
			t.Fatalf("%s:%d: %d plans", docPage, b.Line, len(items))
		}
		p, err := backup.Compile(items[0].Name, items[0].Spec.(*backup.Spec))
		if err != nil {
			t.Fatal(err)
		}
		wins, err := backup.Windows(p, "acme", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, w := range wins {
			names = append(names, w.Name)
		}
		if p.Name == "ec2" {
			sel := p.Selections[0]
			if sel.Method != backup.MethodEBS || !slices.Equal(names, []string{"backup-ec2-nightly-volumes"}) {
				t.Errorf("the page's ec2 plan: method %s, windows %v", sel.Method, names)
			}
			for _, r := range sel.Resources {
				if _, err := backup.ParseEC2ARN(r); err != nil {
					t.Error(err)
				}
			}
			continue
		}
		for _, want := range []string{"backup-prod-daily-db", "backup-prod-daily-web", "backup-prod-restore-test-db"} {
			if !slices.Contains(names, want) {
				t.Errorf("the page's plan has windows %v, not %s", names, want)
			}
		}
		if wins[0].Cutoff != "3h" || wins[0].Duration != "4h" || wins[0].Timezone != "Europe/Berlin" {
			t.Errorf("daily window = cutoff %s, duration %s, zone %s; the page says no start after 03:00 and 4 hours", wins[0].Cutoff, wins[0].Duration, wins[0].Timezone)
		}
		bad := strings.Replace(b.Text(), "immutable_for: 7d", "immutable_for: 40d", 1)
		_, err = content.Load(kinds.NewRegistry(), content.Source{Name: "docs", FS: fstest.MapFS{"ops/backup/prod.yaml": {Data: []byte(bad)}}})
		if err == nil || !strings.Contains(err.Error(), "spec.rules[0].immutable_for: 40d is longer than the retention 35d") {
			t.Errorf("the page's example error is not what loading says: %v", err)
		}
	}
	if plans != 2 {
		t.Errorf("%s has %d plan examples, want 2 (prod, ec2)", docPage, plans)
	}
}
