// Package content loads Flywheel's operational content: the YAML documents
// (tenants, rules, runbooks, silences, baselines, …) that tell the platform
// what to do.
//
// Content comes from sources — the built-in library embedded in the binary
// and the user's own directory (`--content DIR`) — which Load reads in order,
// so user content overrides the library by (kind, name). Every document has
// the same envelope:
//
//	apiVersion: flywheel/v1
//	kind: Tenant
//	metadata: {name: acme, description: …, labels: {…}, tenant: …}
//	spec: {…kind-specific…}
//
// Decoding is strict: an unknown field anywhere is an error naming the file,
// line and field, so a typo never silently disables a rule. Load collects
// every error of every source rather than stopping at the first, which is
// what `flywheel content validate` shows the user.
//
// This package knows nothing about particular kinds: a Registry, built by the
// application and passed in, maps kind names to spec types and semantic
// checks. The foundation kinds are registered by package kinds.
package content

import (
	"path"
	"strconv"
)

// APIVersion is the only apiVersion content documents may declare today.
const APIVersion = "flywheel/v1"

// Item is one loaded document: its envelope fields and its decoded spec.
// Items and the values they point to are shared and must not be modified.
type Item struct {
	Kind        string
	Name        string
	Description string
	Labels      map[string]string
	// Tenant is the tenant the item belongs to; empty means every tenant.
	Tenant string
	// Spec is the pointer returned by the kind's New, filled from the
	// document (e.g. *kinds.TenantSpec).
	Spec any
	// Origin is where the item was defined.
	Origin Origin
	// Overrides lists the definitions from earlier sources that this item
	// replaced, oldest first (e.g. the built-in one a user file overrides).
	Overrides []Origin
}

// Origin is a position in a source: which source, which file, which line.
type Origin struct {
	Source string // Source.Name, e.g. "<builtin>" or the content directory
	File   string // slash-separated path inside the source
	Line   int    // 1-based; 0 when the position is the whole file
}

// String renders the position the way editors and compilers do,
// "dir/tenants/acme.yaml:3", so a terminal can jump to it.
func (o Origin) String() string {
	p := o.File
	if o.Source != "" {
		p = path.Join(o.Source, o.File)
	}
	if o.Line > 0 {
		p += ":" + strconv.Itoa(o.Line)
	}
	return p
}
