package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Statements over a variable number of rows or keys are built in a few fixed
// sizes (padding an IN list by repeating its last key, which changes
// nothing), so the drivers' prepared-statement caches see a handful of
// texts, not one per count. Below 16 they are the powers of two, so the
// 15 or so rows per table a processing transaction of new alerts writes
// take at most four statements (8+4+2+1), not six (4+4+4+1+1+1).
var sizeClasses = []int{256, 64, 16, 8, 4, 2, 1}

// chunks splits n items into runs of the size classes, largest first.
func chunks(n int) []int {
	var out []int
	for _, c := range sizeClasses {
		for n >= c {
			out = append(out, c)
			n -= c
		}
	}
	return out
}

// inChunks splits n keys into runs that fit an IN list of a size class,
// padding the last one up: at most one statement per 256 keys plus one.
func inChunks(n int) [][2]int { // [count, class]
	var out [][2]int
	for n > 0 {
		take := min(n, sizeClasses[0])
		class := sizeClasses[0]
		for _, c := range sizeClasses {
			if c >= take {
				class = c
			}
		}
		out = append(out, [2]int{take, class})
		n -= take
	}
	return out
}

var sqlCache sync.Map // sqlKey -> built SQL text

// anonParams reports whether the built statements use anonymous "?"
// parameters: SQLite looks a numbered parameter's name up by a linear
// search, once per parameter and execution, which made binding a
// statement of a thousand parameters quadratic. PostgreSQL needs $N.
func anonParams(b Backend) bool { return b.Name() == "sqlite" }

// param is the n'th parameter in the backend's style.
func param(anon bool, n int) string {
	if anon {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// sqlKey names a built statement: its kind, size and parameter style.
type sqlKey struct {
	name string
	n    int
	anon bool
}

// cachedSQL builds a statement's text once per kind, size and parameter
// style (a key that is a struct, not a formatted string, costs a
// statement no allocation).
func cachedSQL(name string, n int, anon bool, build func() string) string {
	k := sqlKey{name, n, anon}
	if s, ok := sqlCache.Load(k); ok {
		return s.(string)
	}
	s := build()
	sqlCache.Store(k, s)
	return s
}

// placeholders returns "($a, $b, …), (…)" for rows of width columns
// numbered from first.
func placeholders(rows, width, first int) string { return placeholdersIn(false, rows, width, first) }

// placeholdersIn is placeholders in a backend's parameter style.
func placeholdersIn(anon bool, rows, width, first int) string {
	var b strings.Builder
	n := first
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := 0; c < width; c++ {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteString(param(anon, n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// inList returns "$first, …" for n keys.
func inList(n, first int) string { return inListIn(false, n, first) }

// inListIn is inList in a backend's parameter style.
func inListIn(anon bool, n, first int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(param(anon, first+i))
	}
	return b.String()
}

func (t *tx) InsertIntakeBatches(ctx context.Context, bs []store.IntakeBatch) error {
	i := 0
	for _, n := range chunks(len(bs)) {
		anon := anonParams(t.b)
		q := cachedSQL("intake-insert", n, anon, func() string {
			return "INSERT INTO intake_batches (id, tenant_id, source, received_at, header, body, processed) VALUES " +
				strings.ReplaceAll(placeholdersIn(anon, n, 6, 1), ")", ", 0)")
		})
		args := make([]any, 0, 6*n)
		for _, b := range bs[i : i+n] {
			args = append(args, b.ID, b.TenantID, b.Source, ts(b.ReceivedAt), string(b.Header), string(b.Body))
		}
		if _, err := t.h.Exec(ctx, q, args...); err != nil {
			return err
		}
		i += n
	}
	return nil
}

func (t *tx) ClaimIntakeBatches(ctx context.Context, ids []string) ([]string, error) {
	var claimed []string
	i := 0
	for _, c := range inChunks(len(ids)) {
		take, class := c[0], c[1]
		anon := anonParams(t.b)
		q := cachedSQL("intake-claim", class, anon, func() string {
			return "UPDATE intake_batches SET processed = 1 WHERE processed = 0 AND id IN (" + inListIn(anon, class, 1) + ") RETURNING id"
		})
		args := make([]any, class)
		for j := range args {
			args[j] = ids[i+min(j, take-1)]
		}
		rows, err := t.h.Query(ctx, q, args...)
		if err != nil {
			return claimed, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return claimed, err
			}
			claimed = append(claimed, id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return claimed, err
		}
		i += take
	}
	return claimed, nil
}

func (r reader) GetAlerts(ctx context.Context, tenantID string, fps []string) ([]store.Alert, error) {
	var out []store.Alert
	i := 0
	for _, c := range inChunks(len(fps)) {
		take, class := c[0], c[1]
		anon := anonParams(r.b)
		q := cachedSQL("alerts-get", class, anon, func() string {
			return "SELECT " + alertCols + " FROM alerts WHERE tenant_id = " + param(anon, 1) + " AND fingerprint IN (" + inListIn(anon, class, 2) + ")"
		})
		args := make([]any, 1+class)
		args[0] = tenantID
		for j := 0; j < class; j++ {
			args[1+j] = fps[i+min(j, take-1)]
		}
		rows, err := r.q.Query(ctx, q, args...)
		if err != nil {
			return out, err
		}
		for rows.Next() {
			a, err := scanAlert(rows)
			if err != nil {
				rows.Close()
				return out, err
			}
			out = append(out, a)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return out, err
		}
		i += take
	}
	return out, nil
}

const memberCols = "tenant_id, opsitem_id, fingerprint, title, source, severity, status, occurrences, first_seen, last_seen"

func (r reader) GetOpsItemMember(ctx context.Context, tenantID, opsItemID, fp string) (store.OpsItemMember, error) {
	var m store.OpsItemMember
	var first, last int64
	err := r.q.QueryRow(ctx, "SELECT "+memberCols+" FROM opsitem_members WHERE tenant_id = $1 AND opsitem_id = $2 AND fingerprint = $3",
		tenantID, opsItemID, fp).Scan(&m.TenantID, &m.OpsItemID, &m.Fingerprint, &m.Title, &m.Source, &m.Severity, &m.Status, &m.Occurrences, &first, &last)
	if err != nil {
		return m, r.notFound(err, "member "+fp+" of opsitem "+opsItemID)
	}
	m.FirstSeen, m.LastSeen = fromTS(first), fromTS(last)
	return m, nil
}

// valuesRows returns "(CAST($a AS T1), …), (…)" for rows of the given
// column types numbered from 1: UPDATE … FROM (VALUES …) AS v, whose
// columns both databases name column1, column2, ….
func valuesRows(anon bool, rows int, types ...string) string {
	var b strings.Builder
	n := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c, typ := range types {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "CAST(%s AS %s)", param(anon, n), typ)
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

func (t *tx) PutAlertCounts(ctx context.Context, cs []store.AlertCounts) error {
	i := 0
	for _, n := range chunks(len(cs)) {
		anon := anonParams(t.b)
		q := cachedSQL("alert-counts", n, anon, func() string {
			return "UPDATE alerts SET occurrences = v.column3, last_seen = v.column4, source_updated_at = v.column5 FROM (VALUES " +
				valuesRows(anon, n, "TEXT", "TEXT", "BIGINT", "BIGINT", "BIGINT") +
				") AS v WHERE alerts.tenant_id = v.column1 AND alerts.fingerprint = v.column2"
		})
		args := make([]any, 0, 5*n)
		for _, c := range cs[i : i+n] {
			args = append(args, c.TenantID, c.Fingerprint, c.Occurrences, ts(c.LastSeen), ts(c.SourceUpdatedAt))
		}
		if _, err := t.h.Exec(ctx, q, args...); err != nil {
			return err
		}
		i += n
	}
	return nil
}

func (t *tx) CountRepeats(ctx context.Context, rs []store.Repeat) error {
	type member struct{ tenant, opsItem, fp string }
	type opsItem struct{ tenant, id string }
	type sum struct {
		n    int64
		last int64
	}
	// Add up repeats of the same member first: one row each below.
	var members []member
	sums := map[member]*sum{}
	for _, r := range rs {
		if r.N <= 0 {
			continue
		}
		k := member{r.TenantID, r.OpsItemID, r.Fingerprint}
		s := sums[k]
		if s == nil {
			s = &sum{}
			sums[k] = s
			members = append(members, k)
		}
		s.n += r.N
		s.last = max(s.last, ts(r.LastSeen))
	}
	var items []opsItem
	itemSums := map[opsItem]*sum{}
	i := 0
	for _, n := range chunks(len(members)) {
		anon := anonParams(t.b)
		q := cachedSQL("member-repeats", n, anon, func() string {
			return `UPDATE opsitem_members SET occurrences = occurrences + v.column4,
				last_seen = CASE WHEN opsitem_members.last_seen < v.column5 THEN v.column5 ELSE opsitem_members.last_seen END
				FROM (VALUES ` + valuesRows(anon, n, "TEXT", "TEXT", "TEXT", "BIGINT", "BIGINT") + `) AS v
				WHERE opsitem_members.tenant_id = v.column1 AND opsitem_members.opsitem_id = v.column2 AND opsitem_members.fingerprint = v.column3
				RETURNING opsitem_members.tenant_id, opsitem_members.opsitem_id, opsitem_members.fingerprint`
		})
		args := make([]any, 0, 5*n)
		for _, k := range members[i : i+n] {
			s := sums[k]
			args = append(args, k.tenant, k.opsItem, k.fp, s.n, s.last)
		}
		rows, err := t.h.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k member
			if err := rows.Scan(&k.tenant, &k.opsItem, &k.fp); err != nil {
				rows.Close()
				return err
			}
			s := sums[k]
			if s == nil {
				continue
			}
			ik := opsItem{k.tenant, k.opsItem}
			is := itemSums[ik]
			if is == nil {
				is = &sum{}
				itemSums[ik] = is
				items = append(items, ik)
			}
			is.n += s.n
			is.last = max(is.last, s.last)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		i += n
	}
	for _, k := range items {
		s := itemSums[k]
		if _, err := t.h.Exec(ctx, `UPDATE opsitems SET occurrences = occurrences + $3,
			last_event_at = CASE WHEN last_event_at < $4 THEN $4 ELSE last_event_at END
			WHERE id = $1 AND tenant_id = $2`, k.id, k.tenant, s.n, s.last); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) InsertEvents(ctx context.Context, es []store.Event) error {
	anon := anonParams(t.b)
	i := 0
	for _, n := range chunks(len(es)) {
		if n > 16 {
			// 19 columns: at most 16 rows a statement (304 parameters).
			for j := 0; j < n; j += 16 {
				if err := t.InsertEvents(ctx, es[i+j:i+j+16]); err != nil {
					return err
				}
			}
			i += n
			continue
		}
		q := cachedSQL("events-insert", n, anon, func() string {
			return "INSERT INTO events (" + eventCols + ") VALUES " + placeholdersIn(anon, n, 19, 1)
		})
		args := make([]any, 0, 19*n)
		for _, e := range es[i : i+n] {
			labels, err := marshalMap(e.Labels)
			if err != nil {
				return err
			}
			args = append(args, e.ID, e.TenantID, e.Source, e.SourceID, e.Fingerprint, e.Kind, e.Severity, e.Status, e.Title, e.Description,
				string(e.Resources), e.ResourceKey, labels, ts(e.OccurredAt), ts(e.ReceivedAt), string(e.Raw), e.OpsItemID, e.Decision, e.Reason)
		}
		if _, err := t.h.Exec(ctx, q, args...); err != nil {
			return conflict(t.b, err, "event "+es[i].ID)
		}
		i += n
	}
	return nil
}

func (t *tx) InsertAuditRecords(ctx context.Context, rs []store.AuditRecord) error {
	anon := anonParams(t.b)
	for len(rs) > 0 {
		n := 1
		for n*2 <= min(len(rs), 32) {
			n *= 2
		}
		q := cachedSQL("audit-insert", n, anon, func() string {
			return "INSERT INTO audit_records (" + auditCols + ") VALUES " + placeholdersIn(anon, n, 10, 1)
		})
		args := make([]any, 0, 10*n)
		for _, a := range rs[:n] {
			args = append(args, a.TenantID, a.Seq, ts(a.Time), a.Actor, a.Action, a.Target, a.Result, string(a.Detail), a.PrevHash, a.Hash)
		}
		if _, err := t.h.Exec(ctx, q, args...); err != nil {
			return err
		}
		rs = rs[n:]
	}
	return nil
}

func (t *tx) TakeAuditHead(ctx context.Context, tenantID string) (int64, string, error) {
	// One statement: creates the head or, updating it to itself, takes its
	// row lock.
	var seq int64
	var hash string
	err := t.h.QueryRow(ctx, `INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, '')
		ON CONFLICT (tenant_id) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash`, tenantID).Scan(&seq, &hash)
	return seq, hash, err
}

func (t *tx) SetAuditHead(ctx context.Context, tenantID string, seq int64, hash string) error {
	_, err := t.h.Exec(ctx, "UPDATE audit_heads SET seq = $2, hash = $3 WHERE tenant_id = $1", tenantID, seq, hash)
	return err
}
