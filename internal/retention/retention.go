// Package retention bounds what Flywheel stores: events, their raw
// payloads, OpsItem timelines, finished executions with their step logs,
// finished agent commands, processed intake deliveries, finished
// maintenance window runs and idle UI sessions are deleted once older than
// their tenant's retention policy (docs/retention.md).
//
// Pruning is periodic work on the job queue's elected leader (one replica
// when several share a database): Register adds one pruner per kind of data
// to the queue's retention job. Each pruner works tenant by tenant in
// batches of Config.Batch rows, one short transaction each, so it never
// holds the database's write lock for long and a run cut short keeps what it
// did.
//
// Audit records, OpsItems, tenants and tokens are not pruned: the audit
// chain stays whole, so `flywheel audit verify` proves it from its first
// record.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Policy is how long a tenant's data is kept, per kind. A zero field is
// unset: a tenant's policy takes it from the server's, the server's from
// Default.
type Policy struct {
	Events        Age `yaml:"events"`
	RawBodies     Age `yaml:"raw_bodies"`
	Timeline      Age `yaml:"timeline"`
	Executions    Age `yaml:"executions"`
	AgentCommands Age `yaml:"agent_commands"`
	Intake        Age `yaml:"intake"`
	WindowRuns    Age `yaml:"window_runs"`
	Sessions      Age `yaml:"sessions"`
	// MaxEvents bounds the events kept per tenant whatever their age: the
	// oldest beyond it are deleted. -1: no bound.
	MaxEvents int64 `yaml:"max_events"`
}

// Default is the policy of a server that configures none.
var Default = Policy{
	Events:        30 * Day,
	RawBodies:     7 * Day,
	Timeline:      365 * Day,
	Executions:    90 * Day,
	AgentCommands: 30 * Day,
	Intake:        7 * Day,
	WindowRuns:    180 * Day,
	Sessions:      30 * Day,
	MaxEvents:     1_000_000,
}

// ages pairs each class with p's field for it.
func (p *Policy) ages() map[store.RetentionClass]*Age {
	return map[store.RetentionClass]*Age{
		store.RetainEvents: &p.Events, store.RetainRawBodies: &p.RawBodies, store.RetainTimeline: &p.Timeline,
		store.RetainExecutions: &p.Executions, store.RetainAgentCommands: &p.AgentCommands, store.RetainIntake: &p.Intake,
		store.RetainWindowRuns: &p.WindowRuns, store.RetainSessions: &p.Sessions,
	}
}

// Age returns how long p keeps class (Forever: kept).
func (p Policy) Age(class store.RetentionClass) Age {
	if a, ok := p.ages()[class]; ok {
		return *a
	}
	return Forever
}

// over returns p with its unset fields taken from base.
func (p Policy) over(base Policy) Policy {
	from := base.ages()
	for class, a := range p.ages() {
		if *a == 0 {
			*a = *from[class]
		}
	}
	if p.MaxEvents == 0 {
		p.MaxEvents = base.MaxEvents
	}
	return p
}

func (p Policy) validate(where string) []error {
	var errs []error
	if p.MaxEvents < -1 {
		errs = append(errs, fmt.Errorf("%smax_events: %d must be positive, or -1 for no bound", where, p.MaxEvents))
	}
	for _, c := range store.RetentionClasses {
		if a := p.Age(c); a < 0 && a != Forever {
			errs = append(errs, fmt.Errorf("%s%s: %s is negative", where, c, time.Duration(a)))
		}
	}
	return errs
}

// Config is the server's `retention:` section.
type Config struct {
	// Every is how often the leader prunes.
	Every time.Duration `yaml:"every"`
	// Batch is how many rows one transaction removes.
	Batch int `yaml:"batch"`
	// The server's policy; unset fields take Default's.
	Policy `yaml:",inline"`
	// Tenants override the server's policy for one tenant each.
	Tenants map[string]Policy `yaml:"tenants"`
}

// Defaults of Config.
const (
	DefaultEvery = time.Hour
	DefaultBatch = 500
	MaxBatch     = 10_000
)

// WithDefaults returns c with unset fields given their defaults.
func (c Config) WithDefaults() Config {
	if c.Every == 0 {
		c.Every = DefaultEvery
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	c.Policy = c.Policy.over(Default)
	return c
}

// Validate reports every invalid field, naming it.
func (c Config) Validate() error {
	var errs []error
	if c.Every < time.Second {
		errs = append(errs, fmt.Errorf("retention.every: %s is too short (minimum 1s)", c.Every))
	}
	if c.Batch < 1 || c.Batch > MaxBatch {
		errs = append(errs, fmt.Errorf("retention.batch: %d is out of range 1..%d", c.Batch, MaxBatch))
	}
	errs = append(errs, c.Policy.validate("retention.")...)
	for id, p := range c.Tenants {
		errs = append(errs, p.validate("retention.tenants."+id+".")...)
	}
	return errors.Join(errs...)
}

// For returns tenant's effective policy.
func (c Config) For(tenant string) Policy {
	return c.Tenants[tenant].over(c.Policy)
}

// Pruner deletes expired data by a Config (with defaults applied).
type Pruner struct {
	st  store.Store
	cfg Config
	log *slog.Logger
}

// New returns a Pruner over st; cfg must have had WithDefaults.
func New(st store.Store, cfg Config, log *slog.Logger) *Pruner {
	if log == nil {
		log = slog.Default()
	}
	return &Pruner{st: st, cfg: cfg, log: log}
}

// Register adds one pruner per kind of data to q's retention job, which
// runs every q's RetentionEvery on the leader.
func (p *Pruner) Register(q *jobs.Queue) error {
	for _, c := range store.RetentionClasses {
		if err := q.AddPruner(string(c), func(ctx context.Context, now time.Time) (int64, error) {
			return p.Prune(ctx, c, now)
		}); err != nil {
			return err
		}
	}
	return nil
}

// Prune removes every tenant's data of class that its policy no longer
// keeps at now, batch by batch, and returns how many rows it removed. For
// events it also applies MaxEvents.
func (p *Pruner) Prune(ctx context.Context, class store.RetentionClass, now time.Time) (int64, error) {
	var total int64
	var errs []error
	err := p.eachTenant(ctx, func(tenant string) {
		pol := p.cfg.For(tenant)
		var n int64
		var err error
		if age := pol.Age(class); age > 0 {
			before := now.Add(-time.Duration(age))
			n, err = p.drain(ctx, func(tx store.Tx) (int64, error) {
				return tx.PruneExpired(ctx, tenant, class, before, p.cfg.Batch)
			})
		}
		if err == nil && class == store.RetainEvents && pol.MaxEvents > 0 {
			var trimmed int64
			trimmed, err = p.drain(ctx, func(tx store.Tx) (int64, error) {
				return tx.TrimEvents(ctx, tenant, pol.MaxEvents, p.cfg.Batch)
			})
			n += trimmed
		}
		total += n
		if n > 0 {
			p.log.DebugContext(ctx, "pruned", "class", class, "tenant", tenant, "rows", n)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tenant, err))
		}
	})
	return total, errors.Join(append(errs, err)...)
}

// drain runs batch in its own transaction until a batch removes less than
// a full batch (nothing more is due) or ctx ends.
func (p *Pruner) drain(ctx context.Context, batch func(tx store.Tx) (int64, error)) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int64
		err := p.st.InTx(ctx, func(tx store.Tx) (err error) {
			n, err = batch(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(p.cfg.Batch) {
			return total, nil
		}
	}
}

func (p *Pruner) eachTenant(ctx context.Context, fn func(tenant string)) error {
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		list, next, err := p.st.ListTenants(ctx, page)
		if err != nil {
			return fmt.Errorf("list tenants: %w", err)
		}
		for _, t := range list {
			fn(t.ID)
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
}
