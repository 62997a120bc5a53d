// Package content is Flywheel's built-in library of operational content,
// embedded in the binary: the YAML documents every installation starts
// with, which a user's own content directory (`--content DIR`) extends and
// overrides by kind and name.
//
// The files are plain content documents, loaded and validated by
// internal/content like any user file; see README.md here for the layout
// and docs/content.md for the format. Import as
//
//	builtin "github.com/flywheel-ops/flywheel/content"
package content

import "embed"

// FS holds the library's YAML files, one folder per area, paths relative
// to this directory (e.g. "tenants/default.yaml").
//
// The pattern embeds *.yaml one folder deep; a test fails if a file on
// disk would be missed, so add a pattern here if you nest deeper.
//
//go:embed */*.yaml
var FS embed.FS
