package generic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// DefaultCostLimit bounds one evaluation of one mapping expression, in CEL
// cost units (roughly operations, string and list work by size): ample for
// field access and string functions, small enough that a hostile body cannot
// hold a request for long.
const DefaultCostLimit = 1_000_000

// Config configures the adapter.
type Config struct {
	// Mappings are tried in order by Parse.
	Mappings []Mapping
	// Clock gives the time of events whose payload has none; default time.Now.
	Clock func() time.Time
	// CostLimit bounds each expression evaluation; default DefaultCostLimit.
	CostLimit uint64
}

func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.CostLimit == 0 {
		c.CostLimit = DefaultCostLimit
	}
	return c
}

// Adapter is the "generic" intake adapter. It is immutable and safe for
// concurrent use.
type Adapter struct {
	now      func() time.Time
	mappings []*compiled
	byName   map[string]*compiled
}

var _ intake.Adapter = (*Adapter)(nil)

// New returns the adapter with the given mappings compiled; an error names
// every mapping and field that does not compile.
func New(mappings ...Mapping) (*Adapter, error) {
	return NewFromConfig(Config{Mappings: mappings})
}

// NewFromConfig is New with a clock and cost limit.
func NewFromConfig(cfg Config) (*Adapter, error) {
	cfg = cfg.withDefaults()
	a := &Adapter{now: cfg.Clock, byName: map[string]*compiled{}}
	if len(cfg.Mappings) == 0 {
		return a, nil
	}
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("generic: CEL environment: %w", err)
	}
	if a.mappings, err = compileMappings(env, cfg.Mappings, cfg.CostLimit); err != nil {
		return nil, err
	}
	for _, c := range a.mappings {
		a.byName[c.name] = c
	}
	return a, nil
}

// Name implements intake.Adapter.
func (*Adapter) Name() string { return "generic" }

// Parse implements intake.Adapter: the documented format first, then the
// first mapping whose match expression holds.
func (a *Adapter) Parse(ctx context.Context, req intake.Request) (intake.Result, error) {
	body := req.Body
	if len(bytes.TrimSpace(body)) == 0 {
		return intake.Result{}, intake.Badf("request body is empty")
	}
	if !json.Valid(body) {
		return intake.Result{}, intake.DecodeJSON(body, new(any))
	}
	events, err := a.documented(body)
	var notOurs *shapeError
	if !errors.As(err, &notOurs) {
		return intake.Result{Events: events}, err
	}
	if len(a.mappings) == 0 {
		return intake.Result{}, intake.Badf("%s", notOurs.msg)
	}

	act, err := bodyActivation(body)
	if err != nil {
		return intake.Result{}, err
	}
	var misses []string
	for _, c := range a.mappings {
		ok, err := c.matches(ctx, act)
		if ctx.Err() != nil {
			return intake.Result{}, context.Cause(ctx)
		}
		if err != nil {
			// A match that cannot be evaluated on this body (a missing key)
			// is a body of another shape: not a match.
			misses = append(misses, fmt.Sprintf("mapping %q: %v", c.name, err))
			continue
		}
		if ok {
			return a.fromMapping(ctx, c, act, body)
		}
	}
	msg := fmt.Sprintf("body is not a generic alert (%s) and no mapping matched it", notOurs.msg)
	if len(misses) > 0 {
		msg += " (" + strings.Join(misses, "; ") + ")"
	}
	return intake.Result{}, intake.Badf("%s", msg)
}

// ParseWith parses the body with the named mapping only, for routes that
// name their mapping. The mapping's match expression, if any, must hold. An
// unknown name is a 404 BadRequest.
func (a *Adapter) ParseWith(ctx context.Context, req intake.Request, mapping string) (intake.Result, error) {
	c, ok := a.byName[mapping]
	if !ok {
		return intake.Result{}, &intake.BadRequest{Status: http.StatusNotFound, Message: fmt.Sprintf("no intake mapping named %q", mapping)}
	}
	var body any
	if err := intake.DecodeJSON(req.Body, &body); err != nil {
		return intake.Result{}, err
	}
	act, err := activation(body)
	if err != nil {
		return intake.Result{}, err
	}
	match, err := c.matches(ctx, act)
	switch {
	case ctx.Err() != nil:
		return intake.Result{}, context.Cause(ctx)
	case err != nil:
		return intake.Result{}, intake.Badf("mapping %q: %v", c.name, err)
	case !match:
		return intake.Result{}, intake.Badf("mapping %q: body does not match (its match expression is false)", c.name)
	}
	return a.fromMapping(ctx, c, act, req.Body)
}

// fromMapping evaluates mapping c into one event whose Raw is the body.
func (a *Adapter) fromMapping(ctx context.Context, c *compiled, act cel.Activation, body []byte) (intake.Result, error) {
	f, err := c.fields(ctx, act)
	if err == nil {
		var ev event.Event
		if ev, err = build(f, a.now()); err == nil {
			ev.Raw = bytes.Clone(body)
			return intake.Result{Events: []event.Event{ev}}, nil
		}
	}
	if ctx.Err() != nil {
		return intake.Result{}, context.Cause(ctx)
	}
	return intake.Result{}, intake.Badf("mapping %q: %v", c.name, err)
}

// bodyActivation decodes an already validated body for the mappings.
func bodyActivation(body []byte) (cel.Activation, error) {
	var v any
	if err := intake.DecodeJSON(body, &v); err != nil {
		return nil, err
	}
	return activation(v)
}
