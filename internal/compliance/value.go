package compliance

import (
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// toVal converts decoded JSON (numbers already int64 or float64) to CEL
// values once, so an expression's field reads neither allocate nor
// convert: a resource is read by every rule of its type.
func toVal(v any) ref.Val {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]ref.Val, len(v))
		for k, x := range v {
			m[k] = toVal(x)
		}
		return newObject(m)
	case map[string]string:
		m := make(map[string]ref.Val, len(v))
		for k, x := range v {
			m[k] = types.String(x)
		}
		return newObject(m)
	case []any:
		l := make([]ref.Val, len(v))
		for i, x := range v {
			l[i] = toVal(x)
		}
		return types.NewRefValList(types.DefaultTypeAdapter, l)
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

// object is a CEL map with string keys whose lookups by a string key go
// straight to a Go map; every other operation is the generic map's.
type object struct {
	traits.Mapper
	fields map[string]ref.Val
}

func newObject(m map[string]ref.Val) *object {
	g := make(map[ref.Val]ref.Val, len(m))
	for k, v := range m {
		g[types.String(k)] = v
	}
	return &object{Mapper: types.NewRefValMap(types.DefaultTypeAdapter, g), fields: m}
}

func (o *object) Find(key ref.Val) (ref.Val, bool) {
	if s, ok := key.(types.String); ok {
		v, found := o.fields[string(s)]
		return v, found
	}
	return o.Mapper.Find(key)
}

func (o *object) Get(key ref.Val) ref.Val {
	if s, ok := key.(types.String); ok {
		if v, found := o.fields[string(s)]; found {
			return v
		}
	}
	return o.Mapper.Get(key)
}

func (o *object) Contains(key ref.Val) ref.Val {
	if s, ok := key.(types.String); ok {
		_, found := o.fields[string(s)]
		return types.Bool(found)
	}
	return o.Mapper.Contains(key)
}
