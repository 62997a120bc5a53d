// Package defaults holds the names a server and its clients agree on
// without configuration: where the server listens and keeps its data, and
// the files a client reads there (the admin token, the TLS CA). It imports
// nothing, so that the command line's client commands can use them without
// importing the server's configuration (internal/layering).
package defaults

const (
	// Addr is where `flywheel serve` listens with no flags.
	Addr = "127.0.0.1:8080"
	// DataDir is the data directory with no flags, relative to the
	// working directory.
	DataDir = "flywheel-data"
	// AdminTokenFile is where the generated admin token is written
	// (0600), in the data directory.
	AdminTokenFile = "admin-token"
	// TLSDir is where `--tls auto` keeps its CA and server certificate,
	// in the data directory.
	TLSDir = "tls"
)
