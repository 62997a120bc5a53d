// Package execution runs runbooks durably. An Executor implements
// runbook.Starter: Start writes the execution, its planned step rows and
// its first job in the caller's transaction. Jobs on the River queue then
// advance it step by step, persisting each step's state before and after
// it runs, so that a worker that dies mid-execution leaves a record another
// worker resumes from — and a step that was running when it died runs again
// only if it is marked idempotent.
//
// One worker at a time owns an execution, through a lease on its row that
// the worker renews while it runs steps; the store's row lock serialises
// every other change (approvals, cancellation, nested executions ending).
// Control steps (sleep, wait_for, approve, branch, assert, collect,
// runbook, opsitem) are run here; I/O steps through the action registry.
package execution

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Enqueuer puts jobs on the queue in the caller's transaction; *jobs.Queue
// is one.
type Enqueuer interface {
	InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// TargetResolver finds the resources a tag selector or group names; the
// inventory implements it. Without one, only resource IDs and the
// OpsItem's resources can be targeted.
type TargetResolver interface {
	ResolveTargets(ctx context.Context, tx store.Tx, tenant string, sel runbook.TargetSpec) ([]Target, error)
}

// ResultRecorder hears how top-level executions that are not dry runs
// ended — succeeded, ineffective, failed or timed out — whoever started
// them; the rule engine's circuit breaker and escalation use them
// (*rule.Engine is one). It is called in the transaction that records the
// end, with the execution as it ends.
type ResultRecorder interface {
	RecordResult(ctx context.Context, tx store.Tx, e store.Execution) error
}

// Options configure an Executor. Zero values take the defaults noted.
type Options struct {
	Store store.Store
	// Queue enqueues the execution jobs.
	Queue Enqueuer
	// Runbooks are the runbooks content defines.
	Runbooks *runbook.Library
	// Actions finds the I/O actions (action/registry's Get).
	Actions runbook.ActionLookup
	// Targets resolves tag and group targeting (optional).
	Targets TargetResolver
	// Results hears how rule-started executions ended (optional; see
	// also SetResults).
	Results ResultRecorder
	Logger  *slog.Logger
	Clock   func() time.Time // default time.Now
	// LeaseTTL is how long a worker owns an execution without renewing
	// its lease; a crashed worker's executions resume after it.
	LeaseTTL time.Duration // default 30s
	// RecoverEvery is how often the leader looks for executions a crash
	// left without a job.
	RecoverEvery time.Duration // default LeaseTTL
	// Slice is how long one job keeps running consecutive steps before it
	// hands the execution on to a new job.
	Slice time.Duration // default 5s
	// LogLimit caps a step's stored log, in bytes (the tail is kept).
	LogLimit int // default 64 KiB
	// OutputLimit caps a step's stored outputs, in bytes of JSON.
	OutputLimit int // default 256 KiB
	// MaxDepth bounds nested runbooks.
	MaxDepth int // default 5
	// ApprovalTimeout bounds the wait of an execution started in approval
	// mode.
	ApprovalTimeout time.Duration // default 24h
	// RuleApprovers returns who may approve the start of an execution the
	// named rule started in approval or suggest mode (the rule's
	// then.approvers); nil or an empty answer leaves it to operators.
	RuleApprovers func(tenant, rule string) []string
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.RecoverEvery == 0 {
		o.RecoverEvery = o.LeaseTTL
	}
	if o.Slice == 0 {
		o.Slice = 5 * time.Second
	}
	if o.LogLimit == 0 {
		o.LogLimit = 64 << 10
	}
	if o.OutputLimit == 0 {
		o.OutputLimit = 256 << 10
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = 5
	}
	if o.ApprovalTimeout == 0 {
		o.ApprovalTimeout = runbook.DefaultApprovalTimeout
	}
	return o
}

func (o Options) validate() error {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if o.Queue == nil {
		errs = append(errs, errors.New("queue is required"))
	}
	if o.LeaseTTL < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("lease TTL %s is under 100ms", o.LeaseTTL))
	}
	if o.LogLimit < 1024 || o.OutputLimit < 1024 {
		errs = append(errs, errors.New("log and output limits must be at least 1 KiB"))
	}
	return errors.Join(errs...)
}

// Executor starts and runs executions.
type Executor struct {
	opts  Options
	st    store.Store
	q     Enqueuer
	lib   atomic.Pointer[runbook.Library] // swapped by SetRunbooks (content reload)
	log   *slog.Logger
	now   func() time.Time
	owner string // this process, in lease owners
}

var _ runbook.Starter = (*Executor)(nil)

// New returns an Executor. Register its workers on the job queue
// (Register) before the queue starts.
func New(o Options) (*Executor, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("execution: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	clock := o.Clock
	x := &Executor{opts: o, st: o.Store, q: o.Queue, log: o.Logger,
		now: func() time.Time { return clock().UTC().Truncate(time.Microsecond) }, owner: "w" + hex.EncodeToString(b[:])}
	x.lib.Store(o.Runbooks)
	return x, nil
}

// SetResults sets the ResultRecorder, for wiring where the recorder (the
// rule engine) is built after the executor it starts runbooks through.
// Call it before the job queue starts.
func (x *Executor) SetResults(r ResultRecorder) { x.opts.Results = r }

// Runbooks returns the executor's runbook library.
func (x *Executor) Runbooks() *runbook.Library { return x.lib.Load() }

// SetRunbooks replaces the runbook library (a content reload): executions
// started afterwards, and later steps of running ones, use lib.
func (x *Executor) SetRunbooks(lib *runbook.Library) { x.lib.Store(lib) }

// Errors Start, Approve, Deny and Cancel return; test with errors.Is.
var (
	// ErrUnknownRunbook: no runbook by that name for the tenant.
	ErrUnknownRunbook = errors.New("no such runbook")
	// ErrInvalid: the request is wrong (targets, OpsItem, depth); the
	// message says how.
	ErrInvalid = errors.New("invalid request")
	// ErrState: the execution is not in a state that allows the call
	// (already ended, not waiting for approval).
	ErrState = errors.New("execution state does not allow this")
	// ErrNotApprover: the caller may not decide on this approval.
	ErrNotApprover = errors.New("not an approver")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

type tenantKey struct{}

// TenantFromContext returns the tenant of the execution whose step is
// running with ctx ("" outside one). Actions that reach other systems
// (the agent dispatcher) use it to refuse targets of another tenant.
func TenantFromContext(ctx context.Context) string {
	t, _ := ctx.Value(tenantKey{}).(string)
	return t
}
