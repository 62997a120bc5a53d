package servercmd

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write
// while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFirstStartIsQuiet starts `flywheel serve` in-process on a fresh data
// directory, lets it run past River's producer interval (5 s), stops it,
// and counts what it logged at INFO and above: River's migrations, client
// and producer chatter are DEBUG, and library rules notifying a channel
// nobody configured are a setup task (flywheel doctor), not warnings.
func TestFirstStartIsQuiet(t *testing.T) {
	t.Parallel()
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()},
			Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errOut.String(), "flywheel serving") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The library's rules notifying an unconfigured channel are a setup
	// task in `flywheel doctor`, against the running server.
	addr := regexp.MustCompile(`addr=(http://\S+)`).FindStringSubmatch(errOut.String())
	token := regexp.MustCompile(`fw_\S+`).FindString(out.String())
	if addr == nil || token == "" {
		t.Fatalf("no address in the log or token in the notice:\n%s\n%s", errOut.String(), out.String())
	}
	var dout, derr bytes.Buffer
	code := Execute(ctx, []string{"doctor", "--server", addr[1], "--token", token},
		Env{Stdout: &dout, Stderr: &derr, Lookup: func(string) (string, bool) { return "", false }})
	if code != 0 || !strings.Contains(dout.String(), "todo  notifications") ||
		!strings.Contains(dout.String(), `Rule "guardduty-credential-misuse"`) || !strings.Contains(dout.String(), "notifications:") {
		t.Errorf("doctor exited %d:\n%s%s", code, dout.String(), derr.String())
	}
	time.Sleep(6 * time.Second) // past one producer interval
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, errOut.String())
	}
	var loud []string
	for _, l := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
		if !strings.Contains(l, "level=DEBUG") {
			loud = append(loud, l)
		}
	}
	if len(loud) > 5 {
		t.Errorf("first start logged %d lines at INFO or above, want at most 5:\n%s", len(loud), strings.Join(loud, "\n"))
	}
	for _, l := range loud {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			t.Errorf("first start warned: %s", l)
		}
	}
	if !strings.Contains(out.String(), "admin API token") {
		t.Errorf("the admin token notice is missing from stdout:\n%s", out.String())
	}
}
