package content

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	builtin "github.com/flywheel-ops/flywheel/content"
)

// Source is a named tree of content files.
type Source struct {
	// Name prefixes file paths in positions and errors: the directory as
	// the user typed it, or "<builtin>" for the embedded library.
	Name string
	FS   fs.FS
	// Tenant, when set, scopes every document of the source to that tenant
	// (a pack installed for it): a document without metadata.tenant gets
	// it, and one naming another tenant is an error.
	Tenant string
}

// BuiltinName is the Source.Name of the embedded library.
const BuiltinName = "<builtin>"

// Builtin returns the library embedded in the binary.
func Builtin() Source { return Source{Name: BuiltinName, FS: builtin.FS} }

// Dir returns the content directory dir on disk.
func Dir(dir string) Source { return Source{Name: dir, FS: os.DirFS(dir)} }

// maxFileSize bounds one content file; real ones are a few kilobytes.
const maxFileSize = 4 << 20

// Load reads every source in order and merges them: a later source's item
// replaces an earlier one's with the same kind and name, so pass the
// built-in library first and the user's directory after it. For a kind
// registered PerTenant, the tenant is part of the name: items of different
// tenants are kept side by side.
//
// Within a source, files named *.yaml or *.yml are read recursively in
// lexical order; other files, and files and directories whose names start
// with ".", are ignored. A (kind, name) defined twice within one source is
// an error (for a PerTenant kind, twice for one tenant).
//
// Load reports every problem it finds, each an *Error, joined with
// errors.Join. The returned Set is never nil: on error it holds the
// documents that loaded cleanly, which is enough for a summary but not for
// running — callers that act on content must refuse a non-nil error.
func Load(reg *Registry, sources ...Source) (*Set, error) {
	set := &Set{items: map[string][]Item{}, defined: map[key]bool{}}
	merged := map[key]Item{}
	var errs []error
	sum := sha256.New()
	for _, src := range sources {
		kind := "dir"
		if src.Name == BuiltinName {
			kind = "builtin"
		}
		if src.Tenant != "" {
			kind += " tenant " + src.Tenant
		}
		fmt.Fprintf(sum, "source %s\x00", kind)
		items, stats, srcErrs := loadSource(reg, src, set.defined, sum)
		errs = append(errs, srcErrs...)
		for _, it := range items {
			k := reg.itemKey(it.Kind, it.Name, it.Tenant)
			if prev, ok := merged[k]; ok {
				it.Overrides = append(append([]Origin(nil), prev.Overrides...), prev.Origin)
				stats.Overrides++
			}
			merged[k] = it
		}
		set.stats = append(set.stats, stats)
	}
	for k, it := range merged {
		set.items[k.kind] = append(set.items[k.kind], it)
	}
	for _, items := range set.items {
		sort.Slice(items, func(i, j int) bool {
			return items[i].Name < items[j].Name || (items[i].Name == items[j].Name && items[i].Tenant < items[j].Tenant)
		})
	}
	set.digest = hex.EncodeToString(sum.Sum(nil))
	for _, check := range reg.checks {
		errs = append(errs, Errors(check(set))...)
	}
	return set, joinErrors(errs)
}

// loadSource reads one source. Items come back in file order; defined gets
// every (kind, name) the source names, whether or not it loaded; sum gets
// each file's path and bytes (Set.Digest).
func loadSource(reg *Registry, src Source, defined map[key]bool, sum io.Writer) ([]Item, SourceStats, []error) {
	stats := SourceStats{Name: src.Name}
	var (
		items []Item
		errs  []error
		first = map[key]Origin{} // where each (kind, name) was first defined
	)
	if src.FS == nil {
		return nil, stats, []error{&Error{Origin: Origin{Source: src.Name}, Msg: "no file system"}}
	}
	walkErr := fs.WalkDir(src.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, walkError(src, p, err))
			return nil // WalkDir skips an unreadable directory itself
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isContentFile(p) {
			return nil
		}
		data, err := readFile(src.FS, p)
		if err != nil {
			errs = append(errs, walkError(src, p, err))
			return nil
		}
		stats.Files++
		fmt.Fprintf(sum, "file %s %d\x00", p, len(data))
		sum.Write(data)
		docs, fileErrs := decodeFile(reg, Origin{Source: src.Name, File: p}, data)
		stats.Documents += len(docs)
		for _, doc := range docs {
			if doc.name == "" {
				continue
			}
			defined[key{kind: doc.kind, name: doc.name}] = true
			tenant := src.Tenant
			if doc.item != nil && doc.item.Tenant != "" {
				tenant = doc.item.Tenant
			}
			k := reg.itemKey(doc.kind, doc.name, tenant)
			if at, dup := first[k]; dup {
				fileErrs = append(fileErrs, &Error{Origin: doc.origin,
					Msg: fmt.Sprintf("duplicate %s %q: already defined at %s", doc.kind, doc.name, at)})
				continue
			}
			first[k] = doc.origin
			if doc.item != nil && src.Tenant != "" {
				if doc.item.Tenant != "" && doc.item.Tenant != src.Tenant {
					errs = append(errs, &Error{Origin: doc.origin,
						Msg: fmt.Sprintf("%s %q: metadata.tenant %q, but this source belongs to tenant %q", doc.kind, doc.name, doc.item.Tenant, src.Tenant)})
					continue
				}
				doc.item.Tenant = src.Tenant
			}
			if doc.item != nil {
				items = append(items, *doc.item)
				stats.Loaded++
			}
		}
		errs = append(errs, sortByLine(fileErrs)...)
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkError(src, ".", walkErr))
	}
	return items, stats, errs
}

// itemKey is what makes two items the same one: their kind and name, and
// for a PerTenant kind their tenant.
func (r *Registry) itemKey(kind, name, tenant string) key {
	if k, ok := r.Lookup(kind); !ok || !k.PerTenant {
		tenant = ""
	}
	return key{kind: kind, name: name, tenant: tenant}
}

// sortByLine orders one file's errors by line, keeping the order of
// errors on the same line.
func sortByLine(errs []error) []error {
	line := func(err error) int {
		var e *Error
		if errors.As(err, &e) {
			return e.Origin.Line
		}
		return 0
	}
	sort.SliceStable(errs, func(i, j int) bool { return line(errs[i]) < line(errs[j]) })
	return errs
}

func isContentFile(p string) bool {
	ext := path.Ext(p)
	return ext == ".yaml" || ext == ".yml"
}

func readFile(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("file is larger than the %d MiB limit", maxFileSize>>20)
	}
	return data, nil
}

func walkError(src Source, p string, err error) error {
	// Strip the *PathError wrapper: the position already names the path.
	msg := err.Error()
	if pe, ok := err.(*fs.PathError); ok {
		msg = pe.Err.Error()
	}
	file := p
	if p == "." {
		file = ""
	}
	return &Error{Origin: Origin{Source: src.Name, File: file}, Msg: msg, Err: err}
}
