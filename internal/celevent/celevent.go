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
	e    *event.Event
	app  string // event.application
	vals [nFields]ref.Val
	ev   Record
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
	a := &Activation{e: e}
	a.ev = Record{names: EventFields[:], index: a.eventIndex, vals: a.vals[:], build: a.eventField}
	return a
}

// NewWithoutApplication is New for expressions evaluated before the
// event's application is resolved (automation rules): `event` has every
// field but "application", so naming it is an error, not a silent "".
func NewWithoutApplication(e *event.Event) *Activation {
	a := New(e)
	a.ev.names = EventFields[:fApplication]
	return a
}

// WithApplication sets what event.application reads: the name of the
// declared Application the event belongs to, or "".
func (a *Activation) WithApplication(name string) *Activation {
	a.app = name
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

func (a *Activation) eventIndex(name string) int {
	if i := FieldIndex(name); i < len(a.ev.names) {
		return i
	}
	return -1
}

func (a *Activation) eventField(i int) ref.Val {
	e := a.e
	switch i {
	case fSource:
		return types.String(e.Source)
	case fKind:
		return types.String(e.Kind)
	case fSeverity:
		return types.String(e.Severity)
	case fStatus:
		return types.String(e.Status)
	case fTitle:
		return types.String(e.Title)
	case fDescription:
		return types.String(e.Description)
	case fLabels:
		return types.NewStringStringMap(adapter, e.Labels)
	case fAnnotations:
		return types.NewStringStringMap(adapter, e.Annotations)
	case fResources:
		rs := make([]ref.Val, len(e.Resources))
		for j, r := range e.Resources {
			// Every key is present, "" when the source did not say, so
			// r.region needs no has() guard.
			rs[j] = types.NewStringStringMap(adapter, map[string]string{
				"type": r.Type, "id": r.ID, "region": r.Region, "account": r.Account,
			})
		}
		return types.NewRefValList(adapter, rs)
	case fFingerprint:
		return types.String(e.Fingerprint)
	case fApplication:
		return types.String(a.app)
	}
	return types.NullValue
}

// Record is a record seen as a CEL map(string, dyn) without copying it
// into one: lookups (the hot path) convert one field on first use and
// keep it; the rare whole-map operations (equality, iteration,
// conversion) work on a materialized map. `event` is one; automation
// rules' `opsitem` another.
type Record struct {
	names []string
	index func(name string) int // -1 for no such field
	vals  []ref.Val
	build func(i int) ref.Val
}

// NewRecord is the record of fields names, field i built by build on
// first use; index gives a name's position (-1 for none).
func NewRecord(names []string, index func(name string) int, build func(i int) ref.Val) *Record {
	return &Record{names: names, index: index, vals: make([]ref.Val, len(names)), build: build}
}

var _ traits.Mapper = (*Record)(nil)

func (m *Record) field(i int) ref.Val {
	if v := m.vals[i]; v != nil {
		return v
	}
	v := m.build(i)
	m.vals[i] = v
	return v
}

// Find implements traits.Mapper; it is what field selection calls.
func (m *Record) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	i := m.index(string(k))
	if i < 0 {
		return nil, false
	}
	return m.field(i), true
}

func (m *Record) Get(key ref.Val) ref.Val {
	if v, ok := m.Find(key); ok {
		return v
	}
	return types.ValOrErr(key, "no such key: %v", key)
}

func (m *Record) Contains(key ref.Val) ref.Val {
	_, ok := m.Find(key)
	return types.Bool(ok)
}

func (m *Record) Size() ref.Val { return types.Int(len(m.names)) }

func (m *Record) Type() ref.Type { return types.MapType }

func (m *Record) Iterator() traits.Iterator { return m.materialize().Iterator() }

func (m *Record) Equal(other ref.Val) ref.Val { return m.materialize().Equal(other) }

func (m *Record) Value() any { return m.materialize().Value() }

func (m *Record) ConvertToNative(t reflect.Type) (any, error) {
	return m.materialize().ConvertToNative(t)
}

func (m *Record) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return m
	case types.TypeType:
		return types.MapType
	}
	return m.materialize().ConvertToType(t)
}

func (m *Record) materialize() traits.Mapper {
	out := make(map[string]any, len(m.names))
	for i, name := range m.names {
		out[name] = m.field(i)
	}
	return types.NewStringInterfaceMap(adapter, out)
}
