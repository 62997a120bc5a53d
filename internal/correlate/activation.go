package correlate

import (
	"reflect"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// eventFields are the fields expressions see on `event`, in display order.
var eventFields = [...]string{
	"source", "kind", "severity", "status", "title", "description",
	"labels", "annotations", "resources", "fingerprint", "application",
}

const (
	fSource = iota
	fKind
	fSeverity
	fStatus
	fTitle
	fDescription
	fLabels
	fAnnotations
	fResources
	fFingerprint
	fApplication
	nFields
)

func fieldIndex(name string) int {
	switch name {
	case "source":
		return fSource
	case "kind":
		return fKind
	case "severity":
		return fSeverity
	case "status":
		return fStatus
	case "title":
		return fTitle
	case "description":
		return fDescription
	case "labels":
		return fLabels
	case "annotations":
		return fAnnotations
	case "resources":
		return fResources
	case "fingerprint":
		return fFingerprint
	case "application":
		return fApplication
	}
	return -1
}

// activation is the CEL input for one event: the single variable `event`.
// It is built once per Match and shared by every rule tried, so each field
// is converted at most once per event, and only if some expression reads it.
// It is not safe for concurrent use; Match builds its own.
type activation struct {
	ev eventVal
}

var _ interpreter.Activation = (*activation)(nil)

func newActivation(e *event.Event) *activation { return &activation{ev: eventVal{e: e}} }

// withApplication sets what event.application reads: the name of the
// declared Application the event belongs to, or "".
func (a *activation) withApplication(name string) *activation {
	a.ev.app = name
	return a
}

func (a *activation) ResolveName(name string) (any, bool) {
	if name == "event" {
		return &a.ev, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// eventVal is an event seen as a CEL map(string, dyn) without copying it
// into one: lookups (the hot path) convert one field on first use and cache
// it; the rare whole-map operations (equality, iteration, conversion) work
// on a materialized map.
type eventVal struct {
	e      *event.Event
	app    string // event.application
	fields [nFields]ref.Val
}

var _ traits.Mapper = (*eventVal)(nil)

var adapter = types.DefaultTypeAdapter

func (v *eventVal) field(i int) ref.Val {
	if f := v.fields[i]; f != nil {
		return f
	}
	e := v.e
	var f ref.Val
	switch i {
	case fSource:
		f = types.String(e.Source)
	case fKind:
		f = types.String(e.Kind)
	case fSeverity:
		f = types.String(e.Severity)
	case fStatus:
		f = types.String(e.Status)
	case fTitle:
		f = types.String(e.Title)
	case fDescription:
		f = types.String(e.Description)
	case fLabels:
		f = types.NewStringStringMap(adapter, e.Labels)
	case fAnnotations:
		f = types.NewStringStringMap(adapter, e.Annotations)
	case fResources:
		rs := make([]ref.Val, len(e.Resources))
		for j, r := range e.Resources {
			// Every key is present, "" when the source did not say, so
			// r.region needs no has() guard.
			rs[j] = types.NewStringStringMap(adapter, map[string]string{
				"type": r.Type, "id": r.ID, "region": r.Region, "account": r.Account,
			})
		}
		f = types.NewRefValList(adapter, rs)
	case fFingerprint:
		f = types.String(e.Fingerprint)
	case fApplication:
		f = types.String(v.app)
	}
	v.fields[i] = f
	return f
}

// Find implements traits.Mapper; it is what field selection calls.
func (v *eventVal) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	i := fieldIndex(string(k))
	if i < 0 {
		return nil, false
	}
	return v.field(i), true
}

func (v *eventVal) Get(key ref.Val) ref.Val {
	if f, ok := v.Find(key); ok {
		return f
	}
	return types.ValOrErr(key, "no such key: %v", key)
}

func (v *eventVal) Contains(key ref.Val) ref.Val {
	_, ok := v.Find(key)
	return types.Bool(ok)
}

func (v *eventVal) Size() ref.Val { return types.Int(nFields) }

func (v *eventVal) Type() ref.Type { return types.MapType }

func (v *eventVal) Iterator() traits.Iterator { return v.materialize().Iterator() }

func (v *eventVal) Equal(other ref.Val) ref.Val { return v.materialize().Equal(other) }

func (v *eventVal) Value() any { return v.materialize().Value() }

func (v *eventVal) ConvertToNative(t reflect.Type) (any, error) {
	return v.materialize().ConvertToNative(t)
}

func (v *eventVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return v
	case types.TypeType:
		return types.MapType
	}
	return v.materialize().ConvertToType(t)
}

func (v *eventVal) materialize() traits.Mapper {
	m := make(map[string]any, nFields)
	for i, name := range eventFields {
		m[name] = v.field(i)
	}
	return types.NewStringInterfaceMap(adapter, m)
}
