// Package awsspec is the `aws` step action's input schema without the AWS
// SDK: which services and operations steps may call, and each operation's
// input shape (the subpackages mirror the SDK's input types, generated
// from them by a test in package aws). Content validation checks aws steps
// here, so validating a runbook never builds or links the SDK; the aws
// package parses steps the same way (Parse) and calls the SDK.
package awsspec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

// Call is a parsed aws step.
type Call struct {
	Service, Operation string
	// Input is the decoded input (*XxxInput of the type newInput made);
	// nil when the step's input is an expression checked when rendered.
	Input   any
	Region  string
	Timeout time.Duration
}

// Parse reads an aws step's inputs from r, decoding its input into the
// type newInput makes for the service and operation (the mirror's when
// validating, the SDK's when running). Problems are recorded on r.
func Parse(r *with.Reader, newInput func(service, operation string) func() any) Call {
	r.Require("service", "operation")
	var c Call
	c.Service, _ = r.String("service")
	c.Operation, _ = r.String("operation")
	c.Region, _ = r.String("region")
	c.Timeout, _ = r.Duration("timeout")
	raw, hasInput := r.JSON("input")
	if hasInput {
		if _, isMap := raw.(map[string]any); !isMap {
			r.Errorf("input", "is not a map of the operation's parameters")
			return c
		}
	}
	if c.Service == "" || c.Operation == "" {
		r.Any("input")
		return c
	}
	ops, ok := inputs[c.Service]
	if !ok {
		r.Errorf("service", "%q is not a supported service (%s)", c.Service, strings.Join(Services(), ", "))
		return c
	}
	if _, ok := ops[c.Operation]; !ok {
		r.Errorf("operation", "%s %q is not a supported operation (%s)", c.Service, c.Operation, strings.Join(Operations(c.Service), ", "))
		return c
	}
	if !hasInput {
		if r.Has("input") {
			return c // an expression, checked when rendered
		}
		raw = map[string]any{}
	}
	in, err := decodeInput(newInput(c.Service, c.Operation)(), raw.(map[string]any), r.Validating())
	if err != nil {
		r.Errorf("input", "%v", err)
	}
	c.Input = in
	return c
}

// decodeInput fills the input struct in from m. Member names are the
// API's (InstanceId, IpPermissions, …), matched case-insensitively as the
// AWS CLI's JSON input is. Unknown members are errors. While validating,
// an input holding expressions is checked by member name only.
func decodeInput(in any, m map[string]any, validating bool) (any, error) {
	if validating && hasExpr(m) {
		t := reflect.TypeOf(in).Elem()
		for k := range m {
			if _, ok := t.FieldByNameFunc(func(f string) bool { return strings.EqualFold(f, k) }); !ok || strings.EqualFold(k, "noSmithyDocumentSerde") {
				return nil, fmt.Errorf("%s has no member %q", t.Name(), k)
			}
		}
		return in, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		name := reflect.TypeOf(in).Elem().Name()
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute) && ute.Field != "":
			return nil, fmt.Errorf("%s.%s: a JSON %s cannot be a %s", name, ute.Field, ute.Value, ute.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return nil, fmt.Errorf("%s has no member %s", name, strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return in, nil
}

func hasExpr(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if hasExpr(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasExpr(e) {
				return true
			}
		}
	default:
		return with.IsExpr(v)
	}
	return false
}

// Services lists the supported services.
func Services() []string {
	s := make([]string, 0, len(inputs))
	for k := range inputs {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Operations lists a service's supported operations.
func Operations(service string) []string {
	ops := inputs[service]
	s := make([]string, 0, len(ops))
	for k := range ops {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Validator is the aws action for validating content only: it checks a
// step against the mirrored input types and cannot run.
type Validator struct{}

var _ action.Action = Validator{}

// Name implements action.Action.
func (Validator) Name() string { return "aws" }

// Validate implements action.Action.
func (Validator) Validate(m map[string]any) error {
	r := with.ForValidate(m)
	Parse(r, mirrorInput)
	return r.Err()
}

// Run implements action.Action: a Validator never runs.
func (Validator) Run(context.Context, action.Input) (action.Output, error) {
	return action.Output{}, errors.New("aws: this server's aws action only validates steps")
}

func mirrorInput(service, operation string) func() any { return inputs[service][operation] }
