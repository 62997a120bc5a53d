package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const securityPage = "../../docs/security.md"

// TestSecurityDocExamples runs the `flywheel token create` examples of
// docs/security.md against a server and checks each token got the role and
// permissions its flags name (the intake token posts events and reads
// nothing); the page's runbook loads and compiles, with its approver named
// by token name.
func TestSecurityDocExamples(t *testing.T) {
	t.Parallel()
	st, secret := tenantStore(t, store.RoleAdmin)
	srv := httptest.NewServer(api.New(api.Options{Store: st}))
	t.Cleanup(srv.Close)
	run := func(token string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		root := NewRoot(Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
		root.SetArgs(append([]string{"--server", srv.URL, "--token", token}, args...))
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	var commands, runbooks int
	for _, b := range mdtest.Blocks(t, securityPage) {
		switch b.Lang {
		case "console":
			for _, l := range b.Lines {
				cmd, ok := strings.CutPrefix(l, "$ flywheel ")
				if !ok {
					continue
				}
				args := shellWords(t, cmd)
				out, err := run(secret, args...)
				if err != nil {
					t.Fatalf("%s:%d: flywheel %s: %v", securityPage, b.Line, cmd, err)
				}
				commands++
				lines := strings.Split(strings.TrimSpace(out), "\n")
				tokSecret := lines[len(lines)-1]
				role, allow := flagValue(args, "--role"), flagValue(args, "--allow")
				toks, _, err := st.ListTokens(context.Background(), "acme", store.Page{Limit: store.MaxPageLimit})
				if err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(toks, func(tk store.Token) bool { return tk.Name == flagValue(args, "--name") })
				if i < 0 || string(toks[i].Role) != role || (allow != "" && !slices.Contains(toks[i].Permissions, store.Permission(allow))) ||
					(allow == "" && len(toks[i].Permissions) != 0) {
					t.Errorf("%s:%d: flywheel %s made token %+v", securityPage, b.Line, cmd, toks)
				}
				if role == string(store.RoleIntake) {
					if _, err := run(tokSecret, "opsitem", "list"); err == nil || !strings.Contains(err.Error(), "403") {
						t.Errorf("the intake token lists OpsItems: %v", err)
					}
				}
			}
		case "yaml":
			set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "doc", FS: fstest.MapFS{"runbooks/doc.yaml": {Data: []byte(b.Text())}}})
			if err != nil {
				t.Fatalf("%s:%d: %v", securityPage, b.Line, err)
			}
			lib, err := runbook.NewLibrary(set, registry.New(registry.Options{}).Get)
			if err != nil {
				t.Fatalf("%s:%d: %v", securityPage, b.Line, err)
			}
			rb, ok := lib.Get("acme", "restart-database")
			if !ok || !lib.RunsOnHosts("acme", rb) {
				t.Fatalf("%s:%d: restart-database did not load as a runbook running on hosts", securityPage, b.Line)
			}
			gate := rb.Steps[0].Control.(*runbook.Approve)
			if !gate.Allows("name:change-lead", store.RoleViewer) || gate.Allows("token:tok_x", store.RoleOperator) {
				t.Errorf("the gate's approvers %v", gate.Approvers)
			}
			runbooks++
		}
	}
	if commands != 3 || runbooks != 1 {
		t.Errorf("the page has %d token commands and %d runbooks; the test expects 3 and 1", commands, runbooks)
	}
}

// flagValue is the value of flag in args ("" without it).
func flagValue(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}
