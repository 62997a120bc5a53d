package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestMutationsAreAudited: each mutating call writes exactly one audit
// record, to the chain of the tenant it changed, naming the token, the
// action and the target; failed calls write none; the chains verify.
func TestMutationsAreAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	op, admin, pa := h.cred("acme/operator"), h.cred("acme/admin"), h.cred(platform)
	chains := []string{acme, globex, platform, "initech"}
	counts := func() map[string]int {
		m := map[string]int{}
		for _, c := range chains {
			m[c] = len(h.auditOf(c))
		}
		return m
	}
	// expect runs do, which must change tenant, and checks it appended
	// exactly one record there and none anywhere else.
	expect := func(name, tenant string, c cred, action string, do func() (target string), detail func(t *testing.T, d map[string]any)) {
		t.Run(name, func(t *testing.T) {
			h.clock.Advance(time.Minute)
			before := counts()
			target := do()
			after := counts()
			for _, ch := range chains {
				want := before[ch]
				if ch == tenant {
					want++
				}
				if after[ch] != want {
					t.Errorf("%s chain: %d new records, want %d", ch, after[ch]-before[ch], want-before[ch])
				}
			}
			recs := h.auditOf(tenant)
			if len(recs) == 0 {
				t.Fatal("no record")
			}
			rec := recs[len(recs)-1]
			if rec.Actor != "token:"+c.ID || rec.Action != action || rec.Target != target || rec.Result != "ok" ||
				rec.TenantID != tenant || !rec.Time.Equal(h.clock.Now()) || rec.Seq != int64(len(recs)) {
				t.Errorf("record %+v; want actor token:%s, action %s, target %s, result ok, time %v", rec, c.ID, action, target, h.clock.Now())
			}
			if detail != nil {
				var d map[string]any
				if err := json.Unmarshal(rec.Detail, &d); err != nil {
					t.Fatalf("detail %s: %v", rec.Detail, err)
				}
				detail(t, d)
			}
		})
	}
	wantDetail := func(kv ...any) func(t *testing.T, d map[string]any) {
		return func(t *testing.T, d map[string]any) {
			for i := 0; i+1 < len(kv); i += 2 {
				if d[kv[i].(string)] != kv[i+1] {
					t.Errorf("detail %v: %s = %v, want %v", d, kv[i], d[kv[i].(string)], kv[i+1])
				}
			}
		}
	}

	var item store.OpsItem
	expect("create opsitem", acme, op, "opsitem.create", func() string {
		item = h.createOpsItem(op.Secret, api.OpsItemInput{Title: "disk full", Severity: "high"})
		return "opsitem/" + item.ID
	}, wantDetail("title", "disk full"))
	expect("patch opsitem", acme, op, "opsitem.update", func() string {
		h.call("PATCH", "/api/v1/opsitems/"+item.ID, op.Secret, api.OpsItemPatch{Status: ptr("in-progress"), Severity: ptr("critical")}).ok(t, 200, nil)
		return "opsitem/" + item.ID
	}, wantDetail("status", "in-progress", "severity", "critical"))
	var created api.CreatedToken
	expect("create token", acme, admin, "token.create", func() string {
		h.call("POST", "/api/v1/tokens", admin.Secret, api.TokenInput{Name: "ci", Role: store.RoleOperator}).ok(t, 201, &created)
		return "token/" + created.ID
	}, wantDetail("name", "ci", "role", "operator", "platform_admin", false))
	expect("revoke token", acme, admin, "token.revoke", func() string {
		h.call("DELETE", "/api/v1/tokens/"+created.ID, admin.Secret, nil).ok(t, http.StatusNoContent, nil)
		return "token/" + created.ID
	}, nil)
	expect("create tenant", "initech", pa, "tenant.create", func() string {
		h.call("POST", "/api/v1/tenants", pa.Secret, api.TenantInput{ID: "initech", Name: "Initech"}).ok(t, 201, nil)
		return "tenant/initech"
	}, wantDetail("name", "Initech"))
	// A platform admin's change lands in the chain of the tenant it changed.
	var gx store.OpsItem
	expect("platform admin creates opsitem in globex", globex, pa, "opsitem.create", func() string {
		h.call("POST", "/api/v1/opsitems?tenant=globex", pa.Secret, api.OpsItemInput{Title: "from the NOC"}).ok(t, 201, &gx)
		return "opsitem/" + gx.ID
	}, nil)
	var gtok api.CreatedToken
	expect("platform admin creates token in globex", globex, pa, "token.create", func() string {
		h.call("POST", "/api/v1/tokens?tenant=globex", pa.Secret, api.TokenInput{Name: "noc", Role: store.RoleAdmin, PlatformAdmin: true}).ok(t, 201, &gtok)
		return "token/" + gtok.ID
	}, wantDetail("platform_admin", true))
	if gx.TenantID != globex || gtok.TenantID != globex {
		t.Errorf("platform admin's ?tenant=globex writes landed in %q / %q", gx.TenantID, gtok.TenantID)
	}

	// The revoked token is dead.
	h.call("GET", "/api/v1/opsitems", created.Secret, nil).fail(t, http.StatusUnauthorized, "unauthenticated", "revoked")

	// Calls that fail write nothing.
	before := counts()
	h.call("PATCH", "/api/v1/opsitems/oi_nope", op.Secret, api.OpsItemPatch{Status: ptr("resolved")}).fail(t, 404, "not_found")
	h.call("PATCH", "/api/v1/opsitems/"+item.ID, op.Secret, api.OpsItemPatch{Status: ptr("done")}).fail(t, 400, "bad_request")
	h.call("POST", "/api/v1/opsitems", op.Secret, api.OpsItemInput{}).fail(t, 400, "bad_request")
	h.call("DELETE", "/api/v1/tokens/"+created.ID, admin.Secret, nil).fail(t, 404, "not_found", "already revoked")
	h.call("POST", "/api/v1/tenants", pa.Secret, api.TenantInput{ID: "initech"}).fail(t, 409, "conflict")
	h.call("GET", "/api/v1/opsitems/"+item.ID, op.Secret, nil).ok(t, 200, nil)
	if after := counts(); mustJSON(t, after) != mustJSON(t, before) {
		t.Errorf("failed calls and reads wrote audit records: %v → %v", before, after)
	}

	// Every chain verifies, directly and through the API.
	reps, err := audit.VerifyAll(context.Background(), h.st)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) < 3 {
		t.Errorf("VerifyAll checked %d chains, want acme, globex and initech", len(reps))
	}
	for _, rep := range reps {
		if !rep.OK() || rep.Records == 0 {
			t.Errorf("chain %s: %+v", rep.Tenant, rep)
		}
	}
	var rep audit.Report
	h.call("GET", "/api/v1/audit/verify", admin.Secret, nil).ok(t, 200, &rep)
	if !rep.OK() || rep.Tenant != acme || rep.Records != int64(len(h.auditOf(acme))) {
		t.Errorf("API verify: %+v", rep)
	}

	// The audit list through the API is the chain, newest first.
	var l api.List[store.AuditRecord]
	h.call("GET", "/api/v1/audit", admin.Secret, nil).ok(t, 200, &l)
	chain := h.auditOf(acme)
	if len(l.Items) != len(chain) {
		t.Fatalf("API lists %d records, chain has %d", len(l.Items), len(chain))
	}
	for i, rec := range l.Items {
		if want := chain[len(chain)-1-i]; rec.Seq != want.Seq || rec.Hash != want.Hash {
			t.Errorf("API record %d: seq %d hash %s, want seq %d hash %s", i, rec.Seq, rec.Hash, want.Seq, want.Hash)
		}
	}
}

// TestSecretsNeverLeak: no token secret, nor its stored hash, appears in
// any audit record or in any token listing.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	secrets := map[string]string{}
	for key, c := range h.creds {
		secrets[key] = c.Secret
	}
	for _, tenant := range []string{"", "?tenant=globex"} {
		for _, in := range []api.TokenInput{
			{Name: "ci", Role: store.RoleViewer},
			{Name: "deploy", Role: store.RoleAdmin, ExpiresIn: "24h"},
		} {
			var c api.CreatedToken
			sec := h.secret("acme/admin")
			if tenant != "" {
				sec = h.secret(platform)
			}
			h.call("POST", "/api/v1/tokens"+tenant, sec, in).ok(t, 201, &c)
			if !strings.HasPrefix(c.Secret, auth.SecretPrefix) || c.Prefix != auth.Prefix(c.Secret) {
				t.Fatalf("created token %+v: secret shown once, prefix its start", c.Token)
			}
			secrets["created "+c.ID] = c.Secret
			h.call("DELETE", "/api/v1/tokens/"+c.ID+tenant, sec, nil).ok(t, 204, nil)
		}
	}
	// A denied attempt carrying a secret-looking body is audited too.
	h.call("POST", "/api/v1/tokens", h.secret("acme/viewer"), api.TokenInput{Name: h.secret("acme/admin"), Role: "admin"}).fail(t, 403, "forbidden")

	var haystacks []string
	for _, tenant := range []string{acme, globex, platform} {
		for _, path := range []string{"/api/v1/audit?limit=500&tenant=" + tenant, "/api/v1/tokens?limit=500&tenant=" + tenant} {
			r := h.call("GET", path, h.secret(platform), nil)
			r.ok(t, 200, nil)
			haystacks = append(haystacks, path+": "+string(r.Body))
		}
		b, _ := json.Marshal(h.auditOf(tenant))
		haystacks = append(haystacks, "store audit of "+tenant+": "+string(b))
	}
	for _, key := range []string{"acme/admin", "globex/admin"} {
		r := h.call("GET", "/api/v1/tokens", h.secret(key), nil)
		r.ok(t, 200, nil)
		haystacks = append(haystacks, key+" token list: "+string(r.Body))
	}
	if len(secrets) < 14 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	for key, secret := range secrets {
		for _, hay := range haystacks {
			where, _, _ := strings.Cut(hay, ": ")
			if strings.Contains(hay, secret) {
				t.Errorf("secret of %s appears in %s", key, where)
			}
			if strings.Contains(hay, auth.HashSecret(secret)) {
				t.Errorf("secret hash of %s appears in %s", key, where)
			}
			// Nor its secret part after the displayable prefix.
			if rest := secret[len(auth.Prefix(secret)):]; strings.Contains(hay, rest) {
				t.Errorf("the secret part of %s appears in %s", key, where)
			}
		}
	}
}
