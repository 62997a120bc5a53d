package packaging

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// moduleRoot is the directory holding go.mod, found upwards from the test's
// working directory (the package directory).
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// outside is the sibling directory the project's tests, README and bench
// once read fixtures from; spelled in two parts so this file does not name
// it.
var outside = []byte(".." + "/shared")

// TestNothingReadsASiblingDirectory fails when any file of the repository
// names the sibling directory: a clone alone, with nothing beside it, must
// pass its tests and run its tour and bench.
func TestNothingReadsASiblingDirectory(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if i := bytes.Index(b, outside); i >= 0 {
			line := bytes.Count(b[:i], []byte("\n")) + 1
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s:%d names %s, outside the repository; copy what it needs into testdata/ or examples/", rel, line, outside)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("walked %d files from %s; is that the module root?", n, root)
	}
}
