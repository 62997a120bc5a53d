package rule

import (
	"reflect"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// eventFields are the fields expressions see on `event` — the same shape
// correlation rules see (internal/correlate), so one expression reads the
// same in both places.
var eventFields = []string{
	"source", "kind", "severity", "status", "title", "description",
	"labels", "annotations", "resources", "fingerprint",
}

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

// activation is the CEL input of one evaluation: `event` and `opsitem`.
// Evaluate builds one per event and shares it between every rule, so each
// field is converted at most once, and only if an expression reads it. It
// is not safe for concurrent use.
type activation struct {
	ev, oi lazyMap
}

var _ interpreter.Activation = (*activation)(nil)

func newActivation(e *event.Event, o *store.OpsItem) *activation {
	if e == nil {
		e = &event.Event{}
	}
	if o == nil {
		o = &store.OpsItem{}
	}
	a := &activation{}
	a.ev = lazyMap{names: eventFields, index: eventIndex, vals: make([]ref.Val, len(eventFields)),
		build: func(i int) ref.Val { return eventField(e, i) }}
	a.oi = lazyMap{names: opsItemFields, index: opsItemIndex, vals: make([]ref.Val, len(opsItemFields)),
		build: func(i int) ref.Val { return opsItemField(o, i) }}
	return a
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "event":
		return &a.ev, true
	case "opsitem":
		return &a.oi, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

func eventField(e *event.Event, i int) ref.Val {
	switch eventFields[i] {
	case "source":
		return types.String(e.Source)
	case "kind":
		return types.String(e.Kind)
	case "severity":
		return types.String(e.Severity)
	case "status":
		return types.String(e.Status)
	case "title":
		return types.String(e.Title)
	case "description":
		return types.String(e.Description)
	case "labels":
		return types.NewStringStringMap(adapter, e.Labels)
	case "annotations":
		return types.NewStringStringMap(adapter, e.Annotations)
	case "resources":
		rs := make([]ref.Val, len(e.Resources))
		for j, r := range e.Resources {
			// Every key is present, "" when the source did not say.
			rs[j] = types.NewStringStringMap(adapter, map[string]string{
				"type": r.Type, "id": r.ID, "region": r.Region, "account": r.Account,
			})
		}
		return types.NewRefValList(adapter, rs)
	case "fingerprint":
		return types.String(e.Fingerprint)
	}
	return types.NullValue
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
