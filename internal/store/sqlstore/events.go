package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func (t *tx) ClaimIntake(ctx context.Context, id string) (bool, error) {
	n, err := t.h.Exec(ctx, "UPDATE intake_batches SET processed = 1 WHERE id = $1 AND processed = 0", id)
	return n == 1, err
}

func (r reader) UnprocessedIntake(ctx context.Context, before time.Time, limit int) ([]store.IntakeBatch, error) {
	rows, err := r.q.Query(ctx, "SELECT id, tenant_id, source, received_at, header, body FROM intake_batches WHERE processed = 0 AND received_at < $1 ORDER BY id LIMIT $2", ts(before), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.IntakeBatch
	for rows.Next() {
		var b store.IntakeBatch
		var at int64
		var header, body string
		if err := rows.Scan(&b.ID, &b.TenantID, &b.Source, &at, &header, &body); err != nil {
			return nil, err
		}
		b.ReceivedAt, b.Body = fromTS(at), []byte(body)
		if header != "" {
			b.Header = []byte(header)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func (r reader) CountUnprocessedIntake(ctx context.Context) (int64, error) {
	var n int64
	err := r.q.QueryRow(ctx, "SELECT COUNT(*) FROM intake_batches WHERE processed = 0").Scan(&n)
	return n, err
}

func (r reader) IntakeProcessed(ctx context.Context, id string) (bool, error) {
	var p int
	err := r.q.QueryRow(ctx, "SELECT processed FROM intake_batches WHERE id = $1", id).Scan(&p)
	return p != 0, r.notFound(err, "intake batch "+id)
}

const eventCols = "id, tenant_id, source, source_id, fingerprint, kind, severity, status, title, description, resources, resource_key, labels, occurred_at, received_at, raw, opsitem_id, decision, reason"

func (t *tx) InsertEvent(ctx context.Context, e store.Event) error {
	labels, err := marshalMap(e.Labels)
	if err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, "INSERT INTO events ("+eventCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
		e.ID, e.TenantID, e.Source, e.SourceID, e.Fingerprint, e.Kind, e.Severity, e.Status, e.Title, e.Description,
		string(e.Resources), e.ResourceKey, labels, ts(e.OccurredAt), ts(e.ReceivedAt), string(e.Raw), e.OpsItemID, e.Decision, e.Reason)
	return conflict(t.b, err, "event "+e.ID)
}

func scanEvent(r Row) (store.Event, error) {
	var e store.Event
	var resources, labels, raw string
	var occurred, received int64
	err := r.Scan(&e.ID, &e.TenantID, &e.Source, &e.SourceID, &e.Fingerprint, &e.Kind, &e.Severity, &e.Status, &e.Title, &e.Description,
		&resources, &e.ResourceKey, &labels, &occurred, &received, &raw, &e.OpsItemID, &e.Decision, &e.Reason)
	if err != nil {
		return e, err
	}
	e.OccurredAt, e.ReceivedAt = fromTS(occurred), fromTS(received)
	if resources != "" {
		e.Resources = []byte(resources)
	}
	if raw != "" {
		e.Raw = []byte(raw)
	}
	e.Labels, err = unmarshalMap(labels)
	return e, err
}

func (r reader) GetEvent(ctx context.Context, tenantID, id string) (store.Event, error) {
	e, err := scanEvent(r.q.QueryRow(ctx, "SELECT "+eventCols+" FROM events WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return e, r.notFound(err, "event "+id)
}

func (r reader) ListEvents(ctx context.Context, tenantID string, f store.EventFilter, page store.Page) ([]store.Event, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	for _, c := range []struct{ col, v string }{
		{"source", f.Source}, {"fingerprint", f.Fingerprint}, {"resource_key", f.Resource},
		{"status", f.Status}, {"decision", f.Decision}, {"opsitem_id", f.OpsItemID},
	} {
		if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	if !f.From.IsZero() {
		w.add("occurred_at >= ?", ts(f.From))
	}
	if !f.To.IsZero() {
		w.add("occurred_at < ?", ts(f.To))
	}
	return listPage(ctx, r.q, eventCols, "events", "id", w, page,
		func(rows Rows) (store.Event, error) { return scanEvent(rows) },
		store.EventCursor)
}

const alertCols = "tenant_id, fingerprint, source, title, severity, status, labels, first_seen, last_seen, last_change, occurrences, opsitem_id, changes, flapping, held_until, rule, group_key, suppressed, source_updated_at"

func scanAlert(r Row) (store.Alert, error) {
	var a store.Alert
	var labels, changes string
	var first, last, change, held, srcUpdated int64
	var flapping int
	err := r.Scan(&a.TenantID, &a.Fingerprint, &a.Source, &a.Title, &a.Severity, &a.Status, &labels, &first, &last, &change,
		&a.Occurrences, &a.OpsItemID, &changes, &flapping, &held, &a.Rule, &a.GroupKey, &a.Suppressed, &srcUpdated)
	if err != nil {
		return a, err
	}
	a.FirstSeen, a.LastSeen, a.LastChange, a.HeldUntil, a.SourceUpdatedAt = fromTS(first), fromTS(last), fromTS(change), fromTS(held), fromTS(srcUpdated)
	a.Flapping = flapping != 0
	if changes != "" {
		var us []int64
		if err := json.Unmarshal([]byte(changes), &us); err != nil {
			return a, fmt.Errorf("alert %s changes: %w", a.Fingerprint, err)
		}
		a.Changes = make([]time.Time, len(us))
		for i, u := range us {
			a.Changes[i] = fromTS(u)
		}
	}
	a.Labels, err = unmarshalMap(labels)
	return a, err
}

func (r reader) GetAlert(ctx context.Context, tenantID, fingerprint string) (store.Alert, error) {
	a, err := scanAlert(r.q.QueryRow(ctx, "SELECT "+alertCols+" FROM alerts WHERE tenant_id = $1 AND fingerprint = $2", tenantID, fingerprint))
	return a, r.notFound(err, "alert "+fingerprint)
}

func (r reader) listAlerts(ctx context.Context, cond string, args ...any) ([]store.Alert, error) {
	rows, err := r.q.Query(ctx, "SELECT "+alertCols+" FROM alerts WHERE "+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (r reader) DueHeldAlerts(ctx context.Context, t time.Time, limit int) ([]store.Alert, error) {
	return r.listAlerts(ctx, "held_until > 0 AND held_until <= $1 ORDER BY held_until LIMIT $2", ts(t), limit)
}

func (r reader) FlappingAlerts(ctx context.Context, limit int) ([]store.Alert, error) {
	return r.listAlerts(ctx, "flapping = 1 ORDER BY last_change LIMIT $1", limit)
}

func (t *tx) PutAlert(ctx context.Context, a store.Alert) error {
	args, err := alertArgs(a)
	if err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, "INSERT INTO alerts ("+alertCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		ON CONFLICT (tenant_id, fingerprint) DO UPDATE SET source = $3, title = $4, severity = $5, status = $6, labels = $7,
		first_seen = $8, last_seen = $9, last_change = $10, occurrences = $11, opsitem_id = $12, changes = $13, flapping = $14,
		held_until = $15, rule = $16, group_key = $17, suppressed = $18, source_updated_at = $19`, args...)
	return err
}

// alertArgs are the column values of a, in alertCols order.
func alertArgs(a store.Alert) ([]any, error) {
	labels, err := marshalMap(a.Labels)
	if err != nil {
		return nil, err
	}
	changes := ""
	if len(a.Changes) > 0 {
		us := make([]int64, len(a.Changes))
		for i, c := range a.Changes {
			us[i] = ts(c)
		}
		b, _ := json.Marshal(us)
		changes = string(b)
	}
	return []any{a.TenantID, a.Fingerprint, a.Source, a.Title, a.Severity, a.Status, labels, ts(a.FirstSeen), ts(a.LastSeen), ts(a.LastChange),
		a.Occurrences, a.OpsItemID, changes, boolInt(a.Flapping), ts(a.HeldUntil), a.Rule, a.GroupKey, a.Suppressed, ts(a.SourceUpdatedAt)}, nil
}

func (r reader) OpenGroup(ctx context.Context, tenantID, rule, key string, since time.Time) (store.OpsItem, error) {
	o, err := scanOpsItem(r.q.QueryRow(ctx, "SELECT "+opsItemCols+` FROM opsitems
		WHERE tenant_id = $1 AND rule = $2 AND group_key = $3 AND last_event_at >= $4 AND status IN ('open', 'in-progress')
		ORDER BY last_event_at DESC LIMIT 1`, tenantID, rule, key, ts(since)))
	return o, r.notFound(err, "open group "+rule+"/"+key)
}

// OpenGroup in a transaction first takes the group's lock where the
// backend has one (see Backend.GroupLock).
func (t *tx) OpenGroup(ctx context.Context, tenantID, rule, key string, since time.Time) (store.OpsItem, error) {
	if lock := t.b.GroupLock(); lock != "" {
		if _, err := t.h.Exec(ctx, lock, tenantID+"\x1f"+rule+"\x1f"+key); err != nil {
			return store.OpsItem{}, fmt.Errorf("lock group %s/%s: %w", rule, key, err)
		}
	}
	return t.reader.OpenGroup(ctx, tenantID, rule, key, since)
}

// GetAlert and GetAlerts in a transaction first take the alerts' locks
// where the backend has them (see Backend.AlertLock).
func (t *tx) GetAlert(ctx context.Context, tenantID, fingerprint string) (store.Alert, error) {
	if err := t.lockAlerts(ctx, tenantID, []string{fingerprint}); err != nil {
		return store.Alert{}, err
	}
	return t.reader.GetAlert(ctx, tenantID, fingerprint)
}

func (t *tx) GetAlerts(ctx context.Context, tenantID string, fps []string) ([]store.Alert, error) {
	if err := t.lockAlerts(ctx, tenantID, fps); err != nil {
		return nil, err
	}
	return t.reader.GetAlerts(ctx, tenantID, fps)
}

func (t *tx) lockAlerts(ctx context.Context, tenantID string, fps []string) error {
	lock := t.b.AlertLock()
	if lock == "" || len(fps) == 0 {
		return nil
	}
	if _, err := t.h.Exec(ctx, lock, tenantID, fps); err != nil {
		return fmt.Errorf("lock %d alerts: %w", len(fps), err)
	}
	return nil
}

func (r reader) OpsItemGroups(ctx context.Context, tenantID string, fn func(rule, key string) error) error {
	rows, err := r.q.Query(ctx, "SELECT DISTINCT rule, group_key FROM opsitems WHERE tenant_id = $1", tenantID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rule, key string
		if err := rows.Scan(&rule, &key); err != nil {
			return err
		}
		if err := fn(rule, key); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (t *tx) PutOpsItemMember(ctx context.Context, m store.OpsItemMember) error {
	_, err := t.h.Exec(ctx, `INSERT INTO opsitem_members (tenant_id, opsitem_id, fingerprint, title, source, severity, status, occurrences, first_seen, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, opsitem_id, fingerprint) DO UPDATE SET title = $4, source = $5, severity = $6, status = $7,
		occurrences = $8, first_seen = $9, last_seen = $10`,
		m.TenantID, m.OpsItemID, m.Fingerprint, m.Title, m.Source, m.Severity, m.Status, m.Occurrences, ts(m.FirstSeen), ts(m.LastSeen))
	return err
}

func (t *tx) DeleteOpsItemMember(ctx context.Context, tenantID, opsItemID, fingerprint string) error {
	n, err := t.h.Exec(ctx, "DELETE FROM opsitem_members WHERE tenant_id = $1 AND opsitem_id = $2 AND fingerprint = $3", tenantID, opsItemID, fingerprint)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (r reader) ListOpsItemMembers(ctx context.Context, tenantID, opsItemID string) ([]store.OpsItemMember, error) {
	rows, err := r.q.Query(ctx, `SELECT tenant_id, opsitem_id, fingerprint, title, source, severity, status, occurrences, first_seen, last_seen
		FROM opsitem_members WHERE tenant_id = $1 AND opsitem_id = $2 ORDER BY first_seen, fingerprint`, tenantID, opsItemID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.OpsItemMember
	for rows.Next() {
		var m store.OpsItemMember
		var first, last int64
		if err := rows.Scan(&m.TenantID, &m.OpsItemID, &m.Fingerprint, &m.Title, &m.Source, &m.Severity, &m.Status, &m.Occurrences, &first, &last); err != nil {
			return nil, err
		}
		m.FirstSeen, m.LastSeen = fromTS(first), fromTS(last)
		out = append(out, m)
	}
	return out, rows.Err()
}

func (t *tx) AddOpsItemResource(ctx context.Context, tenantID, opsItemID string, res store.OpsItemResource) error {
	_, err := t.h.Exec(ctx, `INSERT INTO opsitem_resources (tenant_id, opsitem_id, type, ref_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, opsitem_id, type, ref_id) DO NOTHING`, tenantID, opsItemID, res.Type, res.ID)
	return err
}

func (r reader) ListOpsItemResources(ctx context.Context, tenantID, opsItemID string) ([]store.OpsItemResource, error) {
	rows, err := r.q.Query(ctx, "SELECT type, ref_id FROM opsitem_resources WHERE tenant_id = $1 AND opsitem_id = $2 ORDER BY type, ref_id", tenantID, opsItemID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.OpsItemResource
	for rows.Next() {
		var res store.OpsItemResource
		if err := rows.Scan(&res.Type, &res.ID); err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, rows.Err()
}

func (t *tx) AddTimeline(ctx context.Context, e store.TimelineEntry) error {
	_, err := t.h.Exec(ctx, "INSERT INTO opsitem_timeline (id, tenant_id, opsitem_id, at, kind, message, actor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		e.ID, e.TenantID, e.OpsItemID, ts(e.At), e.Kind, e.Message, e.Actor)
	return err
}

func (r reader) ListTimeline(ctx context.Context, tenantID, opsItemID string) ([]store.TimelineEntry, error) {
	rows, err := r.q.Query(ctx, "SELECT id, tenant_id, opsitem_id, at, kind, message, actor FROM opsitem_timeline WHERE tenant_id = $1 AND opsitem_id = $2 ORDER BY at, id", tenantID, opsItemID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.TimelineEntry
	for rows.Next() {
		var e store.TimelineEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.TenantID, &e.OpsItemID, &at, &e.Kind, &e.Message, &e.Actor); err != nil {
			return nil, err
		}
		e.At = fromTS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

var noiseReasons = []string{"silence", "maintenance", "transient", "flapping", "inhibited"}

func (t *tx) AddNoise(ctx context.Context, b store.NoiseBucket) error {
	args := []any{b.TenantID, ts(b.Minute.Truncate(time.Minute)), b.Received, b.Deduplicated, b.Opened}
	for _, r := range noiseReasons {
		args = append(args, b.Suppressed[r])
	}
	_, err := t.h.Exec(ctx, `INSERT INTO noise_minutes (tenant_id, minute, received, deduplicated, opened, silence, maintenance, transient, flapping, inhibited)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, minute) DO UPDATE SET received = noise_minutes.received + $3, deduplicated = noise_minutes.deduplicated + $4,
		opened = noise_minutes.opened + $5, silence = noise_minutes.silence + $6, maintenance = noise_minutes.maintenance + $7,
		transient = noise_minutes.transient + $8, flapping = noise_minutes.flapping + $9, inhibited = noise_minutes.inhibited + $10`, args...)
	return err
}

func (r reader) NoiseTotals(ctx context.Context, tenantID string, from, to time.Time) (store.NoiseBucket, error) {
	b := store.NoiseBucket{TenantID: tenantID, Minute: from, Suppressed: map[string]int64{}}
	var vals [5]int64
	err := r.q.QueryRow(ctx, `SELECT COALESCE(SUM(received), 0), COALESCE(SUM(deduplicated), 0), COALESCE(SUM(opened), 0),
		COALESCE(SUM(silence), 0), COALESCE(SUM(maintenance), 0), COALESCE(SUM(transient), 0), COALESCE(SUM(flapping), 0), COALESCE(SUM(inhibited), 0)
		FROM noise_minutes WHERE tenant_id = $1 AND minute >= $2 AND minute < $3`, tenantID, ts(from), ts(to)).
		Scan(&b.Received, &b.Deduplicated, &b.Opened, &vals[0], &vals[1], &vals[2], &vals[3], &vals[4])
	for i, r := range noiseReasons {
		b.Suppressed[r] = vals[i]
	}
	return b, err
}

func marshalMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func unmarshalMap(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	return m, json.Unmarshal([]byte(s), &m)
}

func (r reader) InhibitingAlert(ctx context.Context, tenantID string, keys []string, except string) (string, error) {
	// One query for all the keys (a new alert has one per inhibit rule
	// targeting it), in IN lists of a few fixed sizes.
	i := 0
	for _, c := range inChunks(len(keys)) {
		take, class := c[0], c[1]
		anon := anonParams(r.b)
		q := cachedSQL("inhibiting", class, anon, func() string {
			return "SELECT fingerprint FROM inhibit_keys WHERE tenant_id = " + param(anon, 1) + " AND fingerprint <> " + param(anon, 2) +
				" AND key IN (" + inListIn(anon, class, 3) + ") LIMIT 1"
		})
		args := make([]any, 2+class)
		args[0], args[1] = tenantID, except
		for j := range class {
			args[2+j] = keys[i+min(j, take-1)]
		}
		var fp string
		err := r.q.QueryRow(ctx, q, args...).Scan(&fp)
		if err == nil {
			return fp, nil
		}
		if !r.b.IsNoRows(err) {
			return "", err
		}
		i += take
	}
	return "", nil
}

func (r reader) InhibitKeys(ctx context.Context, tenantID string, fn func(key string) error) error {
	rows, err := r.q.Query(ctx, "SELECT DISTINCT key FROM inhibit_keys WHERE tenant_id = $1", tenantID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (t *tx) SetInhibitKeys(ctx context.Context, tenantID, fingerprint string, keys []string) error {
	if _, err := t.h.Exec(ctx, "DELETE FROM inhibit_keys WHERE tenant_id = $1 AND fingerprint = $2", tenantID, fingerprint); err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := t.h.Exec(ctx, "INSERT INTO inhibit_keys (tenant_id, key, fingerprint) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", tenantID, k, fingerprint); err != nil {
			return err
		}
	}
	return nil
}
