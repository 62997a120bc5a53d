package runbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Param is a compiled parameter declaration.
type Param struct {
	Name        string    `json:"name"`
	Type        ParamType `json:"type"`
	Description string    `json:"description,omitempty"`
	// Default is the typed default (nil for none).
	Default  any    `json:"default,omitempty"`
	Required bool   `json:"required,omitempty"`
	Allowed  []any  `json:"allowed,omitempty"`
	Pattern  string `json:"pattern,omitempty"`
	Secret   bool   `json:"secret,omitempty"`
	re       *regexp.Regexp
}

var paramNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// compileParam checks one declaration.
func compileParam(ps ParamSpec, path string) (Param, []error) {
	p := Param{Name: ps.Name, Type: ps.Type, Description: ps.Description, Required: ps.Required, Pattern: ps.Pattern, Secret: ps.Secret}
	var errs []error
	if !paramNameRE.MatchString(ps.Name) {
		errs = append(errs, fieldErrf(path+".name", "%q is not a valid parameter name (letters, digits and _, not starting with a digit)", ps.Name))
	}
	if ps.Type == "" {
		p.Type = TypeString
	} else if !slices.Contains(ParamTypes, ps.Type) {
		errs = append(errs, fieldErrf(path+".type", "%q is not a parameter type (%s)", ps.Type, typeList()))
		return p, errs
	}
	if ps.Pattern != "" {
		if p.Type != TypeString && p.Type != TypeList {
			errs = append(errs, fieldErrf(path+".pattern", "applies to string (and list of string) parameters only"))
		}
		re, err := regexp.Compile("^(?:" + ps.Pattern + ")$")
		if err != nil {
			errs = append(errs, fieldErrf(path+".pattern", "%v", err))
		}
		p.re = re
	}
	for i, a := range ps.Allowed {
		v, err := p.coerce(a)
		if err != nil {
			errs = append(errs, fieldErrf(fmt.Sprintf("%s.allowed[%d]", path, i), "%v", err))
			continue
		}
		p.Allowed = append(p.Allowed, v)
	}
	if ps.Default != nil {
		if ps.Required {
			errs = append(errs, fieldErrf(path+".default", "a required parameter has no default"))
		}
		v, err := p.Check(ps.Default)
		if err != nil {
			errs = append(errs, fieldErrf(path+".default", "%v", err))
		} else {
			p.Default = v
		}
	}
	return p, errs
}

func typeList() string {
	s := make([]string, len(ParamTypes))
	for i, t := range ParamTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// Check coerces v to the parameter's type and checks allowed and pattern.
func (p *Param) Check(v any) (any, error) {
	out, err := p.coerce(v)
	if err != nil {
		return nil, err
	}
	if len(p.Allowed) > 0 && !slices.ContainsFunc(p.Allowed, func(a any) bool { return reflect.DeepEqual(a, out) }) {
		return nil, fmt.Errorf("%s is not one of the allowed values %s", show(out), show(p.Allowed))
	}
	if p.re != nil {
		var strs []string
		switch o := out.(type) {
		case string:
			strs = []string{o}
		case []any:
			for _, e := range o {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("list item %s is not a string (the pattern applies to strings)", show(e))
				}
				strs = append(strs, s)
			}
		}
		for _, s := range strs {
			if !p.re.MatchString(s) {
				return nil, fmt.Errorf("%q does not match the pattern %s", s, p.Pattern)
			}
		}
	}
	return out, nil
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// coerce converts v (from YAML, JSON or a command-line string) to the
// parameter's type: int → int64, number → float64, duration → its
// canonical string ("1m30s"), list → []any, map → map[string]any.
func (p *Param) coerce(v any) (any, error) {
	v = Normalize(v)
	str, isStr := v.(string)
	switch p.Type {
	case TypeString, "":
		switch v := v.(type) {
		case string:
			return v, nil
		case int64, float64, bool:
			return format(v), nil
		}
	case TypeInt:
		switch v := v.(type) {
		case int64:
			return v, nil
		case float64:
			return nil, fmt.Errorf("%v is not a whole number", v)
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an int", v)
			}
			return i, nil
		}
	case TypeNumber:
		switch v := v.(type) {
		case int64:
			return float64(v), nil
		case float64:
			return v, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%q is not a number", v)
			}
			return f, nil
		}
	case TypeBool:
		switch v := v.(type) {
		case bool:
			return v, nil
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("%q is not a bool (true or false)", v)
			}
			return b, nil
		}
	case TypeDuration:
		if isStr {
			d, err := time.ParseDuration(strings.TrimSpace(str))
			if err != nil {
				return nil, fmt.Errorf("%q is not a duration (e.g. 90s, 5m, 1h30m)", str)
			}
			if d < 0 {
				return nil, fmt.Errorf("%q is negative", str)
			}
			return d.String(), nil
		}
	case TypeList:
		switch v := v.(type) {
		case []any:
			return v, nil
		case string:
			s := strings.TrimSpace(v)
			if strings.HasPrefix(s, "[") {
				var out []any
				if err := json.Unmarshal([]byte(s), &out); err != nil {
					return nil, fmt.Errorf("not a JSON list: %v", err)
				}
				return Normalize(out), nil
			}
			out := []any{}
			if s != "" {
				for _, e := range strings.Split(s, ",") {
					out = append(out, strings.TrimSpace(e))
				}
			}
			return out, nil
		}
	case TypeMap:
		switch v := v.(type) {
		case map[string]any:
			return v, nil
		case string:
			var out map[string]any
			if err := json.Unmarshal([]byte(v), &out); err != nil {
				return nil, fmt.Errorf("not a JSON object: %v", err)
			}
			return Normalize(out), nil
		}
	}
	return nil, fmt.Errorf("%s is %s, not %s", show(v), kindOf(v), article(p.Type))
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case int64:
		return "an int"
	case float64:
		return "a number"
	case bool:
		return "a bool"
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	}
	return fmt.Sprintf("a %T", v)
}

func article(t ParamType) string {
	if t == TypeInt {
		return "an int"
	}
	return "a " + string(t)
}

// ParamError is a problem with the parameters of a start request.
type ParamError struct {
	Errs []error
}

func (e *ParamError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return "invalid parameters: " + strings.Join(msgs, "; ")
}

// ResolveParams checks given parameters against the declarations and
// applies defaults. Unknown names, wrong types, missing required values,
// values outside allowed and pattern mismatches are all reported, as one
// *ParamError.
func (rb *Runbook) ResolveParams(given map[string]any) (map[string]any, error) {
	out := map[string]any{}
	var errs []error
	for name := range given {
		if rb.param(name) == nil {
			errs = append(errs, fmt.Errorf("unknown parameter %q%s", name, rb.paramHint()))
		}
	}
	for i := range rb.Params {
		p := &rb.Params[i]
		v, ok := given[p.Name]
		if !ok || v == nil {
			switch {
			case p.Default != nil:
				out[p.Name] = p.Default
			case p.Required:
				errs = append(errs, fmt.Errorf("parameter %q is required", p.Name))
			}
			continue
		}
		cv, err := p.Check(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("parameter %q: %w", p.Name, err))
			continue
		}
		out[p.Name] = cv
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, &ParamError{Errs: errs}
	}
	return out, nil
}

func (rb *Runbook) param(name string) *Param {
	for i := range rb.Params {
		if rb.Params[i].Name == name {
			return &rb.Params[i]
		}
	}
	return nil
}

func (rb *Runbook) paramHint() string {
	if len(rb.Params) == 0 {
		return " (the runbook takes none)"
	}
	names := make([]string, len(rb.Params))
	for i, p := range rb.Params {
		names[i] = p.Name
	}
	return " (parameters: " + strings.Join(names, ", ") + ")"
}

// IsParamError reports whether err is about the request's parameters.
func IsParamError(err error) bool {
	var pe *ParamError
	return errors.As(err, &pe)
}
