package notification

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Options configure a Service.
type Options struct {
	Store store.Store
	// Channels are the server's channels (Build).
	Channels map[string]notify.Channel
	// Notify sends; it must know Channels (notify.Options.Channels).
	// Nil: one built from Channels, Settings.Timeout and Outbound.
	Notify *notify.Notify
	// Outbound guards webhook and Slack addresses (outbound_allow); nil
	// refuses every loopback, private and link-local address.
	Outbound *outbound.Guard
	// Settings: timeout, attempts, backoff (config.Notifications, with
	// defaults applied).
	Settings config.Notifications
	Logger   *slog.Logger     // default: discard
	Clock    func() time.Time // default time.Now
	// Registerer receives the delivery metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// SyncEvery is how often the leader brings paged incidents in step
	// with their OpsItems (DefaultSyncEvery).
	SyncEvery time.Duration
}

// Service enqueues rules' notifications and delivers them.
type Service struct {
	st       store.Store
	channels map[string]notify.Channel
	notify   *notify.Notify
	settings config.Notifications
	log      *slog.Logger
	clock    func() time.Time
	queue    *jobs.Queue
	metrics  *metrics
	syncEach time.Duration
}

// New returns a Service; Register it with the job queue before use.
func New(o Options) *Service {
	o.Settings = o.Settings.WithDefaults()
	if o.Notify == nil {
		o.Notify = notify.New(notify.Options{Channels: o.Channels, ChannelsKnown: true, Timeout: o.Settings.Timeout, Outbound: o.Outbound})
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.SyncEvery <= 0 {
		o.SyncEvery = DefaultSyncEvery
	}
	return &Service{st: o.Store, channels: o.Channels, notify: o.Notify, settings: o.Settings, log: o.Logger, clock: o.Clock,
		metrics: newMetrics(o.Registerer, names(o.Channels)), syncEach: o.SyncEvery}
}

// Register adds the delivery job to q; call it before q starts.
func (s *Service) Register(q *jobs.Queue) error {
	s.queue = q
	if err := jobs.AddWorker(q, &worker{s: s}); err != nil {
		return err
	}
	return s.registerSync(q, s.syncEach)
}

// Args is one notification to deliver: which rule asked for it, on which
// OpsItem, through which channel. It holds no secret (River stores it):
// the channel is looked up by name when the job runs.
type Args struct {
	// ID names this notification (webhook payloads carry it, so a
	// receiver can drop a repeat; email Message-IDs derive from it).
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	OpsItemID string    `json:"opsitem_id"`
	Rule      string    `json:"rule"`
	Channel   string    `json:"channel"`
	Message   string    `json:"message"`
	At        time.Time `json:"at"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "notification" }

// Request is what Enqueue delivers (a rule's effect).
type Request struct {
	Tenant, OpsItemID, Rule, Channel, Message string
}

// Enqueue queues the delivery of r in tx, the transaction that processes
// the event whose rule asked for it: the job runs once tx commits and
// never if it rolls back. A channel the server does not have is recorded
// as failed in tx at once, with no job.
func (s *Service) Enqueue(ctx context.Context, tx store.Tx, r Request) error {
	at := s.clock().UTC()
	a := Args{ID: store.NewID("ntf", at), Tenant: r.Tenant, OpsItemID: r.OpsItemID, Rule: r.Rule, Channel: r.Channel, Message: r.Message, At: at}
	if _, ok := s.channels[r.Channel]; !ok {
		err := fmt.Errorf("%q is not a notification channel configured on this server (%s)", r.Channel, configured(s.channels))
		s.log.WarnContext(ctx, "rule notification not delivered", "tenant", r.Tenant, "rule", r.Rule, "channel", r.Channel, "opsitem", r.OpsItemID, "err", err)
		// Counted before commit: a rolled-back transaction over-counts,
		// which a failure counter may.
		s.metrics.outcomes.WithLabelValues(r.Channel, "failed").Inc()
		return s.recordTx(ctx, tx, a, outcome{err: err}, at)
	}
	if s.queue == nil {
		return errors.New("notification: not registered with a job queue")
	}
	return s.queue.InsertTx(ctx, tx, a, &river.InsertOpts{MaxAttempts: s.settings.Attempts})
}

// outcome is how one delivery ended.
type outcome struct {
	typ      string // the channel's type
	attempts int
	out      action.Output
	err      error
	retried  bool // err is final because attempts ran out (else: refused)
	// page, when set, is written with the outcome (an on-call channel's
	// incident).
	page *store.OnCallPage
}

type worker struct {
	river.WorkerDefaults[Args]
	s *Service
}

// Timeout leaves the send its own timeout and the record a moment more.
func (w *worker) Timeout(*river.Job[Args]) time.Duration {
	return w.s.settings.Timeout + 10*time.Second
}

// NextRetry doubles the backoff from Settings.Backoff up to MaxBackoff.
func (w *worker) NextRetry(job *river.Job[Args]) time.Time {
	d := w.s.settings.Backoff
	for i := 1; i < job.Attempt && d < w.s.settings.MaxBackoff; i++ {
		d *= 2
	}
	return time.Now().Add(min(d, w.s.settings.MaxBackoff))
}

func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	s, a := w.s, job.Args
	ch, ok := s.channels[a.Channel]
	if !ok {
		// Configured when the rule fired, gone since (a restart with
		// another configuration).
		err := fmt.Errorf("%q is not a notification channel configured on this server (%s)", a.Channel, configured(s.channels))
		s.record(ctx, a, outcome{attempts: job.Attempt, err: err})
		s.metrics.outcomes.WithLabelValues(a.Channel, "failed").Inc()
		return river.JobCancel(err)
	}
	start := time.Now()
	var (
		out  action.Output
		err  error
		page *store.OnCallPage
	)
	if sentBy(ch.Type) {
		e := pageEvent{action: actTrigger, tenant: a.Tenant, item: store.OpsItem{ID: a.OpsItemID}, rule: a.Rule, message: a.Message, at: a.At}
		if it, gerr := s.st.GetOpsItem(ctx, a.Tenant, a.OpsItemID); gerr == nil {
			e.item = it
		}
		out, err = s.sendOnCall(ctx, a.Channel, ch, e)
		if onCall(ch.Type) {
			now := s.clock().UTC()
			page = &store.OnCallPage{TenantID: a.Tenant, OpsItemID: a.OpsItemID, Channel: a.Channel, ChannelType: ch.Type,
				DedupKey: dedupKey(a.Tenant, a.OpsItemID), State: store.OnCallTriggered, CreatedAt: now, UpdatedAt: now}
		}
	} else {
		with := s.inputs(ctx, a, ch.Type)
		out, err = s.notify.Run(ctx, action.Input{With: with, ExecutionID: a.ID, Step: a.Rule, Attempt: job.Attempt, Logger: s.log, Now: s.clock})
	}
	s.metrics.duration.WithLabelValues(ch.Type).Observe(time.Since(start).Seconds())
	o := outcome{typ: ch.Type, attempts: job.Attempt, out: out, err: err}
	if err == nil {
		o.page = page
	}
	if err == nil {
		s.log.InfoContext(ctx, "rule notification delivered", "tenant", a.Tenant, "rule", a.Rule, "channel", a.Channel, "opsitem", a.OpsItemID, "attempt", job.Attempt)
		s.record(ctx, a, o)
		s.metrics.outcomes.WithLabelValues(a.Channel, "delivered").Inc()
		return nil
	}
	if !notify.Permanent(err) && job.Attempt < job.MaxAttempts {
		s.log.WarnContext(ctx, "rule notification not delivered; retrying", "tenant", a.Tenant, "rule", a.Rule, "channel", a.Channel,
			"opsitem", a.OpsItemID, "attempt", job.Attempt, "max_attempts", job.MaxAttempts, "err", err, "reply", notify.Reply(err))
		s.metrics.retries.WithLabelValues(a.Channel).Inc()
		return err
	}
	o.retried = !notify.Permanent(err)
	s.log.WarnContext(ctx, "rule notification failed", "tenant", a.Tenant, "rule", a.Rule, "channel", a.Channel,
		"opsitem", a.OpsItemID, "attempt", job.Attempt, "err", err, "reply", notify.Reply(err))
	s.record(ctx, a, o)
	s.metrics.outcomes.WithLabelValues(a.Channel, "failed").Inc()
	return river.JobCancel(err)
}

// inputs are the notify action's inputs for a: the message, with the
// OpsItem's severity and title as the subject.
func (s *Service) inputs(ctx context.Context, a Args, typ string) map[string]any {
	item := map[string]any{"id": a.OpsItemID}
	subject := "Flywheel: " + oneLine(a.Message)
	if o, err := s.st.GetOpsItem(ctx, a.Tenant, a.OpsItemID); err == nil {
		item = map[string]any{"id": o.ID, "title": o.Title, "severity": o.Severity, "category": o.Category, "status": o.Status}
		subject = fmt.Sprintf("[%s] %s", o.Severity, oneLine(o.Title))
	} else {
		s.log.WarnContext(ctx, "notification: OpsItem not readable; sending without its details", "opsitem", a.OpsItemID, "err", err)
	}
	text := fmt.Sprintf("%s\nOpsItem %s · rule %s", a.Message, a.OpsItemID, a.Rule)
	switch typ {
	case notify.ChannelSlack:
		// Event text must not page a channel or dress up a link.
		subject, text = slackEscape(subject), slackEscape(text)
	case notify.ChannelWebhook:
		return map[string]any{"channel": a.Channel, "payload": map[string]any{
			"kind": "flywheel.notification", "id": a.ID, "tenant": a.Tenant, "rule": a.Rule, "channel": a.Channel,
			"subject": subject, "message": a.Message, "opsitem": item, "at": a.At.Format(time.RFC3339Nano),
		}}
	case notify.ChannelEmail:
		subject = "[Flywheel] " + subject
	}
	return map[string]any{"channel": a.Channel, "subject": subject, "text": text}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// record writes o on the OpsItem's timeline and in the audit log.
func (s *Service) record(ctx context.Context, a Args, o outcome) {
	ctx = context.WithoutCancel(ctx)
	at := s.clock().UTC()
	if err := s.st.InTx(ctx, func(tx store.Tx) error { return s.recordTx(ctx, tx, a, o, at) }); err != nil {
		// The notification went (or did not) either way; a retry would
		// send it twice.
		s.log.ErrorContext(ctx, "notification outcome not recorded", "tenant", a.Tenant, "opsitem", a.OpsItemID, "channel", a.Channel, "err", err)
	}
}

func (s *Service) recordTx(ctx context.Context, tx store.Tx, a Args, o outcome, at time.Time) error {
	via := a.Channel
	if o.typ != "" {
		via += " (" + o.typ + ")"
	}
	detail := map[string]any{"id": a.ID, "rule": a.Rule, "channel": a.Channel, "attempts": o.attempts}
	if o.typ != "" {
		detail["type"] = o.typ
	}
	for _, k := range []string{"status", "message_id"} {
		if v, ok := o.out.Values[k]; ok {
			detail[k] = v
		}
	}
	kind, action, result := "notification", "notification.delivered", "ok"
	msg := fmt.Sprintf("Notified %s for rule %s", via, a.Rule)
	if o.attempts > 1 {
		msg += fmt.Sprintf(" after %d attempts", o.attempts)
	}
	if o.err != nil {
		action, result = "notification.failed", "failed: "+o.err.Error()
		switch {
		case o.attempts == 0:
			msg = fmt.Sprintf("Notification for rule %s not sent: %v", a.Rule, o.err)
		case o.retried:
			msg = fmt.Sprintf("Notification to %s for rule %s failed after %d attempts: %v", via, a.Rule, o.attempts, o.err)
		default:
			msg = fmt.Sprintf("Notification to %s for rule %s refused, not retried: %v", via, a.Rule, o.err)
		}
	}
	if o.page != nil {
		detail["dedup_key"] = o.page.DedupKey
		if err := tx.PutOnCallPage(ctx, *o.page); err != nil {
			return err
		}
	}
	if err := tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", at), TenantID: a.Tenant, OpsItemID: a.OpsItemID,
		At: at, Kind: kind, Message: msg, Actor: "rule:" + a.Rule}); err != nil {
		return err
	}
	_, err := audit.Append(ctx, tx, a.Tenant, at, audit.Entry{Actor: "system:notification", Action: action,
		Target: "opsitem/" + a.OpsItemID, Result: result, Detail: detail})
	return err
}
