package dedup

import (
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/event"
)

func load(t *testing.T, yaml string) (*Rules, error) {
	t.Helper()
	reg := content.NewRegistry()
	reg.Register(Kind())
	set, err := content.Load(reg, content.Source{Name: "test", FS: fstest.MapFS{"d.yaml": {Data: []byte(yaml)}}})
	if err != nil {
		return nil, err
	}
	return Compile(set.Items(KindName))
}

func TestIgnoreReplicaLabel(t *testing.T) {
	r, err := load(t, `apiVersion: flywheel/v1
kind: DedupRule
metadata: {name: ha-prometheus}
spec:
  sources: [alertmanager-v2]
  ignore_labels: [prometheus_replica]
`)
	if err != nil {
		t.Fatal(err)
	}
	a := event.Event{Source: "alertmanager-v2", Fingerprint: "x1", Labels: map[string]string{"alertname": "Up", "prometheus_replica": "a"}}
	b := event.Event{Source: "alertmanager-v2", Fingerprint: "x2", Labels: map[string]string{"alertname": "Up", "prometheus_replica": "b"}}
	other := event.Event{Source: "eventbridge", Fingerprint: "f", Labels: map[string]string{"alertname": "Up"}}
	if !r.Apply(&a) || !r.Apply(&b) || a.Fingerprint != b.Fingerprint {
		t.Errorf("replicas not merged: %s %s", a.Fingerprint, b.Fingerprint)
	}
	if r.Apply(&other) || other.Fingerprint != "f" {
		t.Error("rule applied to another source")
	}
}

func TestKeepLabels(t *testing.T) {
	r, err := load(t, `apiVersion: flywheel/v1
kind: DedupRule
metadata: {name: by-instance}
spec:
  sources: [generic]
  labels: [check_id]
`)
	if err != nil {
		t.Fatal(err)
	}
	a := event.Event{Source: "generic:uptime", Labels: map[string]string{"check_id": "c1", "probe": "fra"}}
	b := event.Event{Source: "generic:uptime", Labels: map[string]string{"check_id": "c1", "probe": "dub"}}
	r.Apply(&a)
	r.Apply(&b)
	if a.Fingerprint == "" || a.Fingerprint != b.Fingerprint {
		t.Errorf("probes not merged: %q %q", a.Fingerprint, b.Fingerprint)
	}
}

func TestValidation(t *testing.T) {
	for _, spec := range []string{"sources: [x]\n  labels: [a]\n  ignore_labels: [b]", "labels: [a]", "sources: [x]"} {
		_, err := load(t, "apiVersion: flywheel/v1\nkind: DedupRule\nmetadata: {name: bad}\nspec:\n  "+spec+"\n")
		if err == nil {
			t.Errorf("spec %q accepted", spec)
		}
	}
}

// A tenant's DedupRule (metadata.tenant, or a pack installed for it)
// applies to its events only: it comes before the shared rules for its
// source and takes the place of a shared one of its name; other tenants
// keep the shared rules.
func TestTenantRules(t *testing.T) {
	r, err := load(t, `apiVersion: flywheel/v1
kind: DedupRule
metadata: {name: by-check}
spec: {sources: [generic], labels: [check_id]}
---
apiVersion: flywheel/v1
kind: DedupRule
metadata: {name: zz-by-probe, tenant: acme}
spec: {sources: [generic], labels: [probe]}
---
apiVersion: flywheel/v1
kind: DedupRule
metadata: {name: by-check, tenant: globex}
spec: {sources: [generic], labels: [region]}
`)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"check_id": "c1", "probe": "fra", "region": "eu"}
	fp := func(rs *Rules) string {
		e := event.Event{Source: "generic:uptime", Fingerprint: "orig", Labels: labels}
		rs.Apply(&e)
		return e.Fingerprint
	}
	want := map[string]string{
		"":        event.FingerprintOf("generic:uptime", map[string]string{"check_id": "c1"}),
		"initech": event.FingerprintOf("generic:uptime", map[string]string{"check_id": "c1"}),
		"acme":    event.FingerprintOf("generic:uptime", map[string]string{"probe": "fra"}),
		"globex":  event.FingerprintOf("generic:uptime", map[string]string{"region": "eu"}),
	}
	for tenant, w := range want {
		if got := fp(r.ForTenant(tenant)); got != w {
			t.Errorf("tenant %q: fingerprint %s, want %s", tenant, got, w)
		}
	}
}
