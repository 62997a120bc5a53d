package content

import (
	"fmt"
	"reflect"
	"sort"
)

// Kind describes one kind of content document.
type Kind struct {
	// Name is the value of the document's kind field, e.g. "Tenant".
	Name string
	// New returns a fresh, non-nil pointer to the kind's spec struct. The
	// document's spec is decoded into it, so values New sets are defaults.
	New func() any
	// Validate, if set, checks a decoded spec beyond its shape (required
	// fields, CEL that compiles, durations in range). It receives the value
	// New returned. Errors it returns are reported at the document's
	// position; return *FieldError values (joined with errors.Join for
	// several) to point at the offending field's own line instead.
	Validate func(spec any) error
	// PerTenant makes the kind's names one per tenant instead of one per
	// server: documents of different tenants (metadata.tenant, or a pack
	// installed for each) may share a name, and a tenant's document
	// shadows the shared one of that name for that tenant only, where
	// otherwise a later document replaces an earlier one for everyone.
	// The kind's consumers resolve names per tenant (Set.GetFor).
	PerTenant bool
}

// Registry maps kind names to their definitions. Build one at start-up,
// register every kind, then use it read-only (it is safe for concurrent
// reads once registration is done).
type Registry struct {
	kinds  map[string]*kindEntry
	checks []func(*Set) error
}

type kindEntry struct {
	Kind
	specType reflect.Type // what New returns: a pointer type
	envType  reflect.Type // the document envelope with a typed Spec field
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{kinds: map[string]*kindEntry{}}
}

// Register adds a kind. It panics if the kind is malformed or its name is
// already registered: both are programming errors, found by any test that
// builds the registry.
func (r *Registry) Register(k Kind) {
	if k.Name == "" {
		panic("content: Register: kind with empty name")
	}
	if _, dup := r.kinds[k.Name]; dup {
		panic(fmt.Sprintf("content: Register: kind %q registered twice", k.Name))
	}
	if k.New == nil {
		panic(fmt.Sprintf("content: Register: kind %q has no New", k.Name))
	}
	spec := k.New()
	t := reflect.TypeOf(spec)
	if t == nil || t.Kind() != reflect.Pointer || reflect.ValueOf(spec).IsNil() {
		panic(fmt.Sprintf("content: Register: kind %q: New must return a non-nil pointer, got %T", k.Name, spec))
	}
	r.kinds[k.Name] = &kindEntry{Kind: k, specType: t, envType: envelopeType(t)}
}

// RegisterCheck adds a check over the whole loaded set, run after all
// sources are merged — for rules that span documents, such as "every
// metadata.tenant names a declared Tenant". It should return *Error values
// (joined for several) carrying the offending item's Origin, and use
// Set.Defined rather than Set.Get to test that a referenced item exists, so
// a document that failed to load does not also fail everything naming it.
func (r *Registry) RegisterCheck(check func(*Set) error) {
	r.checks = append(r.checks, check)
}

// Lookup returns the kind registered under name.
func (r *Registry) Lookup(name string) (Kind, bool) {
	e, ok := r.kinds[name]
	if !ok {
		return Kind{}, false
	}
	return e.Kind, true
}

// Kinds returns the registered kind names, sorted.
func (r *Registry) Kinds() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// envelopeType builds the struct a whole document decodes into, with Spec
// typed as the kind's spec pointer, so that one strict decode covers the
// envelope and the spec and reports positions relative to the file.
func envelopeType(spec reflect.Type) reflect.Type {
	return reflect.StructOf([]reflect.StructField{
		{Name: "APIVersion", Type: reflect.TypeFor[string](), Tag: `yaml:"apiVersion"`},
		{Name: "Kind", Type: reflect.TypeFor[string](), Tag: `yaml:"kind"`},
		{Name: "Metadata", Type: reflect.TypeFor[metadata](), Tag: `yaml:"metadata"`},
		{Name: "Spec", Type: spec, Tag: `yaml:"spec"`},
	})
}

// metadata is the envelope's metadata block.
type metadata struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Labels      map[string]string `yaml:"labels"`
	Tenant      string            `yaml:"tenant"`
}

// envelopeFields are the top-level keys of a document, in display order.
var envelopeFields = []string{"apiVersion", "kind", "metadata", "spec"}
