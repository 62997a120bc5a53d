// Package packaging holds no code of its own: its tests check what ships
// beside the Go packages — the repository is self-contained (no file
// names a directory outside it), the Dockerfile, compose.yaml and the
// systemd units are valid, and the README's tour runs against a real
// server.
package packaging
