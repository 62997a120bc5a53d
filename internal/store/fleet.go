package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// FleetReader holds the queries over host agents, their enrollment tokens,
// the commands queued for them and the inventory resources they report.
type FleetReader interface {
	// EnrollTokenByHash finds an enrollment token by the SHA-256 of its
	// secret, used or not.
	EnrollTokenByHash(ctx context.Context, hash string) (EnrollToken, error)
	ListEnrollTokens(ctx context.Context, tenantID string, page Page) ([]EnrollToken, string, error)

	GetAgent(ctx context.Context, tenantID, id string) (Agent, error)
	// ListAgents lists a tenant's agents, newest enrolled first.
	ListAgents(ctx context.Context, tenantID string, page Page) ([]Agent, string, error)
	// AgentCredential returns what authenticating agent id needs, in
	// whatever tenant it is: agents name themselves, not their tenant.
	AgentCredential(ctx context.Context, id string) (AgentCredential, error)
	// AgentsStaleAt lists up to limit agents, in any tenant, that are
	// marked reporting (or never marked) but whose StaleAfter is before at:
	// their heartbeats stopped. Revoked agents are left out.
	AgentsStaleAt(ctx context.Context, at time.Time, limit int) ([]Agent, error)
	// AgentsReturnedAt lists up to limit agents marked not reporting whose
	// StaleAfter is at or after at (heartbeats resumed) or that were
	// revoked since (they are not expected back).
	AgentsReturnedAt(ctx context.Context, at time.Time, limit int) ([]Agent, error)

	GetAgentCommand(ctx context.Context, tenantID, id string) (AgentCommand, error)
	// ListAgentCommands lists a tenant's commands, newest first.
	ListAgentCommands(ctx context.Context, tenantID string, f AgentCommandFilter, page Page) ([]AgentCommand, string, error)
	// PendingAgentCommands reports whether agent has queued commands or
	// running ones with a cancellation request: the long-poll's cheap read
	// before it writes anything.
	PendingAgentCommands(ctx context.Context, agentID string) (queued, cancels bool, err error)
	// CancelRequestedCommands lists the IDs of agent's running commands
	// that someone asked to cancel.
	CancelRequestedCommands(ctx context.Context, agentID string) ([]string, error)

	GetResource(ctx context.Context, tenantID, id string) (Resource, error)
	// ListResources lists a tenant's resources, newest first.
	ListResources(ctx context.Context, tenantID string, f ResourceFilter, page Page) ([]Resource, string, error)

	// ListUnmanagedHosts lists a tenant's hosts without an agent, by host
	// name descending.
	ListUnmanagedHosts(ctx context.Context, tenantID string, page Page) ([]UnmanagedHost, string, error)
}

// FleetWriter holds their writes.
type FleetWriter interface {
	// CreateEnrollToken stores a new enrollment token with the hash of its
	// secret; ErrConflict if the ID or hash exists.
	CreateEnrollToken(ctx context.Context, t EnrollToken, hash string) error
	// UseEnrollToken marks a token used by agentID at at. It is
	// ErrNotFound when the token does not exist or was already used, so two
	// agents racing for one token cannot both enroll.
	UseEnrollToken(ctx context.Context, id, agentID string, at time.Time) error

	// CreateAgent stores a newly enrolled agent with the hash of its
	// credential's secret.
	CreateAgent(ctx context.Context, a Agent, secretHash string) error
	// RevokeAgent marks an agent revoked; ErrNotFound when the tenant has
	// no such live agent.
	RevokeAgent(ctx context.Context, tenantID, id string, at time.Time) error
	// RecordHeartbeats applies a batch of heartbeats, one per agent. A
	// heartbeat older than the one stored is ignored (replicas flush out of
	// order).
	RecordHeartbeats(ctx context.Context, hbs []AgentHeartbeat) error
	// SetAgentReporting records the outcome of the heartbeat check: since
	// is when the agent stopped reporting (ignored when reporting).
	SetAgentReporting(ctx context.Context, tenantID, id string, reporting bool, since time.Time) error
	// SetAgentUpdate records the last self-update outcome an agent reported.
	SetAgentUpdate(ctx context.Context, tenantID, id, status string) error

	// CreateAgentCommand queues a command; ErrConflict if the ID exists.
	CreateAgentCommand(ctx context.Context, c AgentCommand) error
	// ClaimAgentCommands moves up to n of agent's queued commands, oldest
	// first, to running (dispatched at at, with a deadline of their timeout
	// plus grace from then) and returns them.
	ClaimAgentCommands(ctx context.Context, agentID string, n int, at time.Time, grace time.Duration) ([]AgentCommand, error)
	// AppendAgentCommandOutput appends data, which starts at byte offset
	// of everything the command printed, to a running command's output,
	// keeping at most limit bytes. A chunk sent again (offset already
	// counted) is not appended twice. It is ErrNotFound unless agent owns
	// the command and it is running.
	AppendAgentCommandOutput(ctx context.Context, agentID, id string, offset int64, data string, limit int) error
	// FinishAgentCommand records a running command's result; ErrNotFound
	// unless agent owns the command and it is running.
	FinishAgentCommand(ctx context.Context, agentID, id string, r AgentCommandResult) error
	// RequestAgentCommandCancel cancels a queued command at once and marks
	// a running one for the agent to kill. It is ErrNotFound when the
	// tenant has no such unfinished command.
	RequestAgentCommandCancel(ctx context.Context, tenantID, id string, at time.Time) (AgentCommand, error)
	// FailAgentCommands ends agent's running commands that are not in keep
	// (the agent no longer runs them: it restarted) with status lost.
	FailAgentCommands(ctx context.Context, agentID string, keep []string, at time.Time) (int64, error)
	// ExpireAgentCommands ends unfinished commands whose deadline passed
	// before at, in any tenant, as timed-out, and returns how many.
	ExpireAgentCommands(ctx context.Context, at time.Time) (int64, error)

	// PutResource creates or replaces a resource (matched by tenant and ID).
	PutResource(ctx context.Context, r Resource) error

	// PutUnmanagedHost records a host without an agent, or refreshes its
	// kind, source, resource and last sighting; FirstSeen and RaisedAt of
	// a known host are kept.
	PutUnmanagedHost(ctx context.Context, h UnmanagedHost) error
	// SetUnmanagedHostRaised records when the host's event was raised;
	// ErrNotFound when the tenant has no such host.
	SetUnmanagedHostRaised(ctx context.Context, tenantID, host string, at time.Time) error
	// DeleteUnmanagedHost forgets a host (an agent covers it now);
	// ErrNotFound when the tenant has no such host.
	DeleteUnmanagedHost(ctx context.Context, tenantID, host string) error
}

// UnmanagedHost is a host Flywheel knows of, from a host-like resource or
// an event's resource reference, that no enrolled agent covers.
type UnmanagedHost struct {
	TenantID string `json:"tenant"`
	// Host is the normalised key: a lower-case host name without port, an
	// IP address, or a cloud instance ID.
	Host string `json:"host"`
	// Kind is hostname, ip or instance-id.
	Kind string `json:"kind"`
	// Source says where Flywheel saw it: "resource <id>" or "event <source>".
	Source     string     `json:"source"`
	ResourceID string     `json:"resource_id,omitempty"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	RaisedAt   *time.Time `json:"raised_at,omitempty"`
}

// EnrollToken is a one-time, expiring token an agent trades for its own
// credential. Its secret is never stored, only its hash.
type EnrollToken struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant"`
	// Prefix is the first characters of the secret, to recognise it.
	Prefix string `json:"prefix"`
	// Tags are given to every agent enrolled with the token (server-side
	// tags: they win over tags the agent brings).
	Tags      map[string]string `json:"tags,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	CreatedBy string            `json:"created_by,omitempty"`
	ExpiresAt time.Time         `json:"expires_at"`
	UsedAt    *time.Time        `json:"used_at,omitempty"`
	// UsedBy is the agent that enrolled with the token.
	UsedBy string `json:"used_by,omitempty"`
}

// Agent is an enrolled host agent and what it last said about itself.
type Agent struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant"`
	Hostname string `json:"hostname"`
	// Version is the agent build's version; OS and Arch are Go's GOOS and
	// GOARCH.
	Version string `json:"version"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	// Tags merge what the agent was started with and its enrollment
	// token's tags (the token's win).
	Tags          map[string]string `json:"tags,omitempty"`
	EnrollTokenID string            `json:"enroll_token_id,omitempty"`
	// ResourceID is the host resource the agent's inventory fills.
	ResourceID string    `json:"resource_id"`
	EnrolledAt time.Time `json:"enrolled_at"`
	// LastSeenAt is the last heartbeat the server recorded; StartedAt the
	// agent process's start (its uptime); Interval its heartbeat period.
	LastSeenAt *time.Time    `json:"last_seen_at,omitempty"`
	StartedAt  *time.Time    `json:"started_at,omitempty"`
	Interval   time.Duration `json:"heartbeat_interval"`
	// StaleAfter is when the agent counts as not reporting if no heartbeat
	// arrives: the last one plus the allowed misses.
	StaleAfter *time.Time `json:"stale_after,omitempty"`
	// NotReportingSince is set while the heartbeat check holds the agent
	// as not reporting (and an OpsItem is open about it).
	NotReportingSince *time.Time `json:"not_reporting_since,omitempty"`
	RevokedAt         *time.Time `json:"revoked_at,omitempty"`
	// Update is the last self-update outcome the agent reported.
	Update string `json:"update,omitempty"`
}

// AgentCredential is an agent's stored credential.
type AgentCredential struct {
	AgentID    string
	TenantID   string
	SecretHash string
	RevokedAt  *time.Time
}

// AgentHeartbeat is one heartbeat to record.
type AgentHeartbeat struct {
	AgentID    string
	At         time.Time
	Hostname   string
	Version    string
	OS, Arch   string
	StartedAt  time.Time
	Interval   time.Duration
	StaleAfter time.Time
}

// Command statuses: queued until an agent takes it, running until the
// agent reports a result, then one of the final ones.
const (
	CommandQueued    = "queued"
	CommandRunning   = "running"
	CommandSucceeded = wire.StatusSucceeded
	CommandFailed    = wire.StatusFailed
	CommandTimedOut  = wire.StatusTimedOut
	CommandCancelled = wire.StatusCancelled
	// CommandLost: the agent stopped running it without a result (it
	// restarted, or never answered before the deadline).
	CommandLost = "lost"
)

// CommandFinal reports whether status is a final status.
func CommandFinal(status string) bool {
	switch status {
	case CommandSucceeded, CommandFailed, CommandTimedOut, CommandCancelled, CommandLost:
		return true
	}
	return false
}

// CommandSpec is what to run on an agent: the agent protocol's type, so
// the agent needs no store code to read it.
type CommandSpec = wire.CommandSpec

// AgentCommand is a command queued for, running on, or finished by an agent.
type AgentCommand struct {
	ID       string      `json:"id"`
	TenantID string      `json:"tenant"`
	AgentID  string      `json:"agent_id"`
	Spec     CommandSpec `json:"spec"`
	Status   string      `json:"status"`
	// ExitCode is the process's exit code once it has one (-1 when killed
	// by a signal).
	ExitCode *int   `json:"exit_code,omitempty"`
	Error    string `json:"error,omitempty"`
	// Output is stdout and stderr interleaved, up to the server's cap;
	// OutputBytes counts everything the command printed.
	Output          string     `json:"output"`
	OutputBytes     int64      `json:"output_bytes"`
	Truncated       bool       `json:"truncated,omitempty"`
	CancelRequested bool       `json:"cancel_requested,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	CreatedBy       string     `json:"created_by,omitempty"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	EndedAt         *time.Time `json:"ended_at,omitempty"`
	// Deadline is when an unfinished command counts as timed out on the
	// server's side (creation + queueing allowance + timeout + grace).
	Deadline time.Time `json:"deadline"`
}

// AgentCommandResult is how a command ended.
type AgentCommandResult struct {
	Status   string
	ExitCode *int
	Error    string
	At       time.Time
	// OutputBytes is everything the command printed, as the agent counted
	// it (more than the chunks stored when output was capped).
	OutputBytes int64
}

// AgentCommandFilter narrows ListAgentCommands; empty fields match all.
type AgentCommandFilter struct {
	AgentID string
	Status  string
}

// Resource is an inventory item: a host the agent reports,
// later EC2 instances, volumes, buckets… with a stable ID, a type, tags and
// a JSON configuration snapshot.
type Resource struct {
	ID       string            `json:"id"`
	TenantID string            `json:"tenant"`
	Type     string            `json:"type"`
	Name     string            `json:"name"`
	Tags     map[string]string `json:"tags,omitempty"`
	Config   json.RawMessage   `json:"config,omitempty"`
	// AgentID is the agent that reports it, if any.
	AgentID   string    `json:"agent_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ResourceFilter narrows ListResources; empty fields match all.
type ResourceFilter struct {
	Type    string
	Name    string
	AgentID string
	// UpdatedSince, when set, matches resources updated at or after it.
	UpdatedSince time.Time
}
