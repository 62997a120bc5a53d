package content

import (
	"fmt"
	"sort"
	"strings"
)

// Set is the merged result of loading every source. It is immutable once
// Load returns and safe for concurrent use.
type Set struct {
	items   map[string][]Item // kind → items sorted by name
	defined map[key]bool      // every (kind, name) some source defines, loaded or not (tenant "")
	stats   []SourceStats
	digest  string // Digest
}

// Digest is the SHA-256 (hex) of the files Load read, in load order: each
// source's kind (built-in or directory, not its path) and each file's path
// within it and bytes. Two loads of the same files have the same digest,
// wherever the directory is mounted; any changed byte changes it.
func (s *Set) Digest() string { return s.digest }

type key struct{ kind, name, tenant string }

// Items returns the items of one kind sorted by name, then tenant (nil for
// none): a PerTenant kind may have one item of a name per tenant. The
// slice is the caller's; the items in it are shared.
func (s *Set) Items(kind string) []Item {
	return append([]Item(nil), s.items[kind]...)
}

// Get returns the item of kind with name: for a PerTenant kind, the
// shared one if there is one, else the first tenant's (GetFor resolves a
// name as one tenant sees it).
func (s *Set) Get(kind, name string) (Item, bool) {
	items := s.items[kind]
	i := sort.Search(len(items), func(i int) bool { return items[i].Name >= name })
	if i < len(items) && items[i].Name == name {
		return items[i], true
	}
	return Item{}, false
}

// GetFor returns the item of kind with name as tenant sees it: the
// tenant's own, else the shared one (metadata.tenant empty). Another
// tenant's item is never returned.
func (s *Set) GetFor(kind, name, tenant string) (Item, bool) {
	items := s.items[kind]
	var shared *Item
	for i := sort.Search(len(items), func(i int) bool { return items[i].Name >= name }); i < len(items) && items[i].Name == name; i++ {
		switch items[i].Tenant {
		case tenant:
			return items[i], true
		case "":
			shared = &items[i]
		}
	}
	if shared != nil {
		return *shared, true
	}
	return Item{}, false
}

// Defined reports whether some source defines kind/name (for any tenant),
// even if that definition failed to load. Cross-document checks use it so
// one broken document does not cascade into an error on everything that
// refers to it.
func (s *Set) Defined(kind, name string) bool { return s.defined[key{kind: kind, name: name}] }

// Kinds returns the kinds that have at least one item, sorted.
func (s *Set) Kinds() []string {
	kinds := make([]string, 0, len(s.items))
	for k := range s.items {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// Len returns the number of items across all kinds.
func (s *Set) Len() int {
	n := 0
	for _, items := range s.items {
		n += len(items)
	}
	return n
}

// SourceStats counts what Load read from one source.
type SourceStats struct {
	Name      string
	Files     int // YAML files read
	Documents int // non-empty documents in them
	Loaded    int // documents loaded without error
	Overrides int // loaded items that replaced one from an earlier source
}

// Summary describes a Set for people: what each source contributed and how
// many items of each kind the merged set holds.
type Summary struct {
	Sources []SourceStats  // in load order
	Kinds   map[string]int // kind → items in the merged set
}

// Summary returns the set's summary.
func (s *Set) Summary() Summary {
	sum := Summary{Sources: append([]SourceStats(nil), s.stats...), Kinds: map[string]int{}}
	for k, items := range s.items {
		sum.Kinds[k] = len(items)
	}
	return sum
}

// String renders the summary as `flywheel content validate` prints it:
//
//	<builtin>: 1 file, 1 document
//	ops: 3 files, 5 documents, 1 override
//	Tenant: 3
func (s Summary) String() string {
	var b strings.Builder
	for _, st := range s.Sources {
		fmt.Fprintf(&b, "%s: %s, %s", st.Name, plural(st.Files, "file"), plural(st.Documents, "document"))
		if st.Loaded != st.Documents {
			fmt.Fprintf(&b, " (%d with errors)", st.Documents-st.Loaded)
		}
		if st.Overrides > 0 {
			fmt.Fprintf(&b, ", %s", plural(st.Overrides, "override"))
		}
		b.WriteByte('\n')
	}
	kinds := make([]string, 0, len(s.Kinds))
	for k := range s.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "%s: %d\n", k, s.Kinds[k])
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
