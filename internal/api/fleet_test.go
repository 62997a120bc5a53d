package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// fakeAgent is an enrolled agent as the tests drive it: raw HTTP calls with
// its credential.
type fakeAgent struct {
	wire.EnrollResponse
	h *harness
}

func (a fakeAgent) auth() string { return wire.AuthScheme + " " + a.AgentID + ":" + a.Secret }

func (a fakeAgent) call(method, path string, body any) reply {
	a.h.t.Helper()
	return a.h.call(method, path, "", body, "Authorization", a.auth())
}

// enrollToken creates an enrollment token with tenant's admin token.
func (h *harness) enrollToken(tenant string, in api.EnrollTokenInput) api.CreatedEnrollToken {
	h.t.Helper()
	var out api.CreatedEnrollToken
	h.call("POST", "/api/v1/enrollment-tokens", h.secret(tenant+"/admin"), in).ok(h.t, http.StatusCreated, &out)
	return out
}

// enroll enrolls a new agent of tenant on hostname.
func (h *harness) enroll(tenant, hostname string, tags map[string]string) fakeAgent {
	h.t.Helper()
	tok := h.enrollToken(tenant, api.EnrollTokenInput{})
	var out wire.EnrollResponse
	h.call("POST", wire.PathEnroll, "", wire.EnrollRequest{Token: tok.Token, Host: wire.Host{Hostname: hostname, Version: "v1", OS: "linux", Arch: "amd64"},
		Tags: tags}).ok(h.t, http.StatusCreated, &out)
	return fakeAgent{EnrollResponse: out, h: h}
}

func TestFleetEnrollment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.secret("acme/admin")

	// Tokens: admin only, tagged, expiring, listed without secrets.
	h.call("POST", "/api/v1/enrollment-tokens", h.secret("acme/operator"), api.EnrollTokenInput{}).fail(t, 403, "forbidden")
	h.call("POST", "/api/v1/enrollment-tokens", admin, api.EnrollTokenInput{ExpiresIn: "-1h"}).fail(t, 400, "bad_request", "expires_in")
	h.call("POST", "/api/v1/enrollment-tokens", admin, api.EnrollTokenInput{ExpiresIn: "9000h"}).fail(t, 400, "bad_request", "expires_in")
	h.call("POST", "/api/v1/enrollment-tokens", admin, api.EnrollTokenInput{Tags: map[string]string{"bad key": "x"}}).fail(t, 400, "bad_request", "tag key")
	tok := h.enrollToken(acme, api.EnrollTokenInput{ExpiresIn: "1h", Tags: map[string]string{"env": "prod"}})
	if !strings.HasPrefix(tok.Token, wire.EnrollTokenPrefix) || !tok.ExpiresAt.Equal(epoch.Add(time.Hour)) || tok.TenantID != acme {
		t.Fatalf("token = %+v", tok)
	}
	// The bundle carries the same token, the URL the call reached and the
	// token's tags; it parses as agents parse it.
	if b := tok.Bundle; b.Token != tok.Token || b.Tags["env"] != "prod" || b.Tenant != acme || !strings.HasPrefix(b.Server, "http://") {
		t.Errorf("bundle = %+v", b)
	}
	raw, _ := json.Marshal(tok.Bundle)
	if _, err := wire.ParseBundle(raw); err != nil {
		t.Errorf("the API's bundle does not parse: %v", err)
	}
	var toks api.List[store.EnrollToken]
	r := h.call("GET", "/api/v1/enrollment-tokens", admin, nil)
	r.ok(t, 200, &toks)
	if len(toks.Items) != 1 || strings.Contains(string(r.Body), tok.Token) {
		t.Errorf("token list = %s", r.Body)
	}

	// Enroll: the token's tags win over the agent's; a second use fails,
	// even by another host.
	req := wire.EnrollRequest{Token: tok.Token, Host: wire.Host{Hostname: "web-1", Version: "v1", OS: "linux", Arch: "amd64"},
		Tags: map[string]string{"env": "dev", "role": "web"}}
	var enrolled wire.EnrollResponse
	h.call("POST", wire.PathEnroll, "", req).ok(t, http.StatusCreated, &enrolled)
	if !strings.HasPrefix(enrolled.Secret, wire.AgentSecretPrefix) || enrolled.TenantID != acme || !strings.HasPrefix(enrolled.AgentID, "agt_") {
		t.Fatalf("enrolled = %+v", enrolled)
	}
	req.Hostname = "web-2"
	h.call("POST", wire.PathEnroll, "", req).fail(t, 401, "unauthenticated", "already used")
	h.call("POST", wire.PathEnroll, "", wire.EnrollRequest{Token: "fwe_nope", Host: req.Host}).fail(t, 401, "unauthenticated", "unknown")
	h.call("POST", wire.PathEnroll, "", wire.EnrollRequest{Token: h.secret("acme/admin"), Host: req.Host}).fail(t, 401, "unauthenticated")
	expiring := h.enrollToken(acme, api.EnrollTokenInput{ExpiresIn: "1m"})
	h.clock.Advance(2 * time.Minute)
	h.call("POST", wire.PathEnroll, "", wire.EnrollRequest{Token: expiring.Token, Host: req.Host}).fail(t, 401, "unauthenticated", "expired")

	a := fakeAgent{EnrollResponse: enrolled, h: h}
	var view api.AgentView
	h.call("GET", "/api/v1/agents/"+a.AgentID, h.secret("acme/viewer"), nil).ok(t, 200, &view)
	if view.State != "pending" || view.Tags["env"] != "prod" || view.Tags["role"] != "web" || view.Hostname != "web-1" {
		t.Errorf("agent = %+v", view)
	}
	var res store.Resource
	h.call("GET", "/api/v1/resources/"+a.ResourceID, h.secret("acme/viewer"), nil).ok(t, 200, &res)
	if res.Type != "host" || res.Name != "web-1" || res.AgentID != a.AgentID || res.Tags["env"] != "prod" {
		t.Errorf("resource = %+v", res)
	}

	// Agent and user credentials never cross.
	hb := wire.Heartbeat{Host: wire.Host{Hostname: "web-1", Version: "v1", OS: "linux", Arch: "amd64"}, StartedAt: epoch, Interval: 10 * time.Second}
	a.call("POST", wire.PathHeartbeat, hb).ok(t, 200, nil)
	h.call("POST", wire.PathHeartbeat, admin, hb).fail(t, 401, "unauthenticated", "agent credential")
	h.call("GET", "/api/v1/agents", a.Secret, nil).fail(t, 401, "unauthenticated")
	h.call("GET", "/api/v1/agents", "", nil, "Authorization", a.auth()).fail(t, 401, "unauthenticated")
	h.call("POST", wire.PathHeartbeat, "", hb, "Authorization", "Agent "+a.AgentID+":fwa_wrong").fail(t, 401, "unauthenticated", "invalid")
	h.call("POST", wire.PathHeartbeat, "", hb, "Authorization", "Agent "+a.AgentID).fail(t, 401, "unauthenticated")

	// Heartbeats are batched: the state shows after a flush.
	if err := h.srv.Fleet().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.call("GET", "/api/v1/agents/"+a.AgentID, h.secret("acme/viewer"), nil).ok(t, 200, &view)
	if view.State != "reporting" || view.LastSeenAt == nil || view.Interval != 10*time.Second {
		t.Errorf("after heartbeat = %+v", view)
	}

	// Revocation: a waiting long-poll ends with 401 at once, and so does
	// every later call.
	polled := make(chan reply, 1)
	go func() { polled <- a.call("GET", wire.PathCommands+"?wait=30s", nil) }()
	time.Sleep(50 * time.Millisecond) // let the poll start waiting
	h.call("DELETE", "/api/v1/agents/"+a.AgentID, h.secret("acme/operator"), nil).fail(t, 403, "forbidden")
	start := time.Now()
	h.call("DELETE", "/api/v1/agents/"+a.AgentID, admin, nil).ok(t, http.StatusNoContent, nil)
	select {
	case r := <-polled:
		r.fail(t, 401, "unauthenticated", "revoked")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the poll ended %s after the revocation", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the long-poll did not end after revocation")
	}
	a.call("POST", wire.PathHeartbeat, hb).fail(t, 401, "unauthenticated", "revoked")
	h.call("DELETE", "/api/v1/agents/"+a.AgentID, admin, nil).fail(t, 404, "not_found")
	h.call("POST", "/api/v1/agents/"+a.AgentID+"/commands", admin, api.CommandInput{Argv: []string{"true"}}).fail(t, 404, "not_found", "revoked")

	var actions []string
	for _, rec := range h.auditOf(acme) {
		actions = append(actions, rec.Action)
		if strings.Contains(string(rec.Detail), wire.AgentSecretPrefix) || strings.Contains(string(rec.Detail), tok.Token) {
			t.Errorf("audit record holds a secret: %+v", rec)
		}
	}
	for _, want := range []string{"agent.token.create", "agent.enroll", "agent.revoke"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit actions %v lack %s", actions, want)
		}
	}
}

func TestFleetCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op := h.hostOperator(acme)
	a := h.enroll(acme, "db-1", nil)

	h.call("POST", "/api/v1/agents/"+a.AgentID+"/commands", h.secret("acme/viewer"), api.CommandInput{Argv: []string{"true"}}).fail(t, 403, "forbidden")
	for _, bad := range []api.CommandInput{{}, {Argv: []string{"a"}, Script: "b"}, {Argv: []string{"a"}, Timeout: "1ms"}, {Argv: []string{"a"}, Timeout: "soon"}} {
		h.call("POST", "/api/v1/agents/"+a.AgentID+"/commands", op, bad).fail(t, 400, "bad_request")
	}
	var c api.CommandView
	h.call("POST", "/api/v1/agents/"+a.AgentID+"/commands", op, api.CommandInput{Script: "echo hi; exit 3", Env: map[string]string{"PASSWORD": "hunter2"},
		Timeout: "30s"}).ok(t, http.StatusCreated, &c)
	if c.Status != store.CommandQueued || c.Spec.Env["PASSWORD"] != "<redacted>" || c.Spec.Timeout != 30*time.Second {
		t.Fatalf("created = %+v", c)
	}

	// The long-poll hands it out once, with its real environment.
	var p wire.Poll
	a.call("GET", wire.PathCommands+"?wait=5s&slots=2&first=1", nil).ok(t, 200, &p)
	if len(p.Commands) != 1 || p.Commands[0].ID != c.ID || p.Commands[0].Spec.Env["PASSWORD"] != "hunter2" {
		t.Fatalf("poll = %+v", p)
	}
	// Nothing left: a short wait ends empty.
	a.call("GET", wire.PathCommands+"?wait=100ms", nil).ok(t, 200, &p)
	if len(p.Commands) != 0 {
		t.Errorf("second poll = %+v", p)
	}
	// A queued command wakes a waiting poll at once.
	got := make(chan wire.Poll, 1)
	go func() {
		var p wire.Poll
		r := a.call("GET", wire.PathCommands+"?wait=30s&slots=1", nil)
		_ = json.Unmarshal(r.Body, &p)
		got <- p
	}()
	time.Sleep(50 * time.Millisecond)
	var c2 api.CommandView
	h.call("POST", "/api/v1/agents/"+a.AgentID+"/commands", op, api.CommandInput{Argv: []string{"sleep", "60"}}).ok(t, http.StatusCreated, &c2)
	select {
	case p := <-got:
		if len(p.Commands) != 1 || p.Commands[0].ID != c2.ID {
			t.Errorf("woken poll = %+v", p)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("queueing a command did not wake the long-poll")
	}

	// Output, retried chunk included, then the result.
	a.call("POST", wire.CommandOutputPath(c.ID), wire.Output{Offset: 0, Data: "hi\n"}).ok(t, http.StatusNoContent, nil)
	a.call("POST", wire.CommandOutputPath(c.ID), wire.Output{Offset: 0, Data: "hi\n"}).ok(t, http.StatusNoContent, nil)
	other := h.enroll(acme, "db-2", nil)
	other.call("POST", wire.CommandOutputPath(c.ID), wire.Output{Offset: 3, Data: "x"}).fail(t, 404, "not_found")
	three := 3
	a.call("POST", wire.CommandResultPath(c.ID), wire.Result{Status: "bogus"}).fail(t, 400, "bad_request")
	a.call("POST", wire.CommandResultPath(c.ID), wire.Result{Status: store.CommandFailed, ExitCode: &three, OutputBytes: 3}).ok(t, http.StatusNoContent, nil)
	a.call("POST", wire.CommandResultPath(c.ID), wire.Result{Status: store.CommandFailed, ExitCode: &three}).fail(t, 404, "not_found")
	h.call("GET", "/api/v1/commands/"+c.ID, h.secret("acme/viewer"), nil).ok(t, 200, &c)
	if c.Status != store.CommandFailed || c.ExitCode == nil || *c.ExitCode != 3 || c.Output != "hi\n" || c.EndedAt == nil {
		t.Errorf("finished = %+v", c)
	}

	// Cancel: the running one is handed to the agent once.
	h.call("DELETE", "/api/v1/commands/"+c2.ID, h.secret("acme/viewer"), nil).fail(t, 403, "forbidden")
	h.call("DELETE", "/api/v1/commands/"+c2.ID, op, nil).ok(t, 200, &c2)
	if !c2.CancelRequested || c2.Status != store.CommandRunning {
		t.Errorf("cancel = %+v", c2)
	}
	a.call("GET", wire.PathCommands+"?wait=1s", nil).ok(t, 200, &p)
	if len(p.Cancel) != 1 || p.Cancel[0] != c2.ID {
		t.Errorf("cancel poll = %+v", p)
	}
	a.call("GET", wire.PathCommands+"?wait=100ms", nil).ok(t, 200, &p)
	if len(p.Cancel) != 0 {
		t.Errorf("the cancellation was handed out twice: %+v", p)
	}
	a.call("POST", wire.CommandResultPath(c2.ID), wire.Result{Status: store.CommandCancelled}).ok(t, http.StatusNoContent, nil)
	h.call("DELETE", "/api/v1/commands/"+c2.ID, op, nil).fail(t, 404, "not_found")

	var l api.List[api.CommandView]
	h.call("GET", "/api/v1/commands?agent="+a.AgentID, h.secret("acme/viewer"), nil).ok(t, 200, &l)
	if len(l.Items) != 2 || l.Items[0].ID != c2.ID {
		t.Errorf("list = %+v", l.Items)
	}
	for _, rec := range h.auditOf(acme) {
		if strings.Contains(string(rec.Detail), "hunter2") {
			t.Errorf("audit holds an environment value: %+v", rec)
		}
	}
}

// TestFleetInventoryDepth: a 9,000-level inventory section is refused
// with a 400 naming the bound, and nothing is stored.
func TestFleetInventoryDepth(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.enroll(acme, "deep-1", nil)
	deep := json.RawMessage(strings.Repeat("[", 9000) + strings.Repeat("]", 9000))
	a.call("PUT", wire.PathInventory, wire.Inventory{Full: true, Sections: map[string]json.RawMessage{"os": deep}}).
		fail(t, 400, "bad_request", "nests 9000 levels deep, more than 16")
	// Invalid UTF-8 in a string is valid JSON to encoding/json, but would
	// reach JSON responses as stored: refused too.
	a.call("PUT", wire.PathInventory, wire.Inventory{Full: true, Sections: map[string]json.RawMessage{"os": json.RawMessage("\"deb\xffian\"")}}).
		fail(t, 400, "bad_request", "not valid UTF-8")
	var l api.List[store.Resource]
	h.call("GET", "/api/v1/resources?type=host", h.secret("acme/viewer"), nil).ok(t, 200, &l)
	for _, r := range l.Items {
		if strings.Contains(string(r.Config), "[[[") || !utf8.Valid(r.Config) {
			t.Errorf("the deep section was stored: %.80s", r.Config)
		}
	}
}

func TestFleetInventory(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.enroll(acme, "web-9", map[string]string{"role": "web"})
	viewer := h.secret("acme/viewer")
	sec := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

	a.call("PUT", wire.PathInventory, wire.Inventory{Sections: map[string]json.RawMessage{"os": sec("x")}}).fail(t, 409, "conflict", "full")
	a.call("PUT", wire.PathInventory, wire.Inventory{Full: true, Sections: map[string]json.RawMessage{"Bad Name": sec(1)}}).fail(t, 400, "bad_request")
	a.call("PUT", wire.PathInventory, wire.Inventory{Full: true, Sections: map[string]json.RawMessage{
		"os": sec(map[string]string{"id": "debian"}), "packages": sec([]string{"bash"}), "kernel": sec("6.1")}}).ok(t, http.StatusNoContent, nil)
	a.call("PUT", wire.PathInventory, wire.Inventory{Sections: map[string]json.RawMessage{"packages": sec([]string{"bash", "curl"})}, Removed: []string{"kernel"}}).ok(t, http.StatusNoContent, nil)

	var l api.List[store.Resource]
	h.call("GET", "/api/v1/resources?type=host", viewer, nil).ok(t, 200, &l)
	if len(l.Items) != 1 {
		t.Fatalf("resources = %+v", l.Items)
	}
	var cfg map[string]any
	if err := json.Unmarshal(l.Items[0].Config, &cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg["kernel"]; ok || len(cfg["packages"].([]any)) != 2 || cfg["os"].(map[string]any)["id"] != "debian" {
		t.Errorf("config = %v", cfg)
	}
	if l.Items[0].Tags["role"] != "web" || l.Items[0].Tags["agent"] != a.AgentID || l.Items[0].Name != "web-9" {
		t.Errorf("resource = %+v", l.Items[0])
	}
	h.call("GET", "/api/v1/resources?type=vm", viewer, nil).ok(t, 200, &l)
	if len(l.Items) != 0 {
		t.Errorf("type filter: %+v", l.Items)
	}
	// No binaries directory: nothing to download.
	a.call("GET", wire.PathBinary+"?os=linux&arch=amd64", nil).fail(t, 404, "not_found")
}

// fleetCanaries are one tenant's fleet records that isolation cases aim at.
type fleetCanaries struct {
	agent    fakeAgent
	command  string
	tokenID  string
	resource string
}

var (
	fleetSeedMu sync.Mutex
	fleetSeeds  = map[*harness]map[string]fleetCanaries{}
)

// fleetCanary seeds (once per harness and tenant) an agent on host
// "canary-host-<tenant>" with inventory and a queued command. It writes to
// the store directly, leaving the audit chain alone: the isolation test
// compares the other tenant's chain before and after.
func fleetCanary(t *testing.T, h *harness, tenant string) fleetCanaries {
	t.Helper()
	fleetSeedMu.Lock()
	defer fleetSeedMu.Unlock()
	if c, ok := fleetSeeds[h][tenant]; ok {
		return c
	}
	ctx := context.Background()
	secret := wire.AgentSecretPrefix + "canary-" + tenant
	ag := store.Agent{ID: "agt_canary" + tenant, TenantID: tenant, Hostname: "canary-host-" + tenant, Version: "v1",
		Tags: map[string]string{"canary": "canary-tag-" + tenant}, ResourceID: "res_canary" + tenant, EnrolledAt: epoch}
	c := fleetCanaries{agent: fakeAgent{EnrollResponse: wire.EnrollResponse{AgentID: ag.ID, Secret: secret, TenantID: tenant, ResourceID: ag.ResourceID}, h: h},
		command: "cmd_canary" + tenant, tokenID: "etk_canary" + tenant, resource: ag.ResourceID}
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateEnrollToken(ctx, store.EnrollToken{ID: c.tokenID, TenantID: tenant, Prefix: "fwe_canary",
			Tags: map[string]string{"canary": "canary-tag-" + tenant}, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour)}, "hash-"+c.tokenID); err != nil {
			return err
		}
		if err := tx.CreateAgent(ctx, ag, auth.HashSecret(secret)); err != nil {
			return err
		}
		if err := tx.PutResource(ctx, store.Resource{ID: ag.ResourceID, TenantID: tenant, Type: "host", Name: ag.Hostname, Tags: ag.Tags,
			Config: json.RawMessage(`{"os":"canary-os-` + tenant + `"}`), AgentID: ag.ID, CreatedAt: epoch, UpdatedAt: epoch}); err != nil {
			return err
		}
		if err := tx.PutUnmanagedHost(ctx, store.UnmanagedHost{TenantID: tenant, Host: "canary-host-" + tenant + "-unmanaged", Kind: "hostname",
			Source: "event canary", FirstSeen: epoch, LastSeen: epoch}); err != nil {
			return err
		}
		return tx.CreateAgentCommand(ctx, store.AgentCommand{ID: c.command, TenantID: tenant, AgentID: ag.ID,
			Spec: store.CommandSpec{Argv: []string{"echo", "canary-cmd-" + tenant}, Timeout: time.Minute}, Status: store.CommandQueued,
			CreatedAt: epoch, Deadline: epoch.Add(time.Hour)})
	})
	if err != nil {
		t.Fatalf("seed fleet canaries of %s: %v", tenant, err)
	}
	if fleetSeeds[h] == nil {
		fleetSeeds[h] = map[string]fleetCanaries{}
	}
	fleetSeeds[h][tenant] = c
	return c
}

// fleetState renders what of tenant's fleet a request could change.
func fleetState(t *testing.T, h *harness, tenant string) string {
	t.Helper()
	ctx := context.Background()
	agents, _, err := h.st.ListAgents(ctx, tenant, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	cmds, _, err := h.st.ListAgentCommands(ctx, tenant, store.AgentCommandFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	toks, _, err := h.st.ListEnrollTokens(ctx, tenant, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := h.st.ListResources(ctx, tenant, store.ResourceFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(t, map[string]any{"agents": agents, "commands": cmds, "tokens": toks, "resources": res})
}

// fleetLeaks fails when body shows any of other's fleet canaries.
func fleetLeaks(t *testing.T, r reply, other string) {
	t.Helper()
	for _, c := range []string{"canary-host-" + other, "canary-tag-" + other, "canary-os-" + other, "canary-cmd-" + other} {
		if strings.Contains(string(r.Body), c) {
			t.Errorf("%s leaks %q", r, c)
		}
	}
}

func init() {
	// Lists show only self's records, for every role; naming the other
	// tenant is refused.
	listCase := func(path string, minRole store.Role) isoCase {
		return isoCase{check: func(t *testing.T, h *harness, self, other string) {
			fleetCanary(t, h, self)
			fleetCanary(t, h, other)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				r := h.call("GET", path+"?limit=500", sec, nil)
				if role.Rank() < minRole.Rank() {
					r.fail(t, 403, "forbidden")
					continue
				}
				var l api.List[map[string]any]
				r.ok(t, 200, &l)
				if len(l.Items) == 0 {
					t.Errorf("%s: %s sees none of its own", path, self)
				}
				for _, it := range l.Items {
					if it["tenant"] != self {
						t.Errorf("%s %s lists %v", self, role, it)
					}
				}
				fleetLeaks(t, r, other)
				h.call("GET", path+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			}
		}}
	}
	// A read of one of other's records by ID is a 404 that says nothing.
	getCase := func(pattern string, id func(fleetCanaries) string) isoCase {
		return isoCase{check: func(t *testing.T, h *harness, self, other string) {
			theirs := fleetCanary(t, h, other)
			fleetCanary(t, h, self)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				r := h.call("GET", concretePath(pattern, id(theirs)), sec, nil)
				r.fail(t, 404, "not_found")
				fleetLeaks(t, r, other)
				h.call("GET", concretePath(pattern, id(theirs))+"?tenant="+other, sec, nil).fail(t, 403, "forbidden")
			}
		}}
	}
	// A change aimed at other's record fails and changes nothing.
	mutateCase := func(method, pattern string, body any, id func(fleetCanaries) string) isoCase {
		return isoCase{body: body, check: func(t *testing.T, h *harness, self, other string) {
			theirs := fleetCanary(t, h, other)
			fleetCanary(t, h, self)
			before := fleetState(t, h, other)
			for _, role := range roles {
				sec := h.secret(self + "/" + string(role))
				path := pattern
				if id != nil {
					path = concretePath(pattern, id(theirs))
				}
				r := h.call(method, path+"?tenant="+other, sec, body)
				if r.Status != 403 {
					t.Errorf("%s naming %s: %v", self, other, r)
				}
				if id != nil {
					r := h.call(method, path, sec, body)
					if r.Status != 404 && r.Status != 403 {
						t.Errorf("%s %s on %s's record: %v", self, role, other, r)
					}
					fleetLeaks(t, r, other)
				}
			}
			if after := fleetState(t, h, other); after != before {
				t.Errorf("%s's fleet changed:\nbefore %s\nafter  %s", other, before, after)
			}
		}}
	}
	agentID := func(c fleetCanaries) string { return c.agent.AgentID }
	commandID := func(c fleetCanaries) string { return c.command }
	resourceID := func(c fleetCanaries) string { return c.resource }

	isolationCases["POST /api/v1/enrollment-tokens"] = mutateCase("POST", "/api/v1/enrollment-tokens", api.EnrollTokenInput{ExpiresIn: "1h"}, nil)
	isolationCases["GET /api/v1/enrollment-tokens"] = listCase("/api/v1/enrollment-tokens", store.RoleAdmin)
	isolationCases["GET /api/v1/agents"] = listCase("/api/v1/agents", store.RoleViewer)
	isolationCases["GET /api/v1/agents/{id}"] = getCase("/api/v1/agents/{id}", agentID)
	isolationCases["DELETE /api/v1/agents/{id}"] = mutateCase("DELETE", "/api/v1/agents/{id}", nil, agentID)
	isolationCases["POST /api/v1/agents/{id}/commands"] = mutateCase("POST", "/api/v1/agents/{id}/commands", api.CommandInput{Argv: []string{"true"}}, agentID)
	isolationCases["GET /api/v1/commands"] = listCase("/api/v1/commands", store.RoleViewer)
	isolationCases["GET /api/v1/commands/{id}"] = getCase("/api/v1/commands/{id}", commandID)
	isolationCases["DELETE /api/v1/commands/{id}"] = mutateCase("DELETE", "/api/v1/commands/{id}", nil, commandID)
	isolationCases["GET /api/v1/resources"] = listCase("/api/v1/resources", store.RoleViewer)
	isolationCases["GET /api/v1/resources/{id}"] = getCase("/api/v1/resources/{id}", resourceID)
	isolationCases["GET /api/v1/fleet/unmanaged"] = listCase("/api/v1/fleet/unmanaged", store.RoleViewer)
}

// TestFleetAgentCannotReachOtherTenant proves an agent's credential acts
// only on its own tenant's commands.
func TestFleetAgentCannotReachOtherTenant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mine := fleetCanary(t, h, acme)
	theirs := fleetCanary(t, h, globex)
	var p wire.Poll
	mine.agent.call("GET", wire.PathCommands+"?wait=100ms&slots=5", nil).ok(t, 200, &p)
	if len(p.Commands) != 1 || p.Commands[0].ID != mine.command {
		t.Errorf("poll = %+v", p)
	}
	mine.agent.call("POST", wire.CommandOutputPath(theirs.command), wire.Output{Data: "planted"}).fail(t, 404, "not_found")
	zero := 0
	mine.agent.call("POST", wire.CommandResultPath(theirs.command), wire.Result{Status: "succeeded", ExitCode: &zero}).fail(t, 404, "not_found")
	c, err := h.st.GetAgentCommand(context.Background(), globex, theirs.command)
	if err != nil || c.Status != store.CommandQueued || c.Output != "" {
		t.Errorf("globex's command = %+v, %v", c, err)
	}
}

// hostOperator creates an operator token of tenant granted host-commands
// and returns its secret.
func (h *harness) hostOperator(tenant string) string {
	h.t.Helper()
	var tok api.CreatedToken
	h.call("POST", "/api/v1/tokens", h.secret(tenant+"/admin"), api.TokenInput{Name: "runner", Role: store.RoleOperator,
		Allow: []store.Permission{store.PermHostCommands}}).ok(h.t, http.StatusCreated, &tok)
	if len(tok.Permissions) != 1 || tok.Permissions[0] != store.PermHostCommands {
		h.t.Fatalf("created token %+v", tok.Token)
	}
	return tok.Secret
}

// TestHostCommandsPermission: running a command on a host needs the
// host-commands permission (admins hold it, an operator when granted), and
// running it as another user than the agent's own needs admin.
func TestHostCommandsPermission(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.enroll(acme, "db-1", nil)
	path := "/api/v1/agents/" + a.AgentID + "/commands"
	cmd := api.CommandInput{Argv: []string{"uptime"}}
	h.call("POST", path, h.secret("acme/operator"), cmd).fail(t, 403, "forbidden", "needs the host-commands permission", "--allow host-commands")
	granted := h.hostOperator(acme)
	h.call("POST", path, granted, cmd).ok(t, http.StatusCreated, nil)
	h.call("POST", path, h.secret("acme/admin"), cmd).ok(t, http.StatusCreated, nil)
	asRoot := api.CommandInput{Argv: []string{"uptime"}, User: "root"}
	h.call("POST", path, granted, asRoot).fail(t, 403, "forbidden", `running as user "root"`, "needs the admin role")
	var c api.CommandView
	h.call("POST", path, h.secret("acme/admin"), asRoot).ok(t, http.StatusCreated, &c)
	if c.Spec.User != "root" {
		t.Errorf("admin's command runs as %q", c.Spec.User)
	}
	// Grants are checked: only known permissions, only for operators and admins.
	admin := h.secret("acme/admin")
	h.call("POST", "/api/v1/tokens", admin, api.TokenInput{Name: "x", Role: store.RoleOperator, Allow: []store.Permission{"root"}}).
		fail(t, 400, "bad_request", `allow: "root" is not one of [host-commands]`)
	h.call("POST", "/api/v1/tokens", admin, api.TokenInput{Name: "x", Role: store.RoleViewer, Allow: []store.Permission{store.PermHostCommands}}).
		fail(t, 400, "bad_request", "needs the operator or admin role")
	// The refusals are audited.
	denied := 0
	for _, rec := range h.auditOf(acme) {
		if strings.HasPrefix(rec.Result, "denied") && rec.Target == path {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("%d denied audit records for %s, want 2", denied, path)
	}
}
