package app

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/config"
)

// TestSlowBodyCut: a request whose body stops arriving is cut at the body
// timeout — the server answers and closes the connection — instead of
// holding a handler and a connection for as long as the client likes.
func TestSlowBodyCut(t *testing.T) {
	dir := t.TempDir()
	a, err := New(context.Background(), Options{Config: config.Config{DataDir: dir, Addr: "127.0.0.1:0"}, Out: &bytes.Buffer{},
		BodyTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })

	conn, err := net.Dial("tcp", a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /api/v1/intake/generic HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"title\": \"",
		readAdminToken(t, dir))
	// Then nothing more: the client's own deadline is far beyond the
	// server's.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("no answer after %s: %v (the slow body was not cut)", elapsed, err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || elapsed > 5*time.Second {
		t.Errorf("slow body: %s after %s, want a 4xx within a few seconds of the 500ms body timeout", resp.Status, elapsed)
	}
	// And the connection is closed.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Errorf("the connection stayed open (%d bytes more)", n)
	}
	t.Logf("slow body answered %s after %s", resp.Status, elapsed)
}
