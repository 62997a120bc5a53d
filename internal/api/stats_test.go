package api_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/stats"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func TestFlywheelStats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, now := context.Background(), h.clock.Now()
	// acme: an OpsItem resolved by automation an hour ago, one resolved by
	// hand after 20 minutes in hand, and 40 events; globex: 9 events.
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		for i, o := range []store.OpsItem{
			{Title: "Disk almost full on web-01", ResolvedBy: "automation:rule:disk-cleanup"},
			{Title: "Disk almost full on web-02", ResolvedBy: "token:tok_x", HumanSeconds: 1200},
		} {
			created, resolved := now.Add(-2*time.Hour), now.Add(-time.Hour+time.Duration(i)*time.Minute)
			o.ID, o.TenantID, o.Category, o.Severity, o.Status, o.Source = store.NewID("oi", created.Add(time.Duration(i))), acme, "monitoring", "high", "resolved", "api"
			o.CreatedAt, o.UpdatedAt, o.ResolvedAt = created, resolved, &resolved
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			if i == 0 { // the rule's verified run
				if err := tx.CreateExecution(ctx, store.Execution{ID: "ex_stats", TenantID: acme, Runbook: "check-host", Status: "succeeded",
					OpsItemID: o.ID, Rule: "disk-cleanup", StartedBy: "rule:disk-cleanup", CreatedAt: created, UpdatedAt: resolved}); err != nil {
					return err
				}
			}
		}
		for tenant, n := range map[string]int64{acme: 40, globex: 9} {
			if err := tx.AddNoise(ctx, store.NoiseBucket{TenantID: tenant, Minute: now.Add(-90 * time.Minute).Truncate(time.Minute), Received: n, Opened: 2}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var got api.FlywheelStats
	h.call("GET", "/api/v1/stats/flywheel", h.secret(acme+"/viewer"), nil).ok(t, 200, &got)
	to := now.Truncate(time.Minute).Add(time.Minute)
	if !got.To.Equal(to) || !got.From.Equal(to.Add(-7*24*time.Hour)) || got.StepSeconds != 6*3600 || len(got.Series) != 28 {
		t.Errorf("default period %s – %s, step %d s, %d points; want the 7 days to %s in 6 h steps", got.From, got.To, got.StepSeconds, len(got.Series), to)
	}
	if got.Received != 40 || got.Resolved != 2 || got.ResolvedByAutomation != 1 || got.AutomationShare != 0.5 ||
		got.HumanMinutes != 20 || got.HumanHoursSaved != 20.0/60 || got.CreditedFromHistory != 1 || got.VerifiedRuns != 1 || got.CreditWithheld != 0 {
		t.Errorf("acme figures: %+v", got.Flywheel.Outcomes)
	}
	// The handler answers what stats.Compute computes.
	want, err := stats.Compute(ctx, h.st, acme, got.From, got.To, h.srv.Estimator(), h.srv.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(roundTrip(t, want), roundTrip(t, got.Flywheel)) {
		t.Errorf("API figures differ from stats.Compute:\n%+v\n%+v", got.Flywheel, want)
	}

	// A chosen period; the platform admin's per-tenant figures.
	q := "?from=" + now.Add(-3*time.Hour).Format(time.RFC3339) + "&to=" + now.Format(time.RFC3339)
	var admin api.FlywheelStats
	h.call("GET", "/api/v1/stats/flywheel"+q+"&tenant="+acme+"&per_tenant=true", h.secret(platform), nil).ok(t, 200, &admin)
	if admin.Tenant != acme || admin.StepSeconds != 300 || admin.Received != 40 || len(admin.Tenants) != 3 {
		t.Fatalf("admin: tenant %s, step %d, received %d, %d tenants", admin.Tenant, admin.StepSeconds, admin.Received, len(admin.Tenants))
	}
	recv := map[string]int64{}
	for _, tf := range admin.Tenants {
		recv[tf.Tenant] = tf.Received
	}
	if recv[acme] != 40 || recv[globex] != 9 || recv[platform] != 0 {
		t.Errorf("per tenant received: %v", recv)
	}

	for _, bad := range []struct{ q, msg string }{
		{"?from=yesterday", "from: invalid RFC 3339"},
		{"?from=" + now.Format(time.RFC3339) + "&to=" + now.Format(time.RFC3339), "must be before"},
		{"?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "at most 400 days"},
		{"?per_tenant=yes", "per_tenant"},
	} {
		h.call("GET", "/api/v1/stats/flywheel"+bad.q, h.secret(acme+"/viewer"), nil).fail(t, 400, "bad_request", bad.msg)
	}
}

// roundTrip is v as the API would encode it (times in UTC, no monotonic
// clock), decoded again.
func roundTrip(t *testing.T, v stats.Flywheel) stats.Flywheel {
	t.Helper()
	var out stats.Flywheel
	if err := json.Unmarshal([]byte(mustJSON(t, v)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}
