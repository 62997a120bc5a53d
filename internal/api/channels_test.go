package api_test

import (
	"context"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// recordDelivery writes a delivery record as the notification service
// does (notification.delivered or .failed, the channel in the detail).
func recordDelivery(t *testing.T, h *harness, tenant, action, channel string) {
	t.Helper()
	ctx := context.Background()
	if err := h.st.InTx(ctx, func(tx store.Tx) error {
		_, err := audit.Append(ctx, tx, tenant, h.clock.Now(), audit.Entry{Actor: "system:notification", Action: action,
			Target: "opsitem/oi_x", Result: "ok", Detail: map[string]any{"channel": channel, "rule": "r", "attempts": 1}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func init() {
	// The sweep must not change the other tenant's audit chain, so the
	// other tenant's deliveries are in TestChannels; here each role of
	// self sees its own counts only and cannot ask for other's.
	isolationCases["GET /api/v1/channels"] = isoCase{check: func(t *testing.T, h *harness, self, other string) {
		for _, role := range roles {
			sec := h.secret(self + "/" + string(role))
			var l api.List[api.ChannelStatus]
			h.call("GET", "/api/v1/channels", sec, nil).ok(t, 200, &l)
			for _, c := range l.Items {
				if c.Name == "ops-slack" && c.Delivered != delivered(t, h, self) {
					t.Errorf("%s %s sees deliveries not its own: %+v", self, role, c)
				}
			}
			h.call("GET", "/api/v1/channels?tenant="+other, sec, nil).fail(t, 403, "forbidden")
		}
	}}
}

// delivered counts tenant's own delivery records.
func delivered(t *testing.T, h *harness, tenant string) int {
	t.Helper()
	recs, _, err := h.st.SearchAudit(context.Background(), tenant, store.AuditFilter{Action: "notification.delivered"}, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// TestChannels: the configured channel with its deliveries and failures,
// a channel only records name listed as not configured; another
// tenant's deliveries and channels stay out.
func TestChannels(t *testing.T) {
	h := newHarness(t)
	tenant := customers[0]
	recordDelivery(t, h, customers[1], "notification.delivered", "ops-slack")
	recordDelivery(t, h, customers[1], "notification.failed", "secret-"+customers[1])
	recordDelivery(t, h, tenant, "notification.delivered", "ops-slack")
	recordDelivery(t, h, tenant, "notification.failed", "ops-slack")
	recordDelivery(t, h, tenant, "notification.failed", "security")
	var l api.List[api.ChannelStatus]
	h.call("GET", "/api/v1/channels", h.secret(tenant+"/viewer"), nil).ok(t, 200, &l)
	if len(l.Items) != 2 {
		t.Fatalf("channels %+v", l.Items)
	}
	if c := l.Items[0]; c.Name != "ops-slack" || c.Type != "slack" || c.Delivered != 1 || c.Failed != 1 || c.LastDelivered == nil {
		t.Errorf("ops-slack = %+v", c)
	}
	if c := l.Items[1]; c.Name != "security" || c.Status != "not configured" || c.Failed != 1 {
		t.Errorf("security = %+v", c)
	}
	h.call("GET", "/api/v1/channels", "", nil).fail(t, 401, "unauthenticated")
}
