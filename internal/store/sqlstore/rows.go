package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// The pipeline's batched writes (store.RowsWriter): a processing transaction
// of many new alerts stores their alert states, OpsItems, members,
// resources and timeline entries a few statements per table instead of one
// per row — each statement costs far more than a row on the intake path.

// execRows runs head + VALUES rows + tail over n rows of width columns, one
// statement per size class of rows (at most maxRows, itself a size class),
// row appending the i'th row's values.
func (t *tx) execRows(ctx context.Context, key, head, tail string, width, maxRows, n int, row func(i int, args []any) ([]any, error)) error {
	anon := anonParams(t.b)
	i := 0
	for _, c := range chunks(n) {
		m := min(c, maxRows)
		q := cachedSQL(key, m, anon, func() string {
			return head + placeholdersIn(anon, m, width, 1) + tail
		})
		for end := i + c; i < end; i += m {
			args := make([]any, 0, width*m)
			for j := i; j < i+m; j++ {
				var err error
				if args, err = row(j, args); err != nil {
					return err
				}
			}
			if _, err := t.h.Exec(ctx, q, args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// excluded is "c = excluded.c, …" for an upsert of these columns.
func excluded(cols string) string {
	var b strings.Builder
	for i, c := range strings.Split(cols, ", ") {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}

const alertUpdateCols = "source, title, severity, status, labels, first_seen, last_seen, last_change, occurrences, opsitem_id, changes, flapping, " +
	"held_until, rule, group_key, suppressed, source_updated_at"

func (t *tx) PutAlerts(ctx context.Context, as []store.Alert) error {
	return t.execRows(ctx, "alerts-put", "INSERT INTO alerts ("+alertCols+") VALUES ",
		alertUpsert, 19, 16, len(as),
		func(i int, args []any) ([]any, error) {
			a, err := alertArgs(as[i])
			return append(args, a...), err
		})
}

func (t *tx) CreateOpsItems(ctx context.Context, items []store.OpsItem) error {
	err := t.execRows(ctx, "opsitems-create", "INSERT INTO opsitems ("+opsItemCols+") VALUES ", "", strings.Count(opsItemCols, ",")+1, 16, len(items),
		func(i int, args []any) ([]any, error) { return append(args, opsItemArgs(items[i])...), nil })
	if err != nil && len(items) > 0 {
		return conflict(t.b, err, "opsitem "+items[0].ID+" (or one of the "+fmt.Sprint(len(items))+" created with it)")
	}
	return err
}

const memberUpdateCols = "title, source, severity, status, occurrences, first_seen, last_seen"

// The upserts' conflict clauses, built once.
var (
	alertUpsert  = " ON CONFLICT (tenant_id, fingerprint) DO UPDATE SET " + excluded(alertUpdateCols)
	memberUpsert = " ON CONFLICT (tenant_id, opsitem_id, fingerprint) DO UPDATE SET " + excluded(memberUpdateCols)
)

func (t *tx) PutOpsItemMembers(ctx context.Context, ms []store.OpsItemMember) error {
	return t.execRows(ctx, "members-put", "INSERT INTO opsitem_members ("+memberCols+") VALUES ",
		memberUpsert, 10, 64, len(ms),
		func(i int, args []any) ([]any, error) {
			m := ms[i]
			return append(args, m.TenantID, m.OpsItemID, m.Fingerprint, m.Title, m.Source, m.Severity, m.Status, m.Occurrences,
				ts(m.FirstSeen), ts(m.LastSeen)), nil
		})
}

func (t *tx) AddOpsItemResources(ctx context.Context, rs []store.OpsItemResourceLink) error {
	return t.execRows(ctx, "resources-add", "INSERT INTO opsitem_resources (tenant_id, opsitem_id, type, ref_id) VALUES ",
		" ON CONFLICT (tenant_id, opsitem_id, type, ref_id) DO NOTHING", 4, 64, len(rs),
		func(i int, args []any) ([]any, error) {
			r := rs[i]
			return append(args, r.TenantID, r.OpsItemID, r.Type, r.ID), nil
		})
}

func (t *tx) AddTimelines(ctx context.Context, es []store.TimelineEntry) error {
	return t.execRows(ctx, "timeline-add", "INSERT INTO opsitem_timeline (id, tenant_id, opsitem_id, at, kind, message, actor) VALUES ", "", 7, 64, len(es),
		func(i int, args []any) ([]any, error) {
			e := es[i]
			return append(args, e.ID, e.TenantID, e.OpsItemID, ts(e.At), e.Kind, e.Message, e.Actor), nil
		})
}

func (t *tx) SetInhibitKeysMany(ctx context.Context, ks []store.InhibitKeys) error {
	// Delete the keys of every alert but new ones, a statement per tenant
	// and 256 alerts, then insert the new keys together.
	byTenant := map[string][]string{}
	var tenants []string
	var rows [][3]string
	for _, k := range ks {
		if !k.New {
			if byTenant[k.TenantID] == nil {
				tenants = append(tenants, k.TenantID)
			}
			byTenant[k.TenantID] = append(byTenant[k.TenantID], k.Fingerprint)
		}
		for _, key := range k.Keys {
			rows = append(rows, [3]string{k.TenantID, key, k.Fingerprint})
		}
	}
	anon := anonParams(t.b)
	for _, tenant := range tenants {
		fps := byTenant[tenant]
		i := 0
		for _, c := range inChunks(len(fps)) {
			take, class := c[0], c[1]
			q := cachedSQL("inhibit-delete", class, anon, func() string {
				return "DELETE FROM inhibit_keys WHERE tenant_id = " + param(anon, 1) + " AND fingerprint IN (" + inListIn(anon, class, 2) + ")"
			})
			args := make([]any, 1+class)
			args[0] = tenant
			for j := range class {
				args[1+j] = fps[i+min(j, take-1)]
			}
			if _, err := t.h.Exec(ctx, q, args...); err != nil {
				return err
			}
			i += take
		}
	}
	return t.execRows(ctx, "inhibit-insert", "INSERT INTO inhibit_keys (tenant_id, key, fingerprint) VALUES ",
		" ON CONFLICT DO NOTHING", 3, 64, len(rows),
		func(i int, args []any) ([]any, error) { return append(args, rows[i][0], rows[i][1], rows[i][2]), nil })
}
