package pack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
)

// ManifestFile is the manifest's file name in a pack's folder.
const ManifestFile = "pack.yaml"

// PrometheusDir holds the pack's Prometheus rule files.
const PrometheusDir = "prometheus"

// Limits on what a pack may hold.
const (
	MaxFiles    = 500
	MaxFileSize = 1 << 20
	MaxSize     = 4 << 20
)

// File is one file of a pack: its slash-separated path inside the pack's
// folder and its bytes.
type File struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// Pack is a read and checked pack.
type Pack struct {
	Name        string
	Description string
	Spec        *Spec
	// Files are every file read, sorted by path: the manifest, the
	// content documents and the Prometheus rule files.
	Files []File
	// Digest is the SHA-256 (hex) of Files.
	Digest string
	// Documents are the content documents, by kind then name.
	Documents []Document
	// Alerts are the alert names of the Prometheus rule files.
	Alerts []string
}

// Document is one content document of a pack, as text.
type Document struct {
	Kind, Name string
	File       string
	// Text is the document re-rendered from its YAML (comments kept), so
	// two versions compare document by document whatever the file layout.
	Text string
}

// Key is "Kind/name".
func (d Document) Key() string { return d.Kind + "/" + d.Name }

// ReadDir reads the pack in folder dir of fsys (as `flywheel pack install
// --dir` and the catalogue do). source names it in errors.
func ReadDir(fsys fs.FS, dir, source string) (*Pack, error) {
	var files []File
	total := 0
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isYAML(p) {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if dir == "." {
			rel = p
		}
		data, err := readLimited(fsys, p)
		if err != nil {
			return err
		}
		total += len(data)
		if len(files) >= MaxFiles || total > MaxSize {
			return fmt.Errorf("a pack holds at most %d files and %d MiB", MaxFiles, MaxSize>>20)
		}
		files = append(files, File{Path: rel, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return FromFiles(files, source)
}

func readLimited(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err == nil && len(data) > MaxFileSize {
		err = fmt.Errorf("%s: larger than %d KiB", p, MaxFileSize>>10)
	}
	return data, err
}

func isYAML(p string) bool {
	ext := path.Ext(p)
	return ext == ".yaml" || ext == ".yml"
}

// FromFiles reads a pack from its files (a stored installation, an upload)
// and checks it whole: the manifest, every content document (loaded with
// the built-in library, as a server would), the Prometheus rule files and
// the manifest's references into them. The error lists every problem.
func FromFiles(files []File, source string) (*Pack, error) {
	files = append([]File(nil), files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	p := &Pack{Files: files, Digest: digest(files)}
	var errs []error
	manifest, docs, prom := fstest.MapFS{}, fstest.MapFS{}, map[string][]byte{}
	for i, f := range files {
		switch {
		case !fs.ValidPath(f.Path) || !isYAML(f.Path) || (i > 0 && files[i-1].Path == f.Path):
			errs = append(errs, fmt.Errorf("%s: %q is not a pack file path (a relative slash path to a .yaml or .yml file, once)", source, f.Path))
		case f.Path == ManifestFile:
			manifest[f.Path] = &fstest.MapFile{Data: f.Data}
		case strings.HasPrefix(f.Path, PrometheusDir+"/"):
			prom[f.Path] = f.Data
		default:
			docs[f.Path] = &fstest.MapFile{Data: f.Data}
		}
	}
	if len(manifest) == 0 {
		return nil, errors.Join(append(errs, fmt.Errorf("%s: no %s", source, ManifestFile))...)
	}
	errs = append(errs, p.readManifest(manifest, source))
	alerts, err := readPrometheus(prom, source)
	errs = append(errs, err)
	p.Alerts = alerts
	reg := kinds.NewRegistry()
	set, err := content.Load(reg, content.Builtin(), content.Source{Name: source, FS: docs})
	errs = append(errs, err)
	own, err := checkDocuments(reg, set, source)
	errs = append(errs, err)
	p.Documents, err = documents(docs, source)
	errs = append(errs, err)
	// A document that failed to load is still the pack's: its errors are
	// reported, not again as a missing reference.
	for _, d := range p.Documents {
		own[d.Key()] = true
	}
	if p.Spec != nil {
		errs = append(errs, p.checkRefs(own, source))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Pack) readManifest(fsys fs.FS, source string) error {
	reg := content.NewRegistry()
	reg.Register(Kind())
	set, err := content.Load(reg, content.Source{Name: source, FS: fsys})
	if err != nil {
		return err
	}
	items := set.Items(KindName)
	if len(items) != 1 || set.Len() != 1 {
		return fmt.Errorf("%s/%s: holds %d documents; a manifest is one document of kind Pack", source, ManifestFile, set.Len())
	}
	it := items[0]
	if it.Tenant != "" {
		return &content.Error{Origin: it.Origin, Msg: "a pack's metadata.tenant is empty: the tenant is chosen when it is installed"}
	}
	p.Name, p.Description, p.Spec = it.Name, it.Description, it.Spec.(*Spec)
	return nil
}

// checkDocuments checks the pack's documents against the built-in library;
// it returns the Kind/name of each. A pack holds only kinds whose names are
// one per tenant (content.Kind.PerTenant), so that it can be installed for
// any number of tenants.
func checkDocuments(reg *content.Registry, set *content.Set, source string) (map[string]bool, error) {
	var errs []error
	own := map[string]bool{} // Kind/name of the pack's documents
	for _, kind := range set.Kinds() {
		for _, it := range set.Items(kind) {
			if it.Origin.Source != source {
				continue
			}
			own[kind+"/"+it.Name] = true
			switch {
			case kind == kinds.TenantKind:
				errs = append(errs, &content.Error{Origin: it.Origin, Msg: "a pack declares no Tenant: it is installed into one"})
			case !perTenant(reg, kind):
				errs = append(errs, &content.Error{Origin: it.Origin, Msg: fmt.Sprintf(
					"%s %q: a pack holds only kinds that each tenant has its own copy of (%s); a %s is one per server",
					kind, it.Name, strings.Join(PackKinds(reg), ", "), kind)})
			case it.Tenant != "":
				errs = append(errs, &content.Error{Origin: it.Origin, Msg: fmt.Sprintf("%s %q: a pack's documents leave metadata.tenant empty; installing sets it", kind, it.Name)})
			case len(it.Overrides) > 0:
				errs = append(errs, &content.Error{Origin: it.Origin, Msg: fmt.Sprintf("%s %q replaces the built-in one at %s; a pack adds documents, it does not replace the library's", kind, it.Name, it.Overrides[0])})
			}
		}
	}
	return own, errors.Join(errs...)
}

// PackKinds are the kinds a pack may hold: those registered PerTenant.
func PackKinds(reg *content.Registry) []string {
	var out []string
	for _, k := range reg.Kinds() {
		if perTenant(reg, k) {
			out = append(out, k)
		}
	}
	return out
}

func perTenant(reg *content.Registry, kind string) bool {
	k, ok := reg.Lookup(kind)
	return ok && k.PerTenant
}

// checkRefs checks the manifest's references against the pack's documents
// (own) and alerts.
func (p *Pack) checkRefs(own map[string]bool, source string) error {
	var errs []error
	alerts := map[string]bool{}
	for _, a := range p.Alerts {
		alerts[a] = true
	}
	at := content.Origin{Source: source, File: ManifestFile}
	for _, sc := range p.Spec.Scenarios {
		for _, a := range sc.Alerts {
			if len(p.PrometheusFiles()) > 0 && !alerts[a] {
				errs = append(errs, &content.Error{Origin: at, Msg: fmt.Sprintf("scenario %q: alert %q is not an alert of %s/*.yaml", sc.Name, a, PrometheusDir)})
			}
		}
		for _, r := range sc.Rules {
			if !own["Rule/"+r] && !own["ConfigRule/"+r] {
				errs = append(errs, &content.Error{Origin: at, Msg: fmt.Sprintf("scenario %q: rule %q is not a Rule or ConfigRule of the pack", sc.Name, r)})
			}
		}
		for _, list := range [][]string{sc.Diagnostics, sc.Remediation} {
			for _, rb := range list {
				if !own["Runbook/"+rb] {
					errs = append(errs, &content.Error{Origin: at, Msg: fmt.Sprintf("scenario %q: runbook %q is not a Runbook of the pack", sc.Name, rb)})
				}
			}
		}
	}
	return errors.Join(errs...)
}

// documents splits the content files into documents, each rendered alone.
func documents(fsys fstest.MapFS, source string) ([]Document, error) {
	var out []Document
	var errs []error
	for name, f := range fsys {
		dec := yaml.NewDecoder(bytes.NewReader(f.Data))
		for {
			var n yaml.Node
			if err := dec.Decode(&n); err == io.EOF {
				break
			} else if err != nil {
				errs = append(errs, fmt.Errorf("%s/%s: %w", source, name, err))
				break
			}
			var head struct {
				Kind     string `yaml:"kind"`
				Metadata struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			if n.Kind == 0 || n.Decode(&head) != nil {
				continue // empty documents; bad ones Load reported
			}
			text, err := yaml.Marshal(&n)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s/%s: %w", source, name, err))
				continue
			}
			out = append(out, Document{Kind: head.Kind, Name: head.Metadata.Name, File: name, Text: string(text)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, errors.Join(errs...)
}

func digest(files []File) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "file %s %d\x00", f.Path, len(f.Data))
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Source is the pack's content documents as a content source scoped to
// tenant ("" for none).
func (p *Pack) Source(tenant string) content.Source { return FilesSource(p.Name, tenant, p.Files) }

// FilesSource is the content documents among a pack's files as a content
// source scoped to tenant, named "<pack NAME for TENANT>" in origins and
// errors. It reads nothing else: loading the source checks the documents.
func FilesSource(name, tenant string, files []File) content.Source {
	fsys := fstest.MapFS{}
	for _, f := range files {
		if f.Path != ManifestFile && !strings.HasPrefix(f.Path, PrometheusDir+"/") && isYAML(f.Path) {
			fsys[f.Path] = &fstest.MapFile{Data: f.Data}
		}
	}
	src := content.Source{Name: SourceName(name), FS: fsys, Tenant: tenant}
	if tenant != "" {
		src.Name = "<pack " + name + " for " + tenant + ">"
	}
	return src
}

// IsSource reports whether a content origin's source is a pack's.
func IsSource(source string) bool { return strings.HasPrefix(source, "<pack ") }

// SourceName is how content origins name pack name's documents.
func SourceName(name string) string { return "<pack " + name + ">" }

// PrometheusFiles are the pack's Prometheus rule files.
func (p *Pack) PrometheusFiles() []File {
	var out []File
	for _, f := range p.Files {
		if strings.HasPrefix(f.Path, PrometheusDir+"/") {
			out = append(out, f)
		}
	}
	return out
}

// Load loads the built-in library and the pack's documents for tenant
// ("" for every tenant), as a server that has the pack installed would.
func (p *Pack) Load(tenant string) (*content.Set, error) {
	return content.Load(kinds.NewRegistry(), content.Builtin(), p.Source(tenant))
}
