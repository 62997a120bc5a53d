package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// retryUpdateAfter is how long a build that failed to install is left
// alone before the agent tries it again.
const retryUpdateAfter = time.Hour

// maybeUpdate installs the build the server offers: download beside the
// running binary, verify its SHA-256 and size, check it runs and reports
// the offered version, keep the old binary as <exe>.old, rename the new one
// over the running one (atomic), record the update as pending and ask Run
// to re-execute. Any failure leaves the running binary in place and is
// reported with the next heartbeats.
func (a *Agent) maybeUpdate(ctx context.Context, u wire.Update) {
	a.mu.Lock()
	if a.updating {
		a.mu.Unlock()
		return
	}
	if prev := a.st.Update; prev != nil && prev.SHA256 == u.SHA256 && time.Since(prev.At) < retryUpdateAfter {
		a.mu.Unlock()
		return
	}
	a.updating = true
	a.mu.Unlock()
	err := a.install(ctx, u)
	a.mu.Lock()
	a.updating = false
	a.mu.Unlock()
	if err == nil {
		return
	}
	outcome := fmt.Sprintf("failed: update to %s: %v", u.Version, err)
	a.log.Error("self-update failed; keeping the running version", "to", u.Version, "error", err)
	a.setOutcome(outcome)
	a.st.Update = &UpdateState{From: a.cfg.Version, To: u.Version, SHA256: u.SHA256, At: time.Now().UTC(), Outcome: outcome}
	if err := SaveState(a.cfg.StateDir, a.st); err != nil {
		a.log.Error("save state", "error", err)
	}
}

func (a *Agent) setOutcome(s string) {
	a.mu.Lock()
	a.outcome = s
	a.mu.Unlock()
}

func (a *Agent) install(ctx context.Context, u wire.Update) error {
	exe, err := a.executable()
	if err != nil {
		return err
	}
	if len(u.SHA256) != 64 {
		return fmt.Errorf("the server offered no valid SHA-256 (%q)", u.SHA256)
	}
	if err := verifyBuild(a.st.UpdateKey, u); err != nil {
		return err
	}
	a.log.Info("self-update: downloading", "from", a.cfg.Version, "to", u.Version, "sha256", u.SHA256)
	next := exe + ".new"
	if err := a.download(ctx, u, next); err != nil {
		os.Remove(next)
		return err
	}
	if err := checkRuns(ctx, next, u.Version); err != nil {
		os.Remove(next)
		return err
	}
	old := exe + ".old"
	os.Remove(old)
	if err := os.Link(exe, old); err != nil {
		if err := copyFile(exe, old); err != nil {
			os.Remove(next)
			return fmt.Errorf("keep the running binary as %s: %w", old, err)
		}
	}
	if err := os.Rename(next, exe); err != nil {
		os.Remove(next)
		return fmt.Errorf("replace %s: %w", exe, err)
	}
	a.st.Update = &UpdateState{From: a.cfg.Version, To: u.Version, SHA256: u.SHA256, At: time.Now().UTC(), Pending: true}
	if err := SaveState(a.cfg.StateDir, a.st); err != nil {
		// Without the record the new process could not confirm the
		// update: roll back.
		if rerr := os.Rename(old, exe); rerr != nil {
			return fmt.Errorf("save state: %v; and rolling back failed: %w", err, rerr)
		}
		return fmt.Errorf("save state: %w (rolled back)", err)
	}
	a.log.Info("self-update installed; restarting", "binary", exe, "to", u.Version)
	close(a.restart)
	return nil
}

// verifyBuild checks an offered build's signature against the key pinned
// at enrollment, before anything is downloaded; download then checks the
// file against the SHA-256 the signature covers.
func verifyBuild(pinned string, u wire.Update) error {
	if pinned == "" {
		return errors.New("no update key was pinned at enrollment (the agent enrolled with an older server); enroll it again to allow self-updates")
	}
	pub, err := base64.StdEncoding.DecodeString(pinned)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return errors.New("the update key pinned at enrollment is not an ed25519 public key")
	}
	sig, err := base64.StdEncoding.DecodeString(u.Signature)
	if err != nil || !ed25519.Verify(ed25519.PublicKey(pub), wire.UpdateMessage(u.SHA256), sig) {
		return fmt.Errorf("the build's signature does not verify against the key pinned at enrollment; not installing sha256 %s", u.SHA256)
	}
	return nil
}

// executable is the path of the binary to replace.
func (a *Agent) executable() (string, error) {
	if a.cfg.Executable == "" {
		return "", errors.New("the agent's binary path is unknown")
	}
	return a.cfg.Executable, nil
}

// runningBinary is the path of the running binary, symlinks resolved.
func runningBinary() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		return p
	}
	return exe
}

func (a *Agent) download(ctx context.Context, u wire.Update, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", a.st.Server+u.URL, nil)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(u.URL, "/") {
		return fmt.Errorf("update URL %q is not a path on the enrolled server", u.URL)
	}
	req.Header.Set("Authorization", a.c.auth)
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download: HTTP %d", resp.StatusCode)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	h := sha256.New()
	limit := u.Size
	if limit <= 0 {
		limit = 1 << 30
	}
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if u.Size > 0 && n != u.Size {
		return fmt.Errorf("download: %d bytes, want %d", n, u.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(u.SHA256) {
		return fmt.Errorf("checksum mismatch: got sha256 %s, want %s", got, u.SHA256)
	}
	return os.Chmod(path, 0o755)
}

// checkRuns runs `bin version` and wants it to report version.
func checkRuns(ctx context.Context, bin, version string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("the new binary does not run: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if f := strings.Fields(string(out)); len(f) < 2 || f[len(f)-1] != version {
		return fmt.Errorf("the new binary reports %q, not version %s", strings.TrimSpace(string(out)), version)
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// finishUpdate runs at start: a pending update is confirmed when this
// process is the version it installed, and rolled back otherwise.
func (a *Agent) finishUpdate() {
	u := a.st.Update
	if u == nil {
		return
	}
	if !u.Pending {
		a.outcome = u.Outcome
		return
	}
	u.Pending = false
	if a.cfg.Version == u.To {
		u.Outcome = fmt.Sprintf("updated from %s to %s", u.From, u.To)
		a.log.Info("self-update complete", "from", u.From, "to", u.To)
	} else {
		u.Outcome = fmt.Sprintf("failed: restarted as %s, not %s", a.cfg.Version, u.To)
		if exe, err := a.executable(); err == nil {
			if err := os.Rename(exe+".old", exe); err == nil {
				u.Outcome += "; rolled back to the previous binary"
			}
		}
		a.log.Error("self-update did not take", "outcome", u.Outcome)
	}
	a.outcome = u.Outcome
	if err := SaveState(a.cfg.StateDir, a.st); err != nil {
		a.log.Error("save state", "error", err)
	}
}
