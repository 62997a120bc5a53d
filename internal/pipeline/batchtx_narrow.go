package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// passThrough are the store concepts whose tables batchTx holds nothing
// of: their methods go to the store's transaction unchanged. Alerts,
// OpsItems, events, audit and the stats over them are not here: batchTx
// implements those interfaces itself (batchtx.go and below).
type passThrough interface {
	store.TenantReader
	store.TenantWriter
	store.TokenReader
	store.TokenWriter
	store.IntakeReader
	store.IntakeWriter
	store.DeflectionReader
	store.DeflectionWriter
	store.ExecutionReader
	store.ExecutionWriter
	store.FleetReader
	store.FleetWriter
	store.RuleReader
	store.RuleWriter
	store.WindowRunReader
	store.WindowRunWriter
	store.SessionReader
	store.SessionWriter
	store.PatchReader
	store.PatchWriter
	store.BackupReader
	store.BackupWriter
	store.RetentionWriter
	store.AWSAccountReader
	store.AWSAccountWriter
	store.PrometheusReader
	store.PrometheusWriter
	store.OnCallReader
	store.OnCallWriter
	store.ComplianceReader
	store.ComplianceWriter
	store.CostReader
	store.CostWriter
	store.ContentReader
	store.ContentWriter
	Raw() any
}

// The interfaces batchTx implements itself, and the whole transaction it is.
var (
	_ store.AlertReader   = (*batchTx)(nil)
	_ store.AlertWriter   = (*batchTx)(nil)
	_ store.OpsItemReader = (*batchTx)(nil)
	_ store.OpsItemWriter = (*batchTx)(nil)
	_ store.EventReader   = (*batchTx)(nil)
	_ store.EventWriter   = (*batchTx)(nil)
	_ store.AuditReader   = (*batchTx)(nil)
	_ store.AuditWriter   = (*batchTx)(nil)
	_ store.StatsReader   = (*batchTx)(nil)
	_ store.Tx            = (*batchTx)(nil)
)

// Reads batchTx keeps nothing for: what is stored is current once
// everything pending is.

func (b *batchTx) InhibitKeys(ctx context.Context, tenant string, fn func(key string) error) error {
	if err := b.flush(ctx); err != nil {
		return err
	}
	return b.tx.InhibitKeys(ctx, tenant, fn)
}

func (b *batchTx) OpsItemGroups(ctx context.Context, tenant string, fn func(rule, key string) error) error {
	if err := b.flush(ctx); err != nil {
		return err
	}
	return b.tx.OpsItemGroups(ctx, tenant, fn)
}

func (b *batchTx) GetEvent(ctx context.Context, tenant, id string) (store.Event, error) {
	if err := b.flushEvents(ctx); err != nil {
		return store.Event{}, err
	}
	return b.tx.GetEvent(ctx, tenant, id)
}

// NoiseTotals reads counters batchTx never holds.
func (b *batchTx) NoiseTotals(ctx context.Context, tenant string, from, to time.Time) (store.NoiseBucket, error) {
	return b.tx.NoiseTotals(ctx, tenant, from, to)
}

func (b *batchTx) NoiseSeries(ctx context.Context, tenant string, from, to time.Time, step time.Duration) ([]store.NoiseBucket, error) {
	return b.tx.NoiseSeries(ctx, tenant, from, to, step)
}

func (b *batchTx) ScanOpsItemsActive(ctx context.Context, tenant string, from, to time.Time, fn func(store.OpsItem) error) error {
	if err := b.flush(ctx); err != nil {
		return err
	}
	return b.tx.ScanOpsItemsActive(ctx, tenant, from, to, fn)
}

func (b *batchTx) ListOpsItemRunbooks(ctx context.Context, tenant string, from, to time.Time) ([]store.OpsItemRunbook, error) {
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	return b.tx.ListOpsItemRunbooks(ctx, tenant, from, to)
}

func (b *batchTx) ListOpsItemResourceTypes(ctx context.Context, tenant string, from, to time.Time) (map[string][]string, error) {
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	return b.tx.ListOpsItemResourceTypes(ctx, tenant, from, to)
}

// Writes batchTx holds nothing of, stored after what is pending.

func (b *batchTx) DeleteOpsItemMember(ctx context.Context, tenant, id, fp string) error {
	if err := b.flush(ctx); err != nil {
		return err
	}
	return b.tx.DeleteOpsItemMember(ctx, tenant, id, fp)
}

func (b *batchTx) InsertEvents(ctx context.Context, es []store.Event) error {
	for _, e := range es {
		if err := b.InsertEvent(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// AddNoise adds to counters batchTx never holds.
func (b *batchTx) AddNoise(ctx context.Context, n store.NoiseBucket) error {
	return b.tx.AddNoise(ctx, n)
}

func (b *batchTx) PruneAuditCheckpoints(ctx context.Context, before time.Time) (int64, error) {
	if err := b.flushAudit(ctx); err != nil {
		return 0, err
	}
	return b.tx.PruneAuditCheckpoints(ctx, before)
}

// Writes that would go around what batchTx holds — the alert state it
// caches (shared across transactions), the OpsItem groups it knows and the
// audit chain it links — are refused rather than let them make it stale:
// processing writes through PutAlert, CreateOpsItem, AppendAudit and the
// like, which batchTx stores with these at flush.

// errAround is the error of a write that would go around batchTx.
func errAround(method string) error {
	return fmt.Errorf("pipeline: %s inside processing would go around the transaction's pending state; use the single-row method", method)
}

func (b *batchTx) PutAlertCounts(context.Context, []store.AlertCounts) error {
	return errAround("PutAlertCounts")
}
func (b *batchTx) PutAlerts(context.Context, []store.Alert) error { return errAround("PutAlerts") }
func (b *batchTx) CreateOpsItems(context.Context, []store.OpsItem) error {
	return errAround("CreateOpsItems")
}
func (b *batchTx) PutOpsItemMembers(context.Context, []store.OpsItemMember) error {
	return errAround("PutOpsItemMembers")
}
func (b *batchTx) AddOpsItemResources(context.Context, []store.OpsItemResourceLink) error {
	return errAround("AddOpsItemResources")
}
func (b *batchTx) AddTimelines(context.Context, []store.TimelineEntry) error {
	return errAround("AddTimelines")
}
func (b *batchTx) SetInhibitKeysMany(context.Context, []store.InhibitKeys) error {
	return errAround("SetInhibitKeysMany")
}
func (b *batchTx) TakeAuditHead(context.Context, string) (int64, string, error) {
	return 0, "", errAround("TakeAuditHead")
}
func (b *batchTx) InsertAuditRecords(context.Context, []store.AuditRecord) error {
	return errAround("InsertAuditRecords")
}
func (b *batchTx) SetAuditHead(context.Context, string, int64, string) error {
	return errAround("SetAuditHead")
}
