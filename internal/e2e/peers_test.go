package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// logBuffer collects a process's output; safe to read while it writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Tail returns the last n bytes written.
func (l *logBuffer) Tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// proc is a peer process started by a test.
type proc struct {
	name   string
	addr   string
	out    *logBuffer
	exited chan error
}

// startProc starts bin; t.Cleanup kills it and waits for it.
func startProc(t *testing.T, name, addr, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, addr: addr, out: &logBuffer{}, exited: make(chan error, 1)}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// lookPath finds the first of names on PATH, or skips the test.
func lookPath(t *testing.T, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "none of %v on PATH: install the Debian package %s (.ci/run does) to run this end-to-end test", names, pkg)
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// flywheel is an in-process Flywheel server.
type flywheel struct {
	addr  string
	admin *client.Client
	log   *logBuffer
}

const adminToken = "e2e-admin-token-0123456789abcdef"

func startFlywheel(t *testing.T) *flywheel {
	t.Helper()
	logs := &logBuffer{}
	a, err := app.New(context.Background(), app.Options{
		Config: config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AdminToken: adminToken},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Out:    io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return &flywheel{addr: a.Addr(), admin: client.New("http://"+a.Addr(), adminToken), log: logs}
}

// intakeTokenFile creates an operator token, as docs/intake.md tells users
// to, and writes it to a file for a peer's credentials_file.
func (f *flywheel) intakeTokenFile(t *testing.T, name string) string {
	t.Helper()
	var tok api.CreatedToken
	if err := f.admin.Do(context.Background(), "POST", "/api/v1/tokens", api.TokenInput{Name: name, Role: store.RoleOperator}, &tok); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+"-token")
	if err := os.WriteFile(path, []byte(tok.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// docSnippet returns the YAML block that follows "<!-- e2e:NAME" in
// docs/intake.md.
func docSnippet(t *testing.T, name string) string {
	t.Helper()
	const doc = "../../docs/intake.md"
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "<!-- e2e:"+name+" ")
	if i < 0 {
		t.Fatalf("%s has no snippet marked <!-- e2e:%s … -->", doc, name)
	}
	s = s[i:]
	start := strings.Index(s, "```yaml\n")
	end := strings.Index(s[max(start, 0):], "\n```\n")
	if start < 0 || end < 0 {
		t.Fatalf("%s: no ```yaml block after <!-- e2e:%s", doc, name)
	}
	return s[start+len("```yaml\n") : start+end+1]
}

// substitute replaces each old with its new in s; every old must occur, so
// a documentation change that the test no longer matches fails loudly.
func substitute(t *testing.T, s string, oldnew ...string) string {
	t.Helper()
	for i := 0; i < len(oldnew); i += 2 {
		if !strings.Contains(s, oldnew[i]) {
			t.Fatalf("documented snippet no longer contains %q:\n%s", oldnew[i], s)
		}
		s = strings.ReplaceAll(s, oldnew[i], oldnew[i+1])
	}
	return s
}

func yamlMap(t *testing.T, s string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("documented snippet is not valid YAML: %v\n%s", err, s)
	}
	return m
}

func writeYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitReady polls a peer's readiness endpoint.
func waitReady(t *testing.T, p *proc, path string, deadline time.Time) {
	t.Helper()
	poll(t, deadline, p.name+" ready", func() (bool, string) {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("%s exited: %v\n%s", p.name, err, p.out.Tail(4000))
		default:
		}
		resp, err := http.Get("http://" + p.addr + path)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	}, p)
}

// poll calls check until it reports true or the deadline passes; then it
// fails with check's last word and the peers' recent logs.
func poll(t *testing.T, deadline time.Time, what string, check func() (bool, string), peers ...*proc) {
	t.Helper()
	for {
		ok, state := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, p := range peers {
				fmt.Fprintf(&logs, "\n--- %s log:\n%s", p.name, p.out.Tail(3000))
			}
			t.Fatalf("waiting for %s: gave up; last state: %s%s", what, state, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
