package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// StateFile is the agent's state in its state directory: its identity and
// credential (0600), the server it enrolled with, and a pending self-update.
const StateFile = "agent.json"

// State is what the agent keeps between runs.
type State struct {
	// Server is the URL the agent enrolled with; it talks to no other.
	Server     string    `json:"server"`
	AgentID    string    `json:"agent_id"`
	Secret     string    `json:"secret"`
	TenantID   string    `json:"tenant"`
	ResourceID string    `json:"resource_id"`
	EnrolledAt time.Time `json:"enrolled_at"`
	// CACert is the PEM the agent pins https connections to ("": the
	// system's roots).
	CACert string `json:"ca_cert,omitempty"`
	// UpdateKey is the server's ed25519 public key for agent builds
	// (base64), pinned at enrollment: self-updates install only builds
	// signed with it.
	UpdateKey string `json:"update_key,omitempty"`
	// Update records a self-update in flight (set before re-executing the
	// new binary) or the last one's outcome.
	Update *UpdateState `json:"update,omitempty"`
}

// UpdateState follows one self-update.
type UpdateState struct {
	From   string    `json:"from"`
	To     string    `json:"to"`
	SHA256 string    `json:"sha256"`
	At     time.Time `json:"at"`
	// Pending is set while the new binary has not yet confirmed it runs.
	Pending bool `json:"pending,omitempty"`
	// Outcome is what the agent reports in its heartbeats.
	Outcome string `json:"outcome,omitempty"`
}

// LoadState reads the state in dir; os.ErrNotExist when there is none.
func LoadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(dir, StateFile), err)
	}
	if s.AgentID == "" || s.Secret == "" || s.Server == "" {
		return s, fmt.Errorf("%s: incomplete (no agent ID, secret or server)", filepath.Join(dir, StateFile))
	}
	return s, nil
}

// SaveState writes s to dir atomically (a temporary file renamed over the
// old one), readable by the agent's user only.
func SaveState(dir string, s State) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".agent-*.json")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, StateFile))
}

// haveState reports whether dir holds a state file.
func haveState(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, StateFile))
	return !errors.Is(err, os.ErrNotExist)
}
