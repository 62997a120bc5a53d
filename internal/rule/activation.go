package rule

import (
	"reflect"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

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

var adapter = types.DefaultTypeAdapter

// activation is the CEL input of one evaluation: celevent's `event` and
// `opsitem`. Evaluate builds one per event and shares it between every
// rule, so each field is converted at most once, and only if an expression
// reads it. It is not safe for concurrent use.
type activation = celevent.Activation

func newActivation(e *event.Event, o *store.OpsItem) *activation {
	if o == nil {
		o = &store.OpsItem{}
	}
	oi := &lazyMap{names: opsItemFields, index: opsItemIndex, vals: make([]ref.Val, len(opsItemFields)),
		build: func(i int) ref.Val { return opsItemField(o, i) }}
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

// lazyMap is a record seen as a CEL map(string, dyn) without copying it
// into one: lookups (the common case) convert one field on first use and
// keep it; whole-map operations (equality, iteration) materialize it.
type lazyMap struct {
	names []string
	index map[string]int
	vals  []ref.Val
	build func(i int) ref.Val
}

var _ traits.Mapper = (*lazyMap)(nil)

func (m *lazyMap) field(i int) ref.Val {
	if v := m.vals[i]; v != nil {
		return v
	}
	v := m.build(i)
	m.vals[i] = v
	return v
}

// Find implements traits.Mapper; field selection calls it.
func (m *lazyMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	i, ok := m.index[string(k)]
	if !ok {
		return nil, false
	}
	return m.field(i), true
}

func (m *lazyMap) Get(key ref.Val) ref.Val {
	if v, ok := m.Find(key); ok {
		return v
	}
	return types.ValOrErr(key, "no such key: %v", key)
}

func (m *lazyMap) Contains(key ref.Val) ref.Val {
	_, ok := m.Find(key)
	return types.Bool(ok)
}

func (m *lazyMap) Size() ref.Val               { return types.Int(len(m.names)) }
func (m *lazyMap) Type() ref.Type              { return types.MapType }
func (m *lazyMap) Iterator() traits.Iterator   { return m.materialize().Iterator() }
func (m *lazyMap) Equal(other ref.Val) ref.Val { return m.materialize().Equal(other) }
func (m *lazyMap) Value() any                  { return m.materialize().Value() }
func (m *lazyMap) ConvertToNative(t reflect.Type) (any, error) {
	return m.materialize().ConvertToNative(t)
}

func (m *lazyMap) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return m
	case types.TypeType:
		return types.MapType
	}
	return m.materialize().ConvertToType(t)
}

func (m *lazyMap) materialize() traits.Mapper {
	out := make(map[string]any, len(m.names))
	for i, name := range m.names {
		out[name] = m.field(i)
	}
	return types.NewStringInterfaceMap(adapter, out)
}
