package correlate

import (
	"github.com/flywheel-ops/flywheel/internal/celevent"
	"github.com/flywheel-ops/flywheel/internal/event"
)

// eventFields are the fields correlation expressions see on `event`.
var eventFields = celevent.EventFields

// fieldIndex is the index of an event field, or -1.
func fieldIndex(name string) int { return celevent.FieldIndex(name) }

// activation is the CEL input for one event: the single variable `event`,
// the activation automation rules use too (celevent). It is built once
// per Match and shared by every rule tried.
type activation = celevent.Activation

func newActivation(e *event.Event) *activation { return celevent.New(e) }
