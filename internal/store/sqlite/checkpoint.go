package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite copies the write-ahead log back into the database file in a
// checkpoint, and by default runs one inside whichever commit takes the log
// past 1,000 pages: that commit, and every sender or pipeline transaction
// waiting behind it on the single writer, pays for copying the pages and
// two fsyncs. Here a background goroutine with its own connection to each
// file checkpoints every checkpointEvery in PASSIVE mode, which never
// blocks the writer, and the writers' own automatic checkpoint is only a
// backstop at autoCheckpointPages.
const (
	checkpointEvery     = 250 * time.Millisecond
	autoCheckpointPages = 20000 // 80 MB of log
	walSizeLimit        = 64 << 20
)

type checkpointer struct {
	dbs  []*sql.DB
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

func startCheckpointer(paths ...string) *checkpointer {
	c := &checkpointer{stop: make(chan struct{})}
	for _, p := range paths {
		db := openDB(dsn(p, false))
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		c.dbs = append(c.dbs, db)
	}
	c.done.Add(1)
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		for _, db := range c.dbs {
			// Errors (a busy database) only mean this round did less;
			// the next one, or the writers' backstop, catches up.
			_, _ = db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// close stops the loop and closes its connections.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	c.once.Do(func() { close(c.stop) })
	c.done.Wait()
	var err error
	for _, db := range c.dbs {
		if e := db.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}
