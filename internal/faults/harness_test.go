package faults

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// binary is the flywheel binary the tests run, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flywheel-faults-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "flywheel")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/flywheel")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build flywheel: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// adminToken is every server's admin token (FLYWHEEL_ADMIN_TOKEN), so
// that replicas sharing a database agree on it from the first start.
const adminToken = "fw-faults-admin-token-0123456789"

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// logBuffer is a process's output, safe to read while it writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is a child process the test starts, kills and restarts.
type proc struct {
	name   string
	args   []string
	env    []string
	out    *logBuffer
	cmd    *exec.Cmd
	exited chan error
}

func startProc(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, args: args, env: env, out: &logBuffer{}}
	p.start(t)
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s's output (last 4 KiB):\n%s", p.name, tail(p.out.String(), 4096))
		}
	})
	return p
}

func (p *proc) start(t testing.TB) {
	t.Helper()
	p.cmd = exec.Command(binary, p.args...)
	p.cmd.Env = append(os.Environ(), append([]string{"FLYWHEEL_TOKEN=", "FLYWHEEL_SERVER="}, p.env...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.exited = make(chan error, 1)
	fmt.Fprintf(p.out, "--- start %s\n", time.Now().Format(time.RFC3339Nano))
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(p.cmd, p.exited)
}

// kill sends SIGKILL and waits for the process to be gone; a process
// already gone is left alone.
func (p *proc) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	err := <-p.exited
	p.exited <- err
	fmt.Fprintf(p.out, "--- killed %s\n", time.Now().Format(time.RFC3339Nano))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// server is one `flywheel serve` process on a fixed address (a restart
// comes back on the same one, as a replica behind a load balancer would).
type server struct {
	*proc
	addr string
}

// startServer starts `flywheel serve` on db ("" for SQLite in data) with
// contentDir (may be "") and waits until it answers /healthz.
func startServer(t testing.TB, name, data, db, contentDir string, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	args := []string{"serve", "--addr", addr, "--data", data, "--shutdown-timeout", "5s"}
	if db != "" {
		args = append(args, "--db", db)
	}
	if contentDir != "" {
		args = append(args, "--content", contentDir)
	}
	s := &server{proc: startProc(t, name, append([]string{"FLYWHEEL_ADMIN_TOKEN=" + adminToken}, env...), args...), addr: addr}
	s.waitUp(t, 60*time.Second)
	return s
}

// restart starts the killed server again on its address.
func (s *server) restart(t testing.TB) {
	t.Helper()
	s.start(t)
	s.waitUp(t, 60*time.Second)
}

func (s *server) waitUp(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			t.Fatalf("%s exited: %v\n%s", s.name, err, tail(s.out.String(), 4096))
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not answer within %s\n%s", s.name, within, tail(s.out.String(), 4096))
}

func (s *server) client() *client.Client { return client.New("http://"+s.addr, adminToken) }

// startAgent enrolls and runs a host agent against serverURL with tags.
func startAgent(t testing.TB, c *client.Client, serverURL, hostname string, tags map[string]string) *proc {
	t.Helper()
	var tok api.CreatedEnrollToken
	if err := c.Do(context.Background(), "POST", "/api/v1/enrollment-tokens", api.EnrollTokenInput{Tags: tags}, &tok); err != nil {
		t.Fatal(err)
	}
	return startProc(t, "agent "+hostname, nil, "agent", "run", "--server", serverURL, "--enroll-token", tok.Token,
		"--state", t.TempDir(), "--hostname", hostname, "--heartbeat", "500ms", "--poll-wait", "2s", "--no-inventory", "--self-update=false")
}

// waitAgent waits until the agent of hostname is reporting and returns its
// host resource ID.
func waitAgent(t testing.TB, c *client.Client, hostname string, within time.Duration) string {
	t.Helper()
	var id string
	poll(t, within, "agent "+hostname+" reporting", func() bool {
		var l api.List[api.AgentView]
		if err := c.Do(context.Background(), "GET", "/api/v1/agents", nil, &l); err != nil {
			return false
		}
		for _, a := range l.Items {
			if a.Hostname == hostname && a.State == "reporting" && a.ResourceID != "" {
				id = a.ResourceID
				return true
			}
		}
		return false
	})
	return id
}

// poll calls cond until it holds or within has passed (then the test
// fails naming what).
func poll(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countLines counts the lines of path equal to each of want.
func countLines(t testing.TB, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			n[l]++
		}
	}
	return n
}

// privatePG is a PostgreSQL instance of the test's own: the suite stops
// and restarts it, which it must never do to a shared server.
type privatePG struct {
	bin, dir, port string
	asUser         []string // runuser prefix when the test runs as root
}

// startPrivatePG initdb's a cluster into a temporary directory and starts
// it on a free loopback port. initdb refuses to run as root; as root the
// cluster belongs to the postgres user.
func startPrivatePG(t testing.TB) *privatePG {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		testenv.Absent(t, "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) not installed; apt-get install postgresql")
	}
	pg := &privatePG{bin: filepath.Dir(matches[len(matches)-1])}
	base, err := os.MkdirTemp("", "flywheel-faults-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	pg.dir = filepath.Join(base, "data")
	if err := os.Mkdir(pg.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			testenv.Absent(t, "running as root and there is no postgres user to own a private cluster: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(pg.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		pg.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	pg.port = port
	pg.run(t, "initdb", "-D", pg.dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	conf := "listen_addresses = '127.0.0.1'\nport = " + port + "\nunix_socket_directories = ''\nfsync = on\nmax_connections = 200\nshared_buffers = 64MB\n"
	f, err := os.OpenFile(filepath.Join(pg.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	pg.start(t)
	t.Cleanup(func() { pg.ctl("stop", "-m", "immediate") })
	pg.psql(t, "CREATE DATABASE flywheel")
	return pg
}

func (pg *privatePG) cmd(prog string, args ...string) *exec.Cmd {
	full := append(append([]string{}, pg.asUser...), append([]string{filepath.Join(pg.bin, prog)}, args...)...)
	return exec.Command(full[0], full[1:]...)
}

func (pg *privatePG) run(t testing.TB, prog string, args ...string) {
	t.Helper()
	if out, err := pg.cmd(prog, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", prog, args, err, out)
	}
}

func (pg *privatePG) ctl(args ...string) ([]byte, error) {
	return pg.cmd("pg_ctl", append([]string{"-D", pg.dir, "-w", "-t", "60"}, args...)...).CombinedOutput()
}

func (pg *privatePG) start(t testing.TB) {
	t.Helper()
	if out, err := pg.ctl("start", "-l", filepath.Join(pg.dir, "server.log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "server.log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// crash stops the server as a power cut would look to its clients
// (immediate mode: no checkpoint, connections cut), then starts it again.
func (pg *privatePG) crash(t testing.TB) {
	t.Helper()
	if out, err := pg.ctl("stop", "-m", "immediate"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	pg.start(t)
}

func (pg *privatePG) url(db string) string {
	return "postgres://postgres@127.0.0.1:" + pg.port + "/" + db + "?sslmode=disable"
}

func (pg *privatePG) psql(t testing.TB, sql string) string {
	t.Helper()
	out, err := pg.cmd("psql", "-h", "127.0.0.1", "-p", pg.port, "-U", "postgres", "-d", "postgres", "-XAtq", "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}
