package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
)

// files holds the templates and the static assets, compiled into the binary.
//
//go:embed templates static
var files embed.FS

// assets serves the files under static/ at /static/{name}. Pages link them
// with a content-hash query (?v=…), so they can be cached for a long time
// and still change with each release.
type assets struct {
	fsys    fs.FS
	version map[string]string
}

func loadAssets() (*assets, error) {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	a := &assets{fsys: sub, version: map[string]string{}}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.version[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	return a, err
}

// url returns the versioned URL of a static asset; an unknown name is an
// error, so a template typo fails at the first render in tests.
func (a *assets) url(name string) (string, error) {
	v, ok := a.version[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return "/static/" + name + "?v=" + v, nil
}

// serve writes the named asset; false when there is none.
func (a *assets) serve(w http.ResponseWriter, r *http.Request) bool {
	name := path.Clean(r.PathValue("name"))
	if _, ok := a.version[name]; !ok {
		return false
	}
	if r.URL.Query().Get("v") == a.version[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeFileFS(w, r, a.fsys, name)
	return true
}
