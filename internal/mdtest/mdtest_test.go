package mdtest

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "page.md")
	page := "# Title\n\n```yaml\na: 1\n\nb: 2\n```\n\ntext\n\n```\n$ flywheel x\n```\n"
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	got := Blocks(t, path)
	want := []Block{{Lang: "yaml", Lines: []string{"a: 1", "", "b: 2"}, Line: 3}, {Lang: "", Lines: []string{"$ flywheel x"}, Line: 11}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Blocks = %#v, want %#v", got, want)
	}
	if s := got[0].Text(); s != "a: 1\n\nb: 2\n" {
		t.Errorf("Text = %q", s)
	}
}
