package agent_test

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/agent"
)

// TestListeningPorts: the inventory lists the TCP ports this host listens
// on (the server matches 127.0.0.1:<port> targets by them), read from
// /proc/net/tcp and tcp6; sockets not listening are not ports.
func TestListeningPorts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	head := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tcp := head + "   0: 00000000:238C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n" +
		"   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n"
	tcp6 := head + "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3 1 0 100 0 0 10 0\n"
	if err := os.WriteFile(filepath.Join(dir, "tcp"), []byte(tcp), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tcp6"), []byte(tcp6), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := agent.ListeningPorts(dir); !slices.Equal(got, []int{22, 9100}) {
		t.Errorf("ports %v, want [22 9100] (8080 is an established connection, not a listener)", got)
	}
	// On this machine: a port the test listens on is among them.
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp here")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if got := agent.ListeningPorts("/proc/net"); !slices.Contains(got, port) {
		t.Errorf("ports %v lack %d, which this test listens on", got, port)
	}
}
