package runbook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Redacted stands in views for the value of a parameter declared secret.
const Redacted = "[redacted]"

// Redact returns an execution and its steps as shown to people (API and
// UI views are built through it): each parameter its runbook declares
// `secret: true` reads Redacted in the parameters, and the parameter's
// value, wherever it shows in the execution's outputs or a step's inputs,
// outputs, log or error, is replaced by Redacted too.
func (l *Library) Redact(e store.Execution, steps []store.ExecutionStep) (store.Execution, []store.ExecutionStep) {
	rb, ok := l.Get(e.TenantID, e.Runbook)
	if !ok {
		return e, steps
	}
	var params map[string]any
	if json.Unmarshal(e.Parameters, &params) != nil {
		return e, steps
	}
	var secrets []string
	for _, p := range rb.Params {
		v, ok := params[p.Name]
		if !p.Secret || !ok {
			continue
		}
		params[p.Name] = Redacted
		for _, s := range secretForms(v) {
			if len(s) >= 3 { // shorter values would redact unrelated text
				secrets = append(secrets, s)
			}
		}
	}
	if len(secrets) == 0 && !hasSecret(rb) {
		return e, steps
	}
	e.Parameters, _ = json.Marshal(params)
	if len(secrets) == 0 {
		return e, steps
	}
	text := func(s string) string {
		for _, v := range secrets {
			s = strings.ReplaceAll(s, v, Redacted)
		}
		return s
	}
	raw := func(b json.RawMessage) json.RawMessage {
		if len(b) == 0 {
			return b
		}
		out := b
		for _, v := range secrets {
			out = bytes.ReplaceAll(out, []byte(v), []byte(Redacted))
		}
		if !json.Valid(out) {
			out, _ = json.Marshal(Redacted)
		}
		return out
	}
	e.Outputs = raw(e.Outputs)
	out := make([]store.ExecutionStep, len(steps))
	for i, st := range steps {
		st.Inputs, st.Outputs, st.Log, st.Error = raw(st.Inputs), raw(st.Outputs), text(st.Log), text(st.Error)
		out[i] = st
	}
	return e, out
}

// secretForms are the texts a secret value shows as: itself and, for a
// string, its JSON-escaped form; a list's items each.
func secretForms(v any) []string {
	switch v := v.(type) {
	case string:
		b, _ := json.Marshal(v)
		return []string{v, string(b[1 : len(b)-1])}
	case []any:
		var out []string
		for _, it := range v {
			out = append(out, secretForms(it)...)
		}
		return out
	default:
		return []string{fmt.Sprint(v)}
	}
}

func hasSecret(rb *Runbook) bool {
	for _, p := range rb.Params {
		if p.Secret {
			return true
		}
	}
	return false
}
