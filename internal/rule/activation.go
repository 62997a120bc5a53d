package rule

import (
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/flywheel-ops/flywheel/internal/celevent"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// eventFields are the fields rule expressions may name on `event`: those
// correlation sees (celevent) but "application", which is not resolved
// before rules run (see celevent.NewWithoutApplication).
var eventFields = celevent.EventFields[:len(celevent.EventFields)-1]

// opsItemFields are the fields expressions see on `opsitem`.
var opsItemFields = []string{
	"id", "title", "description", "category", "severity", "status", "source",
	"rule", "group_key", "occurrences", "flapping", "created_at", "first_event_at", "last_event_at",
}

func indexOf(fields []string) map[string]int {
	m := make(map[string]int, len(fields))
	for i, f := range fields {
		m[f] = i
	}
	return m
}

var (
	eventIndex   = indexOf(eventFields)
	opsItemIndex = indexOf(opsItemFields)
)

// opsItemPosition is an opsitem field's index, or -1.
func opsItemPosition(name string) int {
	if i, ok := opsItemIndex[name]; ok {
		return i
	}
	return -1
}

// activation is the CEL input of one evaluation: celevent's `event` and
// `opsitem`. Evaluate builds one per event and shares it between every
// rule, so each field is converted at most once, and only if an expression
// reads it. It is not safe for concurrent use.
type activation = celevent.Activation

func newActivation(e *event.Event, o *store.OpsItem) *activation {
	if o == nil {
		o = &store.OpsItem{}
	}
	oi := celevent.NewRecord(opsItemFields, opsItemPosition, func(i int) ref.Val { return opsItemField(o, i) })
	return celevent.NewWithoutApplication(e).With("opsitem", oi)
}

func opsItemField(o *store.OpsItem, i int) ref.Val {
	switch opsItemFields[i] {
	case "id":
		return types.String(o.ID)
	case "title":
		return types.String(o.Title)
	case "description":
		return types.String(o.Description)
	case "category":
		return types.String(o.Category)
	case "severity":
		return types.String(o.Severity)
	case "status":
		return types.String(o.Status)
	case "source":
		return types.String(o.Source)
	case "rule":
		return types.String(o.Rule)
	case "group_key":
		return types.String(o.GroupKey)
	case "occurrences":
		return types.Int(o.Occurrences)
	case "flapping":
		return types.Bool(o.Flapping)
	case "created_at":
		return types.Timestamp{Time: o.CreatedAt}
	case "first_event_at":
		return types.Timestamp{Time: o.FirstEventAt}
	case "last_event_at":
		return types.Timestamp{Time: o.LastEventAt}
	}
	return types.NullValue
}
