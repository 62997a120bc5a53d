package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// These tests run the real binary: what a user runs is what is tested.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flywheel-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "flywheel")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build flywheel: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
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

type server struct {
	cmd    *exec.Cmd
	addr   string
	out    *bytes.Buffer
	exited chan error
}

func startServer(t *testing.T, data string, extra ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{addr: addr, out: &bytes.Buffer{}, exited: make(chan error, 1)}
	s.cmd = exec.Command(binary, append([]string{"serve", "--addr", addr, "--data", data, "--shutdown-timeout", "5s"}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.Env = append(os.Environ(), "FLYWHEEL_ADMIN_TOKEN=")
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() { s.cmd.Process.Kill(); <-s.exited })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			t.Fatalf("server exited: %v\n%s", err, s.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("server did not answer within 20s\n%s", s.out)
	return nil
}

func adminToken(t *testing.T, data string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestSIGTERMFinishesInFlightRequest starts a request, sends SIGTERM while
// its body is still arriving, and checks that the request completes, the
// process exits 0 in bounded time, and a restart still has the data.
func TestSIGTERMFinishesInFlightRequest(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	tok := adminToken(t, data)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+s.addr+"/api/v1/opsitems", pr)
	req.Header.Set("Authorization", "Bearer "+tok)
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	io.WriteString(pw, `{"title": "in flight during SIGTERM", `)
	time.Sleep(100 * time.Millisecond) // let the request reach the handler
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // shutdown has begun; the body is not finished
	io.WriteString(pw, `"severity": "low"}`)
	pw.Close()
	r := <-done
	if r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("in-flight request: status %d err %v body %s\n%s", r.status, r.err, r.body, s.out)
	}
	select {
	case err := <-s.exited:
		s.exited <- err
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.out)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("server still running 10s after SIGTERM\n%s", s.out)
	}

	s2 := startServer(t, data)
	out, code := run(t, "opsitem", "list", "--server", s2.addr, "--token", tok)
	if code != 0 || !strings.Contains(out, "in flight during SIGTERM") {
		t.Errorf("after restart (exit %d):\n%s", code, out)
	}
}

func TestSecondServeRefused(t *testing.T) {
	data := t.TempDir()
	startServer(t, data)
	out, code := run(t, "serve", "--addr", freeAddr(t), "--data", data)
	if code == 0 || !strings.Contains(out, "in use by another flywheel process") {
		t.Errorf("second serve: exit %d\n%s", code, out)
	}
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"altered", "UPDATE audit_records SET action = 'opsitem.delete' WHERE tenant_id = 'default' AND seq = 3", "record 3"},
		{"deleted", "DELETE FROM audit_records WHERE tenant_id = 'default' AND seq = 2", "record 2"},
		{"truncated", "DELETE FROM audit_records WHERE tenant_id = 'default' AND seq = (SELECT MAX(seq) FROM audit_records WHERE tenant_id = 'default')", "tail deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			s := startServer(t, data)
			tok := adminToken(t, data)
			for i := range 3 {
				if out, code := run(t, "opsitem", "create", "--title", fmt.Sprint("item ", i), "--server", s.addr, "--token", tok); code != 0 {
					t.Fatalf("create: %s", out)
				}
			}
			out, code := run(t, "audit", "verify", "--data", data)
			if code != 0 || !strings.Contains(out, "ok") {
				t.Fatalf("intact chain: exit %d\n%s", code, out)
			}
			db, err := sql.Open("sqlite", filepath.Join(data, "flywheel.db")+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(context.Background(), tc.sql); err != nil {
				t.Fatal(err)
			}
			db.Close()
			out, code = run(t, "audit", "verify", "--data", data)
			if code != 1 || !strings.Contains(out, tc.want) || !strings.Contains(out, "BROKEN") {
				t.Errorf("after %s: exit %d, want 1 naming %q\n%s", tc.name, code, tc.want, out)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	out, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "flywheel ") {
		t.Errorf("version: %d %q", code, out)
	}
}
