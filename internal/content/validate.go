package content

import (
	"fmt"
	"os"
)

// Validate loads the built-in library and the content directory dir,
// exactly as `flywheel serve --content dir` would, and reports every
// problem. It backs `flywheel content validate DIR`: print the error's
// lines (see Errors) and the summary, and exit non-zero on error.
func Validate(reg *Registry, dir string) (Summary, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return Summary{}, fmt.Errorf("content directory: %w", err)
	}
	if !fi.IsDir() {
		return Summary{}, fmt.Errorf("content directory: %s is not a directory", dir)
	}
	set, err := Load(reg, Builtin(), Dir(dir))
	return set.Summary(), err
}
