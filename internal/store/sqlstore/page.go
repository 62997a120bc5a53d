package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// where builds a WHERE clause with $N placeholders.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// listPage runs "SELECT cols FROM table <where> ORDER BY key DESC LIMIT n+1"
// with keyset pagination on key, scanning each row with scan. The cursor is
// the last key returned.
func listPage[T any](ctx context.Context, q Querier, cols, table, key string, w where, page store.Page,
	scan func(Rows) (T, error), cursorOf func(T) string) ([]T, string, error) {
	page = page.Normalize()
	if page.Cursor != "" {
		w.add(key+" < ?", page.Cursor)
	}
	sql := fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s DESC LIMIT %d", cols, table, w.String(), key, page.Limit+1)
	rows, err := q.Query(ctx, sql, w.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > page.Limit {
		out = out[:page.Limit]
		next = cursorOf(out[len(out)-1])
	}
	return out, next, nil
}
