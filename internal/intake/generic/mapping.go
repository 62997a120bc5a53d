package generic

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
)

// Mapping turns one foreign JSON shape into an event. Every expression is
// CEL over the variable body, the decoded request body; all but Name and
// Title are optional. String fields must produce a string (null counts as
// not given); Match must produce a bool. It is the spec of an
// IntakeMapping content document; the yaml tags are its field names.
//
//	name: grafana
//	match: has(body.alerts) && has(body.orgId)
//	title: body.title
//	severity: 'body.?commonLabels.severity.orValue("warning")'
//	status: body.status
//	labels:
//	  rule: body.alerts[0].labels.alertname
type Mapping struct {
	Name  string `yaml:"name"`
	Match string `yaml:"match,omitempty"`

	Title       string            `yaml:"title"`
	Severity    string            `yaml:"severity,omitempty"`
	Status      string            `yaml:"status,omitempty"`
	Resource    string            `yaml:"resource,omitempty"`
	Fingerprint string            `yaml:"fingerprint,omitempty"`
	Description string            `yaml:"description,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	// ID is the upstream's id for this occurrence (Event.SourceID), so a
	// re-delivery is idempotent.
	ID string `yaml:"id,omitempty"`
	// Timestamp is when it happened: an RFC 3339 string or a CEL timestamp.
	// Default: when the request arrived.
	Timestamp string `yaml:"timestamp,omitempty"`
}

var mappingName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// program is one compiled expression and the field it fills.
type program struct {
	field string // as users write it: "title", "labels.team"
	prg   cel.Program
}

// compiled is a Mapping ready to evaluate; it is immutable and safe for
// concurrent use.
type compiled struct {
	name   string
	match  *program // nil: matches everything
	title  program
	others []program // severity, status, …: only those given
	labels []program // sorted by label name
}

// newEnv is the CEL environment of every mapping: body is dynamic JSON;
// optional field access (body.?x.orValue("")) and the strings extension
// make foreign shapes practical.
func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("body", cel.DynType),
		cel.OptionalTypes(),
		ext.Strings(),
	)
}

// compileMappings compiles every mapping and reports every problem at once,
// each naming the mapping and field.
func compileMappings(env *cel.Env, mappings []Mapping, costLimit uint64) ([]*compiled, error) {
	var errs []error
	out := make([]*compiled, 0, len(mappings))
	seen := map[string]bool{}
	for i, m := range mappings {
		where := fmt.Sprintf("mapping %q", m.Name)
		switch {
		case m.Name == "":
			where = fmt.Sprintf("mappings[%d]", i)
			errs = append(errs, fmt.Errorf("%s: name is required", where))
		case !mappingName.MatchString(m.Name):
			errs = append(errs, fmt.Errorf("%s: name must be letters, digits, '.', '_' or '-' (at most 63)", where))
		case seen[m.Name]:
			errs = append(errs, fmt.Errorf("%s: name used twice", where))
		}
		seen[m.Name] = true

		c := &compiled{name: m.Name}
		compile := func(field, src string, want ...*cel.Type) *program {
			prg, err := compileExpr(env, src, costLimit, want)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", where, field, err))
				return nil
			}
			return &program{field: field, prg: prg}
		}
		if m.Match != "" {
			c.match = compile("match", m.Match, cel.BoolType)
		}
		if m.Title == "" {
			errs = append(errs, fmt.Errorf("%s: title is required", where))
		} else if p := compile("title", m.Title, cel.StringType); p != nil {
			c.title = *p
		}
		for _, f := range []struct{ field, src string }{
			{"severity", m.Severity}, {"status", m.Status}, {"resource", m.Resource},
			{"fingerprint", m.Fingerprint}, {"description", m.Description}, {"id", m.ID},
		} {
			if f.src != "" {
				if p := compile(f.field, f.src, cel.StringType); p != nil {
					c.others = append(c.others, *p)
				}
			}
		}
		if m.Timestamp != "" {
			if p := compile("timestamp", m.Timestamp, cel.StringType, cel.TimestampType); p != nil {
				c.others = append(c.others, *p)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
			if k == "" {
				errs = append(errs, fmt.Errorf("%s: labels: empty label name", where))
				continue
			}
			if p := compile("labels."+k, m.Labels[k], cel.StringType); p != nil {
				c.labels = append(c.labels, *p)
			}
		}
		out = append(out, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// compileExpr parses and type-checks src and plans it with a cost limit.
// The result must be one of want, dyn (body's fields are dynamic) or null.
func compileExpr(env *cel.Env, src string, costLimit uint64, want []*cel.Type) (cel.Program, error) {
	ast, iss := env.Compile(src)
	if err := iss.Err(); err != nil {
		return nil, err
	}
	out := ast.OutputType()
	if !out.IsExactType(cel.DynType) && !out.IsExactType(cel.NullType) &&
		!slices.ContainsFunc(want, out.IsExactType) {
		return nil, fmt.Errorf("expression gives %s, want %s", out, typeNames(want))
	}
	return env.Program(ast,
		cel.CostLimit(costLimit),
		cel.InterruptCheckFrequency(100),
	)
}

func typeNames(ts []*cel.Type) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += " or "
		}
		s += t.String()
	}
	return s
}

// activation binds body once per request, converted to a CEL value once.
func activation(body any) (cel.Activation, error) {
	return cel.NewActivation(map[string]any{"body": types.DefaultTypeAdapter.NativeToValue(body)})
}

// matches evaluates the mapping's match expression.
func (c *compiled) matches(ctx context.Context, act cel.Activation) (bool, error) {
	if c.match == nil {
		return true, nil
	}
	v, err := c.match.eval(ctx, act)
	if err != nil {
		return false, err
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, &fieldError{"match", "expected a bool, got " + v.Type().TypeName()}
	}
	return bool(b), nil
}

// fields evaluates every expression of the mapping over one body.
func (c *compiled) fields(ctx context.Context, act cel.Activation) (fields, error) {
	f := fields{source: "generic:" + c.name}
	var err error
	if f.title, err = c.title.str(ctx, act); err != nil {
		return f, err
	}
	for _, p := range c.others {
		if p.field == "timestamp" {
			if f.timestamp, f.at, err = p.time(ctx, act); err != nil {
				return f, err
			}
			continue
		}
		s, err := p.str(ctx, act)
		if err != nil {
			return f, err
		}
		switch p.field {
		case "severity":
			f.severity = s
		case "status":
			f.status = s
		case "resource":
			f.resource = s
		case "fingerprint":
			f.fingerprint = s
		case "description":
			f.description = s
		case "id":
			f.id = s
		}
	}
	for _, p := range c.labels {
		s, err := p.str(ctx, act)
		if err != nil {
			return f, err
		}
		if s == "" {
			continue // null or empty: the label is absent, as in Prometheus
		}
		if f.labels == nil {
			f.labels = make(map[string]string, len(c.labels))
		}
		f.labels[p.field[len("labels."):]] = s
	}
	return f, nil
}

// eval runs the program; failures are the payload's (a missing key, a
// wrong type, the cost limit), except a cancelled request.
func (p *program) eval(ctx context.Context, act cel.Activation) (ref.Val, error) {
	v, _, err := p.prg.ContextEval(ctx, act)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, &fieldError{p.field, err.Error()}
	}
	return v, nil
}

// str evaluates a string expression; null gives "".
func (p *program) str(ctx context.Context, act cel.Activation) (string, error) {
	v, err := p.eval(ctx, act)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case types.String:
		return string(x), nil
	case types.Null:
		return "", nil
	}
	return "", &fieldError{p.field, "expected a string, got " + v.Type().TypeName()}
}

// time evaluates a timestamp expression: an RFC 3339 string (left for
// build to parse, so the message is the same as for the documented format)
// or a CEL timestamp.
func (p *program) time(ctx context.Context, act cel.Activation) (string, time.Time, error) {
	v, err := p.eval(ctx, act)
	if err != nil {
		return "", time.Time{}, err
	}
	switch x := v.(type) {
	case types.String:
		return string(x), time.Time{}, nil
	case types.Timestamp:
		return "", x.Time, nil
	case types.Null:
		return "", time.Time{}, nil
	}
	return "", time.Time{}, &fieldError{p.field, "expected a string or timestamp, got " + v.Type().TypeName()}
}
