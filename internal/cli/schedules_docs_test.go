package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/windowrun"
)

const schedulesPage = "../../docs/schedules.md"

// heldJobs keeps the jobs the executor enqueues; none runs in this test.
type heldJobs struct{}

func (heldJobs) InsertTx(context.Context, store.Tx, river.JobArgs, *river.InsertOpts) error {
	return nil
}

// TestSchedulesDocExamples loads the YAML examples of docs/schedules.md as
// content (a window and its two runbooks), runs the page's `flywheel window
// create` example against a server on 1 March 2026 and checks it makes the
// same window as the YAML, then runs the page's `window next` and `window
// run --dry-run` and compares their output with the page, line for line,
// and the page's invalid schedule with its error.
func TestSchedulesDocExamples(t *testing.T) {
	t.Parallel()
	blocks := mdtest.Blocks(t, schedulesPage)
	fsys := fstest.MapFS{}
	type example struct {
		cmd  []string
		want []string
	}
	var examples []example
	for _, b := range blocks {
		switch b.Lang {
		case "yaml":
			if len(b.Lines) == 0 || !strings.HasPrefix(b.Lines[0], "# ops/") {
				t.Fatalf("%s:%d: a yaml example must start with # ops/…", schedulesPage, b.Line)
			}
			fsys[strings.TrimPrefix(b.Lines[0], "# ops/")] = &fstest.MapFile{Data: []byte(b.Text())}
		case "console":
			for i := 0; i < len(b.Lines); i++ {
				l := b.Lines[i]
				if !strings.HasPrefix(l, "$ flywheel ") {
					continue
				}
				for strings.HasSuffix(l, `\`) && i+1 < len(b.Lines) {
					i++
					l = strings.TrimSuffix(l, `\`) + " " + strings.TrimSpace(b.Lines[i])
				}
				ex := example{cmd: shellWords(t, strings.TrimPrefix(l, "$ flywheel "))}
				for i+1 < len(b.Lines) && !strings.HasPrefix(b.Lines[i+1], "$ ") {
					i++
					ex.want = append(ex.want, b.Lines[i])
				}
				examples = append(examples, ex)
			}
		}
	}
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "ops", FS: fsys})
	if err != nil {
		t.Fatalf("the page's YAML examples do not load:\n%v", err)
	}
	it, ok := set.Get(maintenance.KindName, "patch-web")
	if !ok {
		t.Fatal("the page's window patch-web did not load")
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var at atomic.Int64 // the injected clock; the test moves it on
	at.Store(now.UnixNano())
	clock := func() time.Time { return time.Unix(0, at.Load()).UTC() }

	fromYAML := it.Spec.(*maintenance.Spec).Record("", "acme", "patch-web", "", now)

	st, secret := tenantStore(t, store.RoleAdmin)
	ctx := context.Background()
	if err := st.InTx(ctx, func(tx store.Tx) error {
		for i, id := range []string{"res_web1", "res_web2", "res_web3"} {
			if err := tx.PutResource(ctx, store.Resource{ID: id, TenantID: "acme", Type: "host", Name: "web-" + string(rune('1'+i)),
				Tags: map[string]string{"patch-group": "web"}, CreatedAt: now, UpdatedAt: now}); err != nil {
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
	runner, err := windowrun.New(windowrun.Options{Store: st, Starter: x, Canceller: x, Targets: execution.InventoryTargets{}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Options{Store: st, Clock: clock, Runbooks: x, Windows: runner}))
	t.Cleanup(srv.Close)
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		root := NewRoot(Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
		root.SetArgs(append([]string{"--server", srv.URL, "--token", secret}, args...))
		err := root.ExecuteContext(ctx)
		return out.String(), err
	}

	// The window is made first, by the page's command, whatever the order
	// of the page.
	sort.SliceStable(examples, func(i, j int) bool {
		return examples[i].cmd[1] == "create" && examples[j].cmd[1] != "create"
	})
	checked := map[string]bool{}
	for _, ex := range examples {
		name := strings.Join(ex.cmd[:2], " ")
		switch {
		case name == "window create" && ex.cmd[3] == "patch-web":
			if _, err := run(ex.cmd...); err != nil {
				t.Fatalf("%v: %v", ex.cmd, err)
			}
			l, _, err := st.ListMaintenanceWindows(ctx, "acme", store.Page{})
			if err != nil || len(l) != 1 {
				t.Fatalf("windows after create: %v %v", l, err)
			}
			got := l[0]
			want := fromYAML
			want.ID, want.TenantID, want.CreatedBy, want.CreatedAt = got.ID, got.TenantID, got.CreatedBy, got.CreatedAt
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the page's create command and its YAML differ:\ncommand: %+v\nYAML:    %+v", got, want)
			}
			checked["create"] = true
		case name == "window create":
			_, err := run(ex.cmd...)
			msg := strings.TrimPrefix(strings.Join(ex.want, "\n"), "flywheel: … ")
			if err == nil || !strings.Contains(err.Error(), msg) {
				t.Errorf("%v: %v, want an error containing %q", ex.cmd, err, msg)
			}
			checked["create error"] = true
		case name == "window next", name == "window run" && len(ex.want) > 0 && strings.Contains(strings.Join(ex.cmd, " "), "--dry-run"):
			out, err := run(ex.cmd...)
			if err != nil {
				t.Fatalf("%v: %v", ex.cmd, err)
			}
			if got := strings.Split(strings.TrimRight(out, "\n"), "\n"); !reflect.DeepEqual(got, ex.want) {
				t.Errorf("%v prints:\n%s\nthe page shows:\n%s", ex.cmd, out, strings.Join(ex.want, "\n"))
			}
			checked[name] = true
		}
	}
	for _, want := range []string{"create", "create error", "window next", "window run"} {
		if !checked[want] {
			t.Errorf("the page has no %s example the test recognises", want)
		}
	}

	// At its first opening the window runs as the page says: patch on two
	// of the three web hosts at once, check waiting for it.
	at.Store(time.Date(2026, 3, 19, 22, 30, 0, 0, time.UTC).UnixNano())
	if err := runner.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := run("window", "history", "patch-web")
	if err != nil || !strings.Contains(out, "schedule") || !strings.Contains(out, "running") {
		t.Fatalf("history at the opening: %v\n%s", err, out)
	}
	runs, _, _ := st.ListWindowRuns(ctx, "acme", "", store.Page{})
	out, err = run("window", "show-run", runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	running, pending := 0, 0 // as show-run prints them
	for _, l := range strings.Split(out, "\n") {
		switch f := strings.Fields(l); {
		case len(f) >= 4 && f[1] == "patch" && f[3] == "running":
			running++
		case len(f) >= 4 && f[3] == "pending":
			pending++
		}
	}
	rows, _ := st.ListWindowRunTargets(ctx, "acme", runs[0].ID)
	var got []string
	for _, r := range rows {
		got = append(got, r.Task+"/"+r.TargetID+"="+r.Status)
	}
	if want := "patch/res_web1=running patch/res_web2=running patch/res_web3=pending check/res_web1=pending check/res_web2=pending check/res_web3=pending"; strings.Join(got, " ") != want || running != 2 || pending != 4 {
		t.Errorf("at the first opening: %s\nshow-run:\n%s", strings.Join(got, " "), out)
	}
}
