package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const costPage = "../../docs/cost.md"

// TestCostDocExamples loads docs/cost.md's schedules as content, seeds the
// page's dev-web and dev-db, and runs each console example of the page
// against a server whose clock is Monday 7 December 2026, 10:00 UTC,
// comparing the output with the page line for line.
func TestCostDocExamples(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{}
	type example struct {
		cmd  []string
		want []string
	}
	var examples []example
	for _, b := range mdtest.Blocks(t, costPage) {
		switch b.Lang {
		case "yaml":
			if len(b.Lines) == 0 || !strings.HasPrefix(b.Lines[0], "# ops/") {
				t.Fatalf("%s:%d: a yaml example must start with # ops/…", costPage, b.Line)
			}
			fsys[strings.TrimPrefix(b.Lines[0], "# ops/")] = &fstest.MapFile{Data: []byte(b.Text())}
		case "console":
			for i := 0; i < len(b.Lines); i++ {
				if !strings.HasPrefix(b.Lines[i], "$ flywheel ") {
					continue
				}
				ex := example{cmd: strings.Fields(strings.TrimPrefix(b.Lines[i], "$ flywheel "))}
				for i+1 < len(b.Lines) && !strings.HasPrefix(b.Lines[i+1], "$ ") {
					i++
					ex.want = append(ex.want, b.Lines[i])
				}
				examples = append(examples, ex)
			}
		}
	}
	if len(fsys) != 2 || len(examples) != 2 {
		t.Fatalf("the page has %d schedules and %d commands, want 2 and 2", len(fsys), len(examples))
	}
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fsys})
	if err != nil {
		t.Fatalf("the page's YAML examples do not load:\n%v", err)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, secret := tenantStore(t, store.RoleAdmin)
	ctx := context.Background()
	if err := st.InTx(ctx, func(tx store.Tx) error {
		for _, r := range []store.Resource{
			{ID: "res_web", Type: "ec2-instance", Name: "dev-web", Tags: map[string]string{"env": "dev"},
				Config: json.RawMessage(`{"InstanceId": "i-0abc12345678def01", "InstanceType": "t3.medium", "Placement": {"AvailabilityZone": "us-east-1a"}}`)},
			{ID: "res_db", Type: "rds-instance", Name: "dev-db", Tags: map[string]string{"Schedule": "working-day"},
				Config: json.RawMessage(`{"DBInstanceIdentifier": "dev-db", "DBInstanceClass": "db.t3.medium", "AvailabilityZone": "us-east-1c"}`)},
		} {
			r.TenantID, r.CreatedAt, r.UpdatedAt = "acme", now, now
			if err := tx.PutResource(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	acts := registry.New(registry.Options{}).Get
	lib, err := runbook.NewLibrary(set, acts)
	if err != nil {
		t.Fatal(err)
	}
	x, err := execution.New(execution.Options{Store: st, Queue: heldJobs{}, Runbooks: lib, Actions: acts, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	scheds, err := cost.CompileSet(set)
	if err != nil {
		t.Fatal(err)
	}
	costs, err := cost.New(cost.Options{Store: st, Starter: x, Schedules: scheds, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	fc, err := forecast.NewEngine(forecast.EngineOptions{Store: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Options{Store: st, Clock: clock, Runbooks: x, Cost: costs, Forecasts: fc}))
	t.Cleanup(srv.Close)
	for _, ex := range examples {
		var out, errOut bytes.Buffer
		root := NewRoot(Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
		root.SetArgs(append([]string{"--server", srv.URL, "--token", secret}, ex.cmd...))
		if err := root.ExecuteContext(ctx); err != nil {
			t.Fatalf("flywheel %s: %v\n%s", strings.Join(ex.cmd, " "), err, errOut.String())
		}
		got := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		if strings.Join(got, "\n") != strings.Join(ex.want, "\n") {
			t.Errorf("flywheel %s:\n%s\nthe page says:\n%s", strings.Join(ex.cmd, " "), strings.Join(got, "\n"), strings.Join(ex.want, "\n"))
		}
	}
}
