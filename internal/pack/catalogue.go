package pack

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"

	"github.com/flywheel-ops/flywheel/packs"
)

// Catalogue is the packs embedded in the binary (the repository's packs/
// folder), by name. An error lists every pack that does not read; the
// packs' own tests (go test ./packs) keep it empty.
func Catalogue() ([]*Pack, error) { return catalogue() }

var catalogue = sync.OnceValues(func() ([]*Pack, error) { return ReadCatalogue(packs.FS) })

// ReadCatalogue reads every folder of fsys that has a pack.yaml as a pack;
// the folder is named after the pack.
func ReadCatalogue(fsys fs.FS) ([]*Pack, error) {
	manifests, err := fs.Glob(fsys, "*/"+ManifestFile)
	if err != nil {
		return nil, err
	}
	var out []*Pack
	var errs []error
	for _, m := range manifests {
		dir := path.Dir(m)
		p, err := ReadDir(fsys, dir, SourceName(dir))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p.Name != dir {
			errs = append(errs, fmt.Errorf("%s: pack %q is in folder %q; name the folder after the pack", SourceName(dir), p.Name, dir))
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

// Find returns the catalogue's pack name.
func Find(name string) (*Pack, bool) {
	all, _ := Catalogue()
	for _, p := range all {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

func sortStrings(s []string) { sort.Strings(s) }
