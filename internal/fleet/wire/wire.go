// Package wire holds the JSON messages between a host agent (internal/agent)
// and the server's fleet endpoints (internal/fleet, served by internal/api),
// so both sides compile against one definition of the protocol.
//
// The agent authenticates every request after enrollment with
//
//	Authorization: Agent <agent-id>:<secret>
//
// a scheme of its own: an agent credential is never accepted as a user's
// bearer token, nor a user token as an agent credential.
//
// The package imports nothing of Flywheel's: the agent binary
// (cmd/flywheel-agent) is built from internal/agent and this package alone,
// without the server's store, API, UI or cloud code. The store keeps the
// types it shares with the protocol (CommandSpec, the command statuses) as
// aliases of these.
package wire

import (
	"encoding/json"
	"strings"
	"time"
)

// AuthScheme is the Authorization scheme of agent credentials.
const AuthScheme = "Agent"

// Secret prefixes: enrollment tokens and agent secrets are recognisable
// (and greppable when leaked), and differ from user tokens ("fw_").
const (
	EnrollTokenPrefix = "fwe_"
	AgentSecretPrefix = "fwa_"
)

// Paths of the agent endpoints.
const (
	PathEnroll    = "/api/v1/agent/enroll"
	PathHeartbeat = "/api/v1/agent/heartbeat"
	PathCommands  = "/api/v1/agent/commands"
	PathInventory = "/api/v1/agent/inventory"
	PathBinary    = "/api/v1/agent/binary"
)

// CommandOutputPath and CommandResultPath are where a command's output
// chunks and its result go.
func CommandOutputPath(id string) string { return PathCommands + "/" + id + "/output" }
func CommandResultPath(id string) string { return PathCommands + "/" + id + "/result" }

// Host describes the agent's machine and build; sent at enrollment and
// with every heartbeat.
type Host struct {
	Hostname string `json:"hostname"`
	// Version is the agent's build version (internal/version).
	Version string `json:"version"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// EnrollRequest trades a one-time enrollment token for a credential.
type EnrollRequest struct {
	Token string `json:"token"`
	Host
	// Tags are the agent's own tags (--tags); the token's tags win.
	Tags map[string]string `json:"tags,omitempty"`
}

// EnrollResponse carries the agent's credential: shown once, stored by
// the agent 0600 in its state directory.
type EnrollResponse struct {
	AgentID    string `json:"agent_id"`
	Secret     string `json:"secret"`
	TenantID   string `json:"tenant"`
	ResourceID string `json:"resource_id"`
	// UpdateKey is the server's ed25519 public key for agent builds
	// (base64): the agent pins it and installs only builds signed with
	// it (UpdateMessage).
	UpdateKey string `json:"update_key,omitempty"`
}

// Heartbeat says the agent is alive.
type Heartbeat struct {
	Host
	// StartedAt is when the agent process started (its uptime).
	StartedAt time.Time `json:"started_at"`
	// Interval is the agent's heartbeat period: the server counts misses
	// in it.
	Interval time.Duration `json:"interval"`
	// Update is the outcome of the agent's last self-update attempt, if
	// any: "updated from v1 to v2", "failed: checksum mismatch".
	Update string `json:"update,omitempty"`
}

// HeartbeatResponse tells the agent what the server wants of it.
type HeartbeatResponse struct {
	ServerTime time.Time `json:"server_time"`
	// DesiredVersion is the agent version the fleet should run ("" when
	// the server does not manage versions).
	DesiredVersion string `json:"desired_version,omitempty"`
	// Interval is the heartbeat interval the server wants; an agent
	// started without --heartbeat adopts it (0: keep its own).
	Interval time.Duration `json:"interval,omitempty"`
	// Update is set when the agent is outdated and the server has a
	// binary for its OS and architecture.
	Update *Update `json:"update,omitempty"`
}

// Update points to the agent binary to install.
type Update struct {
	Version string `json:"version"`
	// URL is relative to the server (PathBinary with os and arch).
	URL    string `json:"url"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Signature is the ed25519 signature of UpdateMessage(SHA256) with the
	// key the agent pinned at enrollment (base64).
	Signature string `json:"signature,omitempty"`
}

// UpdateMessage is what an agent build's signature signs: a fixed
// context and the build's SHA-256 (hex, lower case).
func UpdateMessage(sha256Hex string) []byte {
	return []byte("flywheel agent build v1 sha256:" + strings.ToLower(sha256Hex))
}

// Poll is the long-poll's answer: commands to start and running ones to
// cancel. An empty answer means the wait ended without work.
type Poll struct {
	Commands []Command `json:"commands,omitempty"`
	Cancel   []string  `json:"cancel,omitempty"`
}

// Command is one command for the agent to run.
type Command struct {
	ID   string      `json:"id"`
	Spec CommandSpec `json:"spec"`
}

// CommandSpec is what to run on an agent.
type CommandSpec struct {
	// Argv runs a program directly; Script runs text with Shell (default
	// /bin/sh). Exactly one is set.
	Argv   []string `json:"argv,omitempty"`
	Script string   `json:"script,omitempty"`
	Shell  string   `json:"shell,omitempty"`
	// Env adds variables to the agent's environment.
	Env map[string]string `json:"env,omitempty"`
	Dir string            `json:"dir,omitempty"`
	// User runs the command as another user (the agent must be root).
	User    string        `json:"user,omitempty"`
	Timeout time.Duration `json:"timeout"`
	// Patch, instead of Argv or Script, runs a patch operation with the
	// agent's own package backend.
	Patch *PatchRequest `json:"patch,omitempty"`
}

// The final statuses an agent reports in a Result.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusTimedOut  = "timed-out"
	StatusCancelled = "cancelled"
)

// Output is a chunk of a command's combined stdout and stderr. Offset is
// the byte position of Data in everything the command printed, so a
// retried chunk is not stored twice.
type Output struct {
	Offset int64  `json:"offset"`
	Data   string `json:"data"`
}

// Result is how a command ended.
type Result struct {
	// Status is succeeded, failed, timed-out or cancelled.
	Status string `json:"status"`
	// ExitCode is set when the process ran and exited (-1: killed by a
	// signal).
	ExitCode *int   `json:"exit_code,omitempty"`
	Error    string `json:"error,omitempty"`
	// OutputBytes counts everything the command printed.
	OutputBytes int64 `json:"output_bytes"`
}

// Inventory is a host's inventory report: all sections (Full) or only
// those that changed since the last report (a diff), and the names of
// sections that disappeared.
type Inventory struct {
	Full     bool                       `json:"full"`
	Sections map[string]json.RawMessage `json:"sections"`
	Removed  []string                   `json:"removed,omitempty"`
}
