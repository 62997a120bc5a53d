package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// Alert is the documented generic alert (see the package documentation).
// Senders in Go, such as the CLI, can marshal it directly.
type Alert struct {
	Source       string            `json:"source,omitempty"`
	Title        string            `json:"title"`
	Severity     string            `json:"severity,omitempty"`
	Status       string            `json:"status,omitempty"`
	Resource     string            `json:"resource,omitempty"`
	ResourceType string            `json:"resource_type,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Description  string            `json:"description,omitempty"`
	Timestamp    string            `json:"timestamp,omitempty"`
	Kind         string            `json:"kind,omitempty"`
	ID           string            `json:"id,omitempty"`
	Fingerprint  string            `json:"fingerprint,omitempty"`
}

// shapeError says the body is valid JSON but not the documented format, so
// the mappings get their turn; msg is shown if none takes it.
type shapeError struct{ msg string }

func (e *shapeError) Error() string { return e.msg }

const shapeMsg = "expected a generic alert object (or array of them), got %s"

// documented parses body (valid JSON) as the documented format: one alert or
// an array of them. A body of another shape is a *shapeError; a body of this
// shape with a bad value is a *intake.BadRequest.
func (a *Adapter) documented(body []byte) ([]event.Event, error) {
	trimmed := bytes.TrimSpace(body)
	switch trimmed[0] {
	case '{':
		var al Alert
		if err := decodeStrict(trimmed, &al); err != nil {
			return nil, err
		}
		ev, err := a.alertEvent(al, "")
		if err != nil {
			return nil, err
		}
		ev.Raw = bytes.Clone(trimmed)
		return []event.Event{ev}, nil
	case '[':
		var items []json.RawMessage // copies: each becomes an event's Raw
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, intake.JSONError(trimmed, err)
		}
		alerts := make([]Alert, len(items))
		for i, it := range items {
			if err := decodeStrict(it, &alerts[i]); err != nil {
				var se *shapeError
				if errors.As(err, &se) {
					se.msg = fmt.Sprintf("[%d]: %s", i, se.msg)
				}
				return nil, err
			}
		}
		events := make([]event.Event, len(items))
		for i, al := range alerts {
			ev, err := a.alertEvent(al, fmt.Sprintf("[%d].", i))
			if err != nil {
				return nil, err
			}
			ev.Raw = items[i]
			events[i] = ev
		}
		return events, nil
	}
	return nil, &shapeError{fmt.Sprintf(shapeMsg, intake.Shape(trimmed))}
}

// decodeStrict decodes one valid JSON object into al, rejecting unknown
// fields and mistyped values as a *shapeError.
func decodeStrict(b []byte, al *Alert) error {
	if len(b) == 0 || b[0] != '{' {
		return &shapeError{fmt.Sprintf(shapeMsg, intake.Shape(b))}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(al)
	if err == nil {
		return nil
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if br, ok := intake.AsBadRequest(intake.JSONError(b, err)); ok {
			return &shapeError{br.Message}
		}
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &shapeError{"unknown field " + msg}
	}
	return intake.JSONError(b, err)
}

// alertEvent validates one documented alert; prefix locates it in a batch.
func (a *Adapter) alertEvent(al Alert, prefix string) (event.Event, error) {
	source := "generic"
	if s := strings.TrimSpace(al.Source); s != "" {
		source += ":" + s
	}
	ev, err := build(fields{
		source:       source,
		id:           al.ID,
		fingerprint:  al.Fingerprint,
		kind:         al.Kind,
		title:        al.Title,
		severity:     al.Severity,
		status:       al.Status,
		resource:     al.Resource,
		resourceType: al.ResourceType,
		description:  al.Description,
		timestamp:    al.Timestamp,
		labels:       al.Labels,
	}, a.now())
	if err != nil {
		return event.Event{}, intake.Badf("%s%v", prefix, err)
	}
	return ev, nil
}
