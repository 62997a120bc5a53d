// Package celevent is the one CEL activation over an event, shared by
// correlation rules (internal/correlate) and automation rules
// (internal/rule), so one expression over `event` reads the same in both.
//
// An Activation is built once per event and shared by every rule tried:
// each field of `event` is converted to a CEL value at most once, and only
// if some expression reads it. Whole-map operations (equality, iteration,
// conversion) work on a materialized map. It is not safe for concurrent
// use; build one per evaluation.
package celevent

import (
	"reflect"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// EventFields are the fields expressions see on `event`, in display order.
var EventFields = [...]string{
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

// FieldIndex is the index of an event field in EventFields, or -1. It is
// a switch rather than a map: lookups are the hot path.
func FieldIndex(name string) int {
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

var adapter = types.DefaultTypeAdapter

// Activation resolves `event` and, when With set one, a second variable
// (automation rules' `opsitem`).
type Activation struct {
	ev   eventVal
	name string
	val  ref.Val
}

var _ interpreter.Activation = (*Activation)(nil)

// New is the activation of e (nil reads as an empty event), showing every
// field of EventFields.
func New(e *event.Event) *Activation {
	if e == nil {
		e = &event.Event{}
	}
	return &Activation{ev: eventVal{e: e, n: nFields}}
}

// NewWithoutApplication is New for expressions evaluated before the
// event's application is resolved (automation rules): `event` has every
// field but "application", so naming it is an error, not a silent "".
func NewWithoutApplication(e *event.Event) *Activation {
	a := New(e)
	a.ev.n = fApplication
	return a
}

// WithApplication sets what event.application reads: the name of the
// declared Application the event belongs to, or "".
func (a *Activation) WithApplication(name string) *Activation {
	a.ev.app = name
	return a
}

// With makes name resolve to v.
func (a *Activation) With(name string, v ref.Val) *Activation {
	a.name, a.val = name, v
	return a
}

// ResolveName implements interpreter.Activation.
func (a *Activation) ResolveName(name string) (any, bool) {
	if name == "event" {
		return &a.ev, true
	}
	if name == a.name && a.val != nil {
		return a.val, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *Activation) Parent() interpreter.Activation { return nil }

// eventVal is an event seen as a CEL map(string, dyn) without copying it
// into one.
type eventVal struct {
	e      *event.Event
	n      int    // the first n of EventFields are visible
	app    string // event.application
	fields [nFields]ref.Val
}

var _ traits.Mapper = (*eventVal)(nil)

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
	i := FieldIndex(string(k))
	if i < 0 || i >= v.n {
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

func (v *eventVal) Size() ref.Val { return types.Int(v.n) }

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
	m := make(map[string]any, v.n)
	for i, name := range EventFields[:v.n] {
		m[name] = v.field(i)
	}
	return types.NewStringInterfaceMap(adapter, m)
}
