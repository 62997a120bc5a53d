// Package version reports the build's version and commit, set at link time
// by a release build (packaging/build.sh, make release):
//
//	go build -ldflags "-X github.com/flywheel-ops/flywheel/internal/version.Version=v1.2.3 \
//	    -X github.com/flywheel-ops/flywheel/internal/version.Commit=0123abc" ./cmd/flywheel
package version

// Version is the release version, "dev" for local builds.
var Version = "dev"

// Commit is the source commit of a release build, "" for local builds.
var Commit = ""

// String is Version, followed by the commit when there is one:
// "v1.2.3 (commit 0123abc)".
func String() string {
	if Commit == "" {
		return Version
	}
	return Version + " (commit " + Commit + ")"
}
