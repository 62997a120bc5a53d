// Package replay backtests content on a recorded event stream: it feeds the
// stream through the same intake adapters and pipeline Engine as the live
// server, in event time, against a throw-away store, and reports what the
// pipeline would have done. Users tune correlation, silences and windows on
// last week's alerts this way; it touches no live data.
package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

// Tenant is the tenant replayed events belong to in the scratch store.
const Tenant = "replay"

// Options configure a replay.
type Options struct {
	// Input is NDJSON: one intake body per line. A line is an Alertmanager
	// webhook body unless it is an envelope {"source": NAME, "body": {…}}
	// naming another adapter (optionally with "received_at").
	Input io.Reader
	// Adapter returns the adapter for a source name.
	Adapter func(name string) (intake.Adapter, bool)
	// Engine is the pipeline to replay through (built from content).
	Engine *pipeline.Engine
	// Setup, when set, runs once in the scratch store before the replay
	// (e.g. to create silences and maintenance windows from content).
	Setup func(ctx context.Context, tx store.Tx, tenant string) error
	// ScratchDir holds the throw-away database (default: a temp dir, removed).
	ScratchDir string
}

// Report is what the pipeline did with the stream.
type Report struct {
	Received       int64            `json:"received"`
	OpsItems       []OpsItem        `json:"opsitems"`
	Suppressed     map[string]int64 `json:"suppressed"`
	NoiseReduction float64          `json:"noise_reduction"`
	// Deduplicated counts repeats of a known alert state.
	Deduplicated int64 `json:"deduplicated"`
}

// OpsItem is one OpsItem the replay opened.
type OpsItem struct {
	Title        string   `json:"title"`
	Category     string   `json:"category"`
	Severity     string   `json:"severity"`
	Status       string   `json:"status"`
	Rule         string   `json:"rule,omitempty"`
	Flapping     bool     `json:"flapping,omitempty"`
	Fingerprints []string `json:"fingerprints"`
	// RootCause is the probable root cause: the member most upstream in
	// the application dependency graph, else the most severe, earliest.
	RootCause *pipeline.RootCause `json:"root_cause,omitempty"`
	// Joins say why each member joined after the first: what it shares
	// with the group and how long after the group's first event it came.
	Joins []Join `json:"joins,omitempty"`
}

// Join is one event joining an OpsItem's group.
type Join struct {
	At          time.Time `json:"at"`
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
	Reason      string    `json:"reason"`
}

type envelope struct {
	Source     string          `json:"source"`
	Body       json.RawMessage `json:"body"`
	ReceivedAt time.Time       `json:"received_at"`
}

// Run replays the input and returns the report.
func Run(ctx context.Context, o Options) (Report, error) {
	rep := Report{Suppressed: map[string]int64{"silence": 0, "maintenance": 0, "transient": 0, "flapping": 0, "inhibited": 0}}
	evs, err := readEvents(ctx, o)
	if err != nil {
		return rep, err
	}
	dir := o.ScratchDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "flywheel-replay-"); err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "replay.db"), sqlite.Options{})
	if err != nil {
		return rep, err
	}
	defer st.Close()
	start := time.Unix(0, 0).UTC()
	if len(evs) > 0 {
		start = evs[0].OccurredAt
	}
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: Tenant, Name: "replay", CreatedAt: start}); err != nil {
			return err
		}
		if o.Setup != nil {
			return o.Setup(ctx, tx, Tenant)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	add := func(c pipeline.Counts) {
		rep.Received += c.Received
		rep.Deduplicated += c.Deduplicated
		for k, v := range c.Suppressed {
			rep.Suppressed[k] += v
		}
	}
	en := o.Engine
	for i := range evs {
		e := &evs[i]
		err := st.InTx(ctx, func(tx store.Tx) error {
			if _, err := en.Tick(ctx, tx, e.ReceivedAt); err != nil {
				return err
			}
			_, c, err := en.Process(ctx, tx, Tenant, evs[i:i+1])
			add(c)
			return err
		})
		if err != nil {
			return rep, err
		}
	}
	// Let every hold and flap window run out.
	end := start.Add(365 * 24 * time.Hour)
	if len(evs) > 0 {
		end = evs[len(evs)-1].OccurredAt.Add(30 * 24 * time.Hour)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { _, err := en.Tick(ctx, tx, end); return err }); err != nil {
		return rep, err
	}
	if rep.OpsItems, err = collect(ctx, st); err != nil {
		return rep, err
	}
	if rep.Received > 0 {
		rep.NoiseReduction = 1 - float64(len(rep.OpsItems))/float64(rep.Received)
	}
	return rep, nil
}

// Events parses the input as Run does, without replaying it: the events
// in event-time order (for learning from history, internal/correlate/learn).
func Events(ctx context.Context, o Options) ([]event.Event, error) { return readEvents(ctx, o) }

// readEvents parses every line with its adapter and orders the events by
// event time (stable, so a line's own order is kept for equal times).
func readEvents(ctx context.Context, o Options) ([]event.Event, error) {
	sc := bufio.NewScanner(o.Input)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var all []event.Event
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		source, body, received := "alertmanager", b, time.Time{}
		var env envelope
		if json.Unmarshal(b, &env) == nil && env.Source != "" && len(env.Body) > 0 {
			source, body, received = env.Source, env.Body, env.ReceivedAt
		}
		ad, ok := o.Adapter(source)
		if !ok {
			return nil, fmt.Errorf("line %d: no intake source %q", line, source)
		}
		res, err := ad.Parse(ctx, intake.Request{Body: append([]byte(nil), body...)})
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", line, source, err)
		}
		for _, e := range res.Events {
			if e.OccurredAt.IsZero() {
				e.OccurredAt = received
			}
			at := e.OccurredAt
			if e.Status == event.StatusResolved && !e.EndsAt.IsZero() {
				at = e.EndsAt
			}
			if !received.IsZero() {
				at = received
			}
			e.ReceivedAt = at
			all = append(all, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].ReceivedAt.Before(all[j].ReceivedAt) })
	for i := range all {
		// The engine's clock in replay is the time each event arrived.
		if all[i].OccurredAt.After(all[i].ReceivedAt) || all[i].OccurredAt.IsZero() {
			all[i].OccurredAt = all[i].ReceivedAt
		}
	}
	return all, nil
}

func collect(ctx context.Context, st store.Store) ([]OpsItem, error) {
	var out []OpsItem
	cursor := ""
	for {
		items, next, err := st.ListOpsItems(ctx, Tenant, store.OpsItemFilter{}, store.Page{Limit: store.MaxPageLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			ms, err := st.ListOpsItemMembers(ctx, Tenant, o.ID)
			if err != nil {
				return nil, err
			}
			r := OpsItem{Title: o.Title, Category: o.Category, Severity: o.Severity, Status: o.Status, Rule: o.Rule, Flapping: o.Flapping, Fingerprints: []string{}}
			for _, m := range ms {
				r.Fingerprints = append(r.Fingerprints, m.Fingerprint)
			}
			sort.Strings(r.Fingerprints)
			if rc, ok := pipeline.RootCauseOf(o); ok {
				r.RootCause = &rc
			}
			if r.Joins, err = joins(ctx, st, o.ID); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	// Oldest first reads like the storm unfolding.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// joins lists the events that joined an OpsItem's group, oldest first,
// with the pipeline's reason: one per fingerprint (its first join).
func joins(ctx context.Context, st store.Store, id string) ([]Join, error) {
	var out []Join
	seen := map[string]bool{}
	cursor := ""
	for {
		evs, next, err := st.ListEvents(ctx, Tenant, store.EventFilter{OpsItemID: id, Decision: pipeline.DecisionAttached},
			store.Page{Limit: store.MaxPageLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out = append(out, Join{At: e.OccurredAt, Fingerprint: e.Fingerprint, Title: e.Title, Reason: e.Reason})
		}
		if next == "" {
			break
		}
		cursor = next
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	firsts := out[:0]
	for _, j := range out {
		if !seen[j.Fingerprint] {
			seen[j.Fingerprint] = true
			firsts = append(firsts, j)
		}
	}
	return firsts, nil
}
