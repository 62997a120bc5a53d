package sqlite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// The driver prepares (parses and plans) every statement it is given, and
// database/sql hands it the query text on every call: on the intake path
// SQLite's parser was half of the server's CPU. So each connection keeps its
// own small LRU cache of prepared statements, keyed by query text, and runs
// repeated queries on them. It sits below database/sql, so transactions, the
// read pool and River's use of the writer all get it without knowing.

// stmtCacheSize bounds the prepared statements kept per connection; queries
// built with varying text (filters, IN lists) take turns in the LRU.
const stmtCacheSize = 128

// connector opens modernc connections wrapped in a statement cache.
type connector struct {
	dsn string
	drv *sqlite.Driver
}

var _ driver.Connector = (*connector)(nil)

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	dc, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{inner: dc, stmts: map[string]*list.Element{}, lru: list.New()}, nil
}

func (c *connector) Driver() driver.Driver { return c.drv }

// innerConn is what the modernc connection implements.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	query   string
	stmt    driver.Stmt
	busy    bool // rows are open on it: a second use prepares afresh
	evicted bool // left the cache while busy: close when the rows close
}

type cachingConn struct {
	inner driver.Conn
	mu    sync.Mutex
	stmts map[string]*list.Element // of *cachedStmt
	lru   *list.List
}

var (
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

func (c *cachingConn) in() innerConn { return c.inner.(innerConn) }

func (c *cachingConn) Prepare(q string) (driver.Stmt, error) { return c.inner.Prepare(q) }
func (c *cachingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.in().PrepareContext(ctx, q)
}
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.in().BeginTx(context.Background(), driver.TxOptions{})
}
func (c *cachingConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	return c.in().BeginTx(ctx, o)
}
func (c *cachingConn) Ping(ctx context.Context) error         { return c.in().Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.in().ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                          { return c.in().IsValid() }

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	for e := c.lru.Front(); e != nil; e = e.Next() {
		_ = e.Value.(*cachedStmt).stmt.Close()
	}
	c.stmts, c.lru = map[string]*list.Element{}, list.New()
	c.mu.Unlock()
	return c.inner.Close()
}

// acquire returns q's cached statement marked busy, preparing and caching it
// on first use; nil when the statement is in use or not cacheable.
func (c *cachingConn) acquire(ctx context.Context, q string) (*cachedStmt, error) {
	if strings.Contains(q, ";") {
		return nil, nil // a script: the driver runs it statement by statement
	}
	c.mu.Lock()
	if e, ok := c.stmts[q]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			c.mu.Unlock()
			return nil, nil
		}
		cs.busy = true
		c.lru.MoveToFront(e)
		c.mu.Unlock()
		return cs, nil
	}
	c.mu.Unlock()
	st, err := c.in().PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: q, stmt: st, busy: true}
	c.mu.Lock()
	c.stmts[q] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		old := c.lru.Back()
		ocs := old.Value.(*cachedStmt)
		c.lru.Remove(old)
		delete(c.stmts, ocs.query)
		if ocs.busy {
			ocs.evicted = true
		} else {
			_ = ocs.stmt.Close()
		}
	}
	c.mu.Unlock()
	return cs, nil
}

func (c *cachingConn) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.busy = false
	closeIt := cs.evicted
	c.mu.Unlock()
	if closeIt {
		_ = cs.stmt.Close()
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.acquire(ctx, q)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.in().ExecContext(ctx, q, args)
	}
	defer c.release(cs)
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.acquire(ctx, q)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.in().QueryContext(ctx, q, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, err
	}
	return &cachedRows{Rows: rows, c: c, cs: cs}, nil
}

// cachedRows releases its statement for reuse when closed.
type cachedRows struct {
	driver.Rows
	c  *cachingConn
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.cs != nil {
		r.c.release(r.cs)
		r.cs = nil
	}
	return err
}
