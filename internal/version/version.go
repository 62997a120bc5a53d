// Package version reports the build's version, set at link time:
//
//	go build -ldflags "-X github.com/flywheel-ops/flywheel/internal/version.Version=v1.2.3" ./cmd/flywheel
package version

// Version is the release version, "dev" for local builds.
var Version = "dev"
