package content

import (
	"io/fs"
	"os"
	"path"
	"testing"
)

// TestEverythingEmbedded guards the go:embed pattern: every YAML file in
// this directory must be in FS, and library files use the .yaml extension.
func TestEverythingEmbedded(t *testing.T) {
	n := 0
	err := fs.WalkDir(os.DirFS("."), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch path.Ext(p) {
		case ".yml":
			t.Errorf("%s: library files use the .yaml extension", p)
		case ".yaml":
			n++
			if _, err := fs.Stat(FS, p); err != nil {
				t.Errorf("%s is not embedded; extend the //go:embed pattern in content.go", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no library files found")
	}
}
