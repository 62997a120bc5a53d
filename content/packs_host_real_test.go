package content_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// The host packs run for real here: each test starts its own instance of
// the service (never the machine's), induces the failure, runs the pack's
// runbooks through the executor on this machine (the exec action's local
// target) and checks what they report and what they changed.

// packHarness is an executor with the built-in library and the pack's
// runbooks, allowed to run commands on this machine.
func packHarness(t *testing.T, pack string) *harness {
	t.Helper()
	return newHarnessContent(t, nil, exec.Options{AllowLocal: true}, nil, packSources(t, pack)...)
}

// freePort is a TCP port on 127.0.0.1 nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// reportOf is the one host's entry of a diagnostics runbook's collected
// value on the OpsItem, by key.
func reportOf(t *testing.T, o store.OpsItem, name, key string) string {
	t.Helper()
	entries, _ := decode(t, o.OperationalData)[name].([]any)
	if len(entries) != 1 {
		t.Fatalf("operational data %s: %s", name, o.OperationalData)
	}
	s, _ := entries[0].(map[string]any)[key].(string)
	return s
}

func mustContain(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func expectStatus(t *testing.T, h *harness, e store.Execution, status string, steps ...string) {
	t.Helper()
	got := h.steps(t, e)
	var names []string
	for _, s := range got {
		names = append(names, strings.SplitN(s, " (", 2)[0])
	}
	if e.Status != status || (steps != nil && strings.Join(names, ",") != strings.Join(steps, ",")) {
		t.Fatalf("execution %s: %s (%s)\nsteps: %v\nwant %s with steps %v", e.Runbook, e.Status, e.Error, got, status, steps)
	}
}

// writeCert writes a self-signed ECDSA certificate for cn valid for
// validFor from now, and its key, as PEM files in dir.
func writeCert(t *testing.T, dir, name, cn string, validFor time.Duration) (certPath, keyPath string, notAfter time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Reports count whole days left, in whole seconds: give validFor a
	// minute short of whole days, or a run within the same second as this
	// counts one day more than a slower one.
	notAfter = time.Now().Add(validFor).Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		DNSNames: []string{cn}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, notAfter
}

// certNotAfter reads a PEM certificate file's expiry.
func certNotAfter(t *testing.T, path string) time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.NotAfter
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	// A new connection each time, as a new client's: an old worker keeps
	// serving a kept-alive connection after a reload, with the old
	// configuration, until it closes it.
	resp, err := noKeepAlive.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

const nginxConf = `user root;
worker_processes 1;
pid nginx.pid;
error_log logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path tmp;
  proxy_temp_path tmp;
  fastcgi_temp_path tmp;
  uwsgi_temp_path tmp;
  scgi_temp_path tmp;
  upstream app { server 127.0.0.1:%[2]d; }
  server {
    listen 127.0.0.1:%[1]d;
    location /nginx_status { stub_status; }
    location /app { proxy_pass http://app; }
    location /version { return 200 "%[5]s"; }
    %[6]s
  }
  server {
    listen 127.0.0.1:%[7]d ssl;
    ssl_certificate %[3]s;
    ssl_certificate_key %[4]s;
    location / { return 200 "tls"; }
  }
}
`

// workers are the child processes of pid.
func workers(t *testing.T, pid int) string {
	t.Helper()
	out, _ := osexec.Command("pgrep", "-P", strconv.Itoa(pid)).Output()
	return strings.Join(strings.Fields(string(out)), " ")
}

// TestNginxPackOnRealNginx: a private nginx (own prefix, free ports) with
// an upstream that refuses connections, a certificate expiring in two
// days and 55 idle clients holding most of its 64 worker_connections.
// nginx-diagnostics reports each; nginx-safe-reload refuses a broken
// configuration (nginx keeps serving the old one with the same workers)
// and reloads a good one (new workers, the new response).
func TestNginxPackOnRealNginx(t *testing.T) {
	t.Parallel()
	testenv.Program(t, "nginx", "nginx")
	testenv.Program(t, "curl", "curl")
	prefix := t.TempDir()
	for _, d := range []string{"logs", "tmp", "conf"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cert, key, _ := writeCert(t, filepath.Join(prefix, "conf"), "www", "www.test", 48*time.Hour-time.Minute)
	port, dead, tlsPort := freePort(t), freePort(t), freePort(t)
	conf := filepath.Join(prefix, "conf", "nginx.conf")
	write := func(version, extra string) {
		t.Helper()
		if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, port, dead, cert, key, version, extra, tlsPort), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("v1", "")
	if out, err := osexec.Command("nginx", "-p", prefix, "-c", conf).CombinedOutput(); err != nil {
		t.Fatalf("start nginx: %v\n%s", err, out)
	}
	var master int
	t.Cleanup(func() {
		if master > 0 {
			_ = osexec.Command("kill", strconv.Itoa(master)).Run()
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(prefix, "nginx.pid"))
		master, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		if master > 0 && workers(t, master) != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The failures: a request to the dead upstream (502, logged), and 50
	// idle connections.
	if code, _ := httpGet(t, base+"/app"); code != http.StatusBadGateway {
		t.Fatalf("/app answered %d, want 502 from the dead upstream", code)
	}
	var idle []net.Conn
	// 55 clients and the stub_status request: 56 of 64, above the
	// default warn_percent (80).
	for range 55 {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	h := packHarness(t, "nginx")
	params := map[string]any{"conf": conf, "prefix": prefix, "status_url": base + "/nginx_status"}
	e, o := h.run(t, "nginx-diagnostics", params, "local")
	for _, c := range idle {
		c.Close()
	}
	expectStatus(t, h, e, runbook.StatusSucceeded, "gather", "record", "note")
	if got := jsonOf(decode(t, e.Outputs)); got != `{"config_ok":1,"hosts":1,"with_problems":1}` {
		t.Errorf("outputs %s", got)
	}
	report := reportOf(t, o, "nginx_diagnostics", "report")
	upstream := "127.0.0.1:" + strconv.Itoa(dead)
	mustContain(t, "nginx diagnostics", report,
		"config test: ok", "Active connections:",
		upstream+": DOWN (no connection)", "PROBLEM: upstream "+upstream+" does not accept connections",
		"connect() failed (111: Connection refused) while connecting to upstream",
		"PROBLEM: 1 upstream errors in "+filepath.Join(prefix, "logs/error.log"),
		cert+": EXPIRING in 1 days", "PROBLEM: certificate "+cert+" expires in 1 days")
	if m := regexp.MustCompile(`connections: (\d+) active of 64 \(1 workers x 64 worker_connections, (\d+)%\)`).FindStringSubmatch(report); m == nil {
		t.Errorf("no connection count against worker_connections:\n%s", report)
	} else if n, _ := strconv.Atoi(m[1]); n < 56 || !strings.Contains(report, "PROBLEM: connections at "+m[2]+"% of worker_connections capacity") {
		t.Errorf("%s active connections (55 idle clients held); want them reported as a problem:\n%s", m[1], report)
	}
	t.Logf("diagnostics:\n%s", report)

	// A broken configuration: the reload is refused, nginx serves on with
	// the same workers and the old response.
	before := workers(t, master)
	write("v2", "this_is_not_a_directive on;")
	e, o = h.run(t, "nginx-safe-reload", map[string]any{"conf": conf, "prefix": prefix}, "local")
	expectStatus(t, h, e, runbook.StatusFailed, "test", "refused", "refused_note", "fail")
	mustContain(t, "nginx_config_test", reportOf(t, o, "nginx_config_test", "output"), `unknown directive "this_is_not_a_directive"`, "test failed")
	if _, body := httpGet(t, base+"/version"); body != "v1" || workers(t, master) != before {
		t.Errorf("after the refused reload: /version %q, workers %q (were %q); want v1 and the same workers", body, workers(t, master), before)
	}

	// The diagnostics of the broken configuration say what nginx -t says.
	e, o = h.run(t, "nginx-diagnostics", params, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "gather", "record", "note")
	if got := jsonOf(decode(t, e.Outputs)); got != `{"config_ok":0,"hosts":1,"with_problems":1}` {
		t.Errorf("outputs with the broken configuration: %s", got)
	}
	mustContain(t, "nginx diagnostics of the broken configuration", reportOf(t, o, "nginx_diagnostics", "report"),
		`unknown directive "this_is_not_a_directive"`, "config test: FAILED", "PROBLEM: nginx -t fails")

	// Fixed: tested, reloaded, new workers under the same master, the new response.
	write("v2", "")
	e, o = h.run(t, "nginx-safe-reload", map[string]any{"conf": conf, "prefix": prefix, "check_url": base + "/version"}, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "test", "reload", "record", "note", "done")
	mustContain(t, "nginx_reload", reportOf(t, o, "nginx_reload", "result"), "reloaded: master "+strconv.Itoa(master))
	// An old worker may still take a new connection in the instant before
	// it reads its signal to quit; within seconds only new workers answer.
	body := ""
	for deadline := time.Now().Add(10 * time.Second); body != "v2" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, body = httpGet(t, base+"/version")
	}
	if body != "v2" {
		t.Errorf("10 s after the reload /version answers %q, want v2", body)
	}
	if after := workers(t, master); after == before || after == "" {
		t.Errorf("workers %q after the reload, %q before", after, before)
	}
}

// redisCLI runs redis-cli against port.
func redisCLI(t *testing.T, port int, stdin []byte, args ...string) string {
	t.Helper()
	cmd := osexec.Command("redis-cli", append([]string{"-p", strconv.Itoa(port)}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// startRedis starts a private redis-server on a free port with args.
func startRedis(t *testing.T, args ...string) int {
	t.Helper()
	port := freePort(t)
	cmd := osexec.Command("redis-server", append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for osexec.Command("redis-cli", "-p", strconv.Itoa(port), "PING").Run() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return port
}

// TestRedisPackOnRealRedis: a private redis-server with maxmemory 2 MiB
// and noeviction, filled until it refuses writes. redis-diagnostics
// reports the memory problem and the biggest key; redis-memory-relief
// waits for an approval, switches to allkeys-lru and a write succeeds.
// Then its data directory goes away: the next BGSAVE fails and the
// diagnostics report the persistence failure with the log's error; a
// replica of a master that does not answer is reported with its link down.
func TestRedisPackOnRealRedis(t *testing.T) {
	t.Parallel()
	testenv.Program(t, "redis-server", "redis-server")
	testenv.Program(t, "redis-tools", "redis-cli")
	dataDir, logDir := t.TempDir(), t.TempDir()
	port := startRedis(t, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction", "--dir", dataDir, "--logfile", filepath.Join(logDir, "redis.log"))

	// Fill it: one big key, then 10 KB values until Redis refuses them.
	redisCLI(t, port, bytes.Repeat([]byte("b"), 400_000), "-x", "SET", "big:blob")
	var pipe bytes.Buffer
	value := strings.Repeat("v", 10_000)
	for i := range 300 {
		k := "fill:" + strconv.Itoa(i)
		fmt.Fprintf(&pipe, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(value), value)
	}
	// redis-cli --pipe exits 1 when Redis refused some of the commands.
	fill := osexec.Command("redis-cli", "-p", strconv.Itoa(port), "--pipe")
	fill.Stdin = &pipe
	if out, _ := fill.CombinedOutput(); !regexp.MustCompile(`errors: [1-9][0-9]*, replies: 300`).Match(out) {
		t.Fatalf("filling 3 MB into 2 MB: %s; want refused writes", out[max(0, len(out)-200):])
	}
	if out := redisCLI(t, port, nil, "SET", "one:more", value); !strings.Contains(out, "OOM") {
		t.Fatalf("a write at maxmemory: %q, want OOM", out)
	}

	h := packHarness(t, "redis")
	e, o := h.run(t, "redis-diagnostics", map[string]any{"port": port}, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "gather", "record", "note")
	report := reportOf(t, o, "redis_diagnostics", "report")
	mustContain(t, "redis diagnostics", report, "maxmemory_human: 2.00M", "maxmemory_policy: noeviction",
		"with maxmemory-policy noeviction: writes are refused (OOM)", "Biggest string found", "big:blob", "role: master", "rdb_last_bgsave_status: ok")
	if m := regexp.MustCompile(`memory: (\d+)% of maxmemory`).FindStringSubmatch(report); m == nil {
		t.Errorf("no memory percentage:\n%s", report)
	} else if n, _ := strconv.Atoi(m[1]); n < 90 {
		t.Errorf("memory at %d%% of maxmemory after filling it", n)
	}
	t.Logf("diagnostics:\n%s", report)

	// The remediation waits for a person, then evicts: writes succeed.
	h.approver = &execution.Approver{Actor: "user:oncall", Role: store.RoleOperator}
	e, o = h.run(t, "redis-memory-relief", map[string]any{"port": port, "policy": "allkeys-lru"}, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "check", "measure", "approve", "apply", "verify", "record", "note")
	if h.approved != 1 || jsonOf(decode(t, e.Outputs)) != `{"changed":1,"writable":1}` {
		t.Errorf("approvals %d, outputs %s", h.approved, e.Outputs)
	}
	mustContain(t, "redis_memory_relief", reportOf(t, o, "redis_memory_relief", "change"), "maxmemory-policy: noeviction -> allkeys-lru")
	if got := redisCLI(t, port, nil, "CONFIG", "GET", "maxmemory-policy"); !strings.HasSuffix(got, "allkeys-lru") {
		t.Errorf("maxmemory-policy after: %q", got)
	}
	if out := redisCLI(t, port, nil, "SET", "one:more", value); out != "OK" {
		t.Errorf("a write after the remediation: %q", out)
	}

	// Persistence: the data directory is gone, BGSAVE fails.
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}
	redisCLI(t, port, nil, "BGSAVE")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(redisCLI(t, port, nil, "INFO", "persistence"), "rdb_last_bgsave_status:err") {
		if time.Now().After(deadline) {
			t.Fatal("BGSAVE into a removed directory did not fail")
		}
		time.Sleep(100 * time.Millisecond)
	}
	e, o = h.run(t, "redis-diagnostics", map[string]any{"port": port, "bigkeys": false}, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "gather", "record", "note")
	mustContain(t, "redis diagnostics after a failed BGSAVE", reportOf(t, o, "redis_diagnostics", "report"),
		"rdb_last_bgsave_status: err", "PROBLEM: the last RDB snapshot (BGSAVE) failed", "Failed opening the temp RDB file")

	// Replication: a replica whose master does not answer.
	replica := startRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(freePort(t)))
	e, o = h.run(t, "redis-diagnostics", map[string]any{"port": replica, "bigkeys": false}, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "gather", "record", "note")
	mustContain(t, "replica diagnostics", reportOf(t, o, "redis_diagnostics", "report"), "role: slave", "link down",
		"PROBLEM: the replication link to the master 127.0.0.1:")
}

// systemctlHere is the systemctl the exec action's commands reach, when
// it can manage units here: systemd's own (PID 1), or Debian's daemonless
// systemctl that .ci/run links into /usr/local/bin.
func systemctlHere(t *testing.T) string {
	t.Helper()
	for _, dir := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		p := filepath.Join(dir, "systemctl")
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if osexec.Command(p, "is-system-running").Run() == nil {
			return p
		}
		if b, _ := os.ReadFile(p); bytes.HasPrefix(b, []byte("#! /usr/bin/python3")) {
			return p
		}
		break
	}
	testenv.Absent(t, "no systemctl that can manage units (systemd is not PID 1 and the daemonless systemctl is not in /usr/local/bin; see .ci/run)")
	return ""
}

// TestSystemdPackOnRealUnit: a unit that dies at start because a file it
// needs is missing. systemd-unit-diagnostics reports it failed with its
// log; systemd-restart-with-backoff tries twice, fails and puts the log on
// the OpsItem; once the file exists it restarts the unit and verifies it
// stays active.
func TestSystemdPackOnRealUnit(t *testing.T) {
	t.Parallel()
	systemctl := systemctlHere(t)
	unit := "flywheel-pack-" + strconv.Itoa(os.Getpid()) + ".service"
	need := filepath.Join(t.TempDir(), "worker.conf")
	unitPath := filepath.Join("/etc/systemd/system", unit)
	body := "[Unit]\nDescription=Flywheel systemd pack test\n\n[Service]\n" +
		"ExecStart=/bin/sh -c 'test -f " + need + " || { echo \"worker: cannot open " + need + ": No such file or directory\" >&2; exit 1; }; exec sleep 3600'\n" +
		"Restart=on-failure\nRestartSec=1\n"
	if err := os.WriteFile(unitPath, []byte(body), 0o644); err != nil {
		testenv.Absent(t, "write a unit file: %v", err)
	}
	t.Cleanup(func() {
		_ = osexec.Command(systemctl, "stop", unit).Run()
		_ = os.Remove(unitPath)
		_ = os.Remove("/var/log/journal/" + unit + ".log")
		_ = osexec.Command(systemctl, "daemon-reload").Run()
	})
	_ = osexec.Command(systemctl, "daemon-reload").Run()
	_ = osexec.Command(systemctl, "start", unit).Run() // fails: the file is missing
	time.Sleep(2 * time.Second)

	h := packHarness(t, "systemd")
	start := time.Now()
	e, o := h.run(t, "systemd-unit-diagnostics", map[string]any{"unit": unit}, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "gather", "record", "note")
	report := reportOf(t, o, "systemd_units", "report")
	mustContain(t, "unit diagnostics", report, "== "+unit+" ==", "cannot open "+need)
	if !strings.Contains(report, "PROBLEM: "+unit+" has failed") && !strings.Contains(report, "PROBLEM: "+unit+" is crash-looping") {
		t.Errorf("the unit is not reported failed or crash-looping:\n%s", report)
	}
	t.Logf("diagnostics:\n%s", report)

	params := map[string]any{"unit": unit, "attempts": 2, "verify_seconds": 2, "backoff_seconds": 1}
	t.Logf("%s: %s", e.Runbook, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	e, o = h.run(t, "systemd-restart-with-backoff", params, "local")
	expectStatus(t, h, e, runbook.StatusFailed, "restart", "journal", "collect_journal", "fail")
	failed, _ := decode(t, o.OperationalData)["systemd_restart_failed"].([]any)
	if len(failed) != 1 {
		t.Fatalf("systemd_restart_failed: %s", o.OperationalData)
	}
	entry := failed[0].(map[string]any)
	mustContain(t, "the failed restart's report", entry["attempts"].(string)+entry["journal"].(string),
		"attempt 1:", "backing off 1 s", "attempt 2:", "is not active after 2 attempts", "cannot open "+need)

	if err := os.WriteFile(need, []byte("ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s", e.Runbook, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	e, o = h.run(t, "systemd-restart-with-backoff", params, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "restart", "record", "note", "done")
	out, _ := osexec.Command(systemctl, "show", "-p", "ActiveState", unit).Output()
	if strings.TrimSpace(string(out)) != "ActiveState=active" {
		t.Errorf("after the restart: %s", out)
	}
	mustContain(t, "systemd_restart", jsonOf(decode(t, o.OperationalData)["systemd_restart"]), "active: "+unit)
	t.Logf("%s: %s", e.Runbook, time.Since(start).Round(time.Millisecond))
}

// TestTLSPackOnRealCertificates: a certificate file and a TLS endpoint
// expiring in two days, one file valid for 90. tls-cert-expiry-report
// finds both expiring ones and not the other; tls-cert-renew runs a
// renewal command (openssl, standing in for the host's ACME client), sees
// the new expiry and reloads; a renewal that renews nothing fails,
// reported, without a reload.
func TestTLSPackOnRealCertificates(t *testing.T) {
	t.Parallel()
	openssl := testenv.Program(t, "openssl", "openssl")
	dir := t.TempDir()
	cert, key, _ := writeCert(t, dir, "www", "www.test", 48*time.Hour-time.Minute)
	long, _, _ := writeCert(t, dir, "api", "api.test", 90*24*time.Hour-time.Minute)
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	endpoint := l.Addr().String()
	unreachable := "127.0.0.1:" + strconv.Itoa(freePort(t))

	h := packHarness(t, "tls-certificates")
	e, o := h.run(t, "tls-cert-expiry-report", map[string]any{"dirs": []any{dir}, "endpoints": []any{endpoint, unreachable}, "warn_days": 14}, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "scan", "record", "note")
	report := reportOf(t, o, "tls_certificates", "report")
	mustContain(t, "expiry report", report, "EXPIRING "+cert+": 1 days left", "ok "+long+": 89 days left", "CN = api.test",
		"EXPIRING "+endpoint+": 1 days left", "UNREACHABLE "+unreachable, "checked: 3, expiring within 14 days: 2, unreachable: 1")
	if strings.Contains(report, key) {
		t.Errorf("the report read a key file:\n%s", report)
	}
	t.Logf("report:\n%s", report)

	marker := filepath.Join(dir, "reloaded")
	renew := []any{openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "90",
		"-subj", "/CN=www.test", "-keyout", key, "-out", cert}
	params := map[string]any{"cert_files": []any{cert}, "renew_command": []any{"/bin/true"}, "min_days": 30,
		"reload_command": []any{"/bin/sh", "-c", "date > " + marker}}
	e, o = h.run(t, "tls-cert-renew", params, "local")
	expectStatus(t, h, e, runbook.StatusFailed, "before", "renew", "after", "failed", "fail")
	mustContain(t, "tls_renewal_failed", reportOf(t, o, "tls_renewal_failed", "after"), "SHORT "+cert+": 1 days left")
	if _, err := os.Stat(marker); err == nil {
		t.Error("the service was reloaded after a failed renewal")
	}

	params["renew_command"] = renew
	e, o = h.run(t, "tls-cert-renew", params, "local")
	expectStatus(t, h, e, runbook.StatusSucceeded, "before", "renew", "after", "reload", "record", "note", "done")
	if days := time.Until(certNotAfter(t, cert)).Hours() / 24; days < 89 || days > 90 {
		t.Errorf("the renewed certificate has %.1f days left, want 90", days)
	}
	mustContain(t, "tls_renewal", reportOf(t, o, "tls_renewal", "before"), "SHORT "+cert+": 1 days left")
	// 90 days from the renewal, read a moment later: 89 or 90 whole days.
	if after := reportOf(t, o, "tls_renewal", "after"); !regexp.MustCompile(`ok ` + regexp.QuoteMeta(cert) + `: (89|90) days left`).MatchString(after) {
		t.Errorf("tls_renewal after:\n%s", after)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the reload command did not run after the verified renewal: %v", err)
	}
}
