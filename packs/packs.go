// Package packs is the catalogue of service packs embedded in the
// flywheel binary: one folder per pack, with its manifest (pack.yaml), its
// content documents and its Prometheus rule files. See docs/packs.md;
// internal/pack reads them.
package packs

import "embed"

// FS holds every pack folder.
//
//go:embed */pack.yaml */*/*.yaml
var FS embed.FS
