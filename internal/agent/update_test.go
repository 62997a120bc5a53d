package agent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/agent"
	"github.com/flywheel-ops/flywheel/internal/fleet"
)

// fakeBuild writes an executable that reports version v as `flywheel v`.
func fakeBuild(t *testing.T, path, v string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho flywheel "+v+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestSelfUpdateSigned: an agent pins the server's update key at
// enrollment and installs a build signed with it; with another key pinned
// (a server or download it did not enroll with) the same offer is refused
// before anything is downloaded or replaced, and the refusal is reported.
func TestSelfUpdateSigned(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell-script builds")
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	bins := t.TempDir()
	fakeBuild(t, filepath.Join(bins, "flywheel-"+runtime.GOOS+"-"+runtime.GOARCH), "v2")
	s := newTestServer(t, fleet.Options{DesiredVersion: "v2", Binaries: bins, UpdateKey: key})

	run := func(t *testing.T, tamper bool) (exe string, restarted chan struct{}, id string) {
		dir := t.TempDir()
		exe = filepath.Join(dir, "flywheel")
		fakeBuild(t, exe, "v1")
		stateDir := t.TempDir()
		// Enroll (without running), then optionally swap the pinned key.
		a, err := agent.New(context.Background(), agent.Config{Server: s.url, EnrollToken: s.token(nil), StateDir: stateDir,
			Hostname: "up-" + t.Name(), Version: "v1", Executable: exe})
		if err != nil {
			t.Fatal(err)
		}
		st := a.State()
		if st.UpdateKey != base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)) {
			t.Fatalf("enrollment pinned %q, not the server's update key", st.UpdateKey)
		}
		if tamper {
			other, _, _ := ed25519.GenerateKey(rand.Reader)
			st.UpdateKey = base64.StdEncoding.EncodeToString(other)
			if err := agent.SaveState(stateDir, st); err != nil {
				t.Fatal(err)
			}
		}
		restarted = make(chan struct{})
		startAgent(t, agent.Config{StateDir: stateDir, Hostname: "up-" + t.Name(), Version: "v1", Executable: exe, SelfUpdate: true,
			Restart: func() error { close(restarted); return errors.New("restart: not in tests") }})
		return exe, restarted, st.AgentID
	}

	t.Run("pinned key", func(t *testing.T) {
		exe, restarted, _ := run(t, false)
		select {
		case <-restarted:
		case <-time.After(20 * time.Second):
			t.Fatal("the signed build was not installed")
		}
		if b, _ := os.ReadFile(exe); !strings.Contains(string(b), "v2") {
			t.Errorf("the binary on disk is not the new build: %s", b)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		exe, restarted, id := run(t, true)
		eventually(t, 20*time.Second, "the refusal reported", func() bool {
			ag, err := s.st.GetAgent(context.Background(), tenant, id)
			return err == nil && strings.Contains(ag.Update, "signature does not verify against the key pinned at enrollment")
		})
		select {
		case <-restarted:
			t.Fatal("a build with a bad signature was installed")
		default:
		}
		if b, _ := os.ReadFile(exe); !strings.Contains(string(b), "v1") {
			t.Errorf("the running binary was replaced: %s", b)
		}
		if _, err := os.Stat(exe + ".new"); err == nil {
			t.Error("the refused build was downloaded")
		}
	})
}

// TestPlainHTTPRefused: plain http:// to another host needs Insecure;
// loopback and https do not.
func TestPlainHTTPRefused(t *testing.T) {
	t.Parallel()
	for server, ok := range map[string]bool{
		"http://flywheel.example:8443": false, "http://10.0.0.5": false,
		"http://127.0.0.1:8443": true, "http://localhost:1": true, "http://[::1]:8443": true, "https://flywheel.example": true,
	} {
		_, err := agent.New(ctxDone(), agent.Config{Server: server, StateDir: t.TempDir(), EnrollToken: "fwe_x"})
		refused := err != nil && strings.Contains(err.Error(), "plain http://")
		if refused == ok {
			t.Errorf("%s: %v (want refused=%v)", server, err, !ok)
		}
		if !ok {
			if _, err := agent.New(ctxDone(), agent.Config{Server: server, StateDir: t.TempDir(), EnrollToken: "fwe_x", Insecure: true}); err != nil && strings.Contains(err.Error(), "plain http://") {
				t.Errorf("%s with Insecure: %v", server, err)
			}
		}
	}
}

// ctxDone is a cancelled context: enrollment gives up at once.
func ctxDone() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
