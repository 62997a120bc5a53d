package apiv1

import (
	"encoding/json"
	"time"
)

// AgentView is an agent as the API shows it: the record, its state now and
// its version drift.
type AgentView struct {
	Agent
	// State is pending (never heartbeat), reporting, not-reporting or
	// revoked.
	State string `json:"state"`
	// DesiredVersion is the version the fleet should run; Outdated is set
	// when the agent reports another.
	DesiredVersion string `json:"desired_version,omitempty"`
	Outdated       bool   `json:"outdated"`
}

// CommandInput is the body of POST /api/v1/agents/{id}/commands.
type CommandInput struct {
	// Argv runs a program; Script runs text with Shell (default /bin/sh).
	Argv   []string          `json:"argv"`
	Script string            `json:"script"`
	Shell  string            `json:"shell"`
	Env    map[string]string `json:"env"`
	Dir    string            `json:"dir"`
	User   string            `json:"user"`
	// Timeout is a Go duration ("30s"); default 5m.
	Timeout string `json:"timeout"`
}

// CommandView is a command as the API shows it: environment values are
// never shown (they may hold secrets), only their names.
type CommandView struct {
	AgentCommand
}

// CreatedEnrollToken is a new enrollment token with its secret, shown once,
// and the enrollment bundle that carries it to a host.
type CreatedEnrollToken struct {
	EnrollToken
	Token  string `json:"token"`
	Bundle Bundle `json:"bundle"`
}

// EnrollTokenInput is the body of POST /api/v1/agents/tokens.
type EnrollTokenInput struct {
	// ExpiresIn is the token's lifetime, a Go duration ("24h"); default 24h.
	ExpiresIn string `json:"expires_in"`
	// Tags are given to every agent enrolled with the token.
	Tags map[string]string `json:"tags"`
}

// DraftRuleInput is the body of POST /api/v1/automation/rules: draft from
// a candidate (of the period from–to) or an OpsItem, optionally naming
// the runbook.
type DraftRuleInput struct {
	Candidate string    `json:"candidate,omitempty"`
	OpsItem   string    `json:"opsitem,omitempty"`
	Runbook   string    `json:"runbook,omitempty"`
	From      time.Time `json:"from,omitzero"`
	To        time.Time `json:"to,omitzero"`
	// AllTenants saves the rule for every tenant (no metadata.tenant);
	// only a platform admin may. Otherwise the rule is the tenant's.
	AllTenants bool `json:"all_tenants,omitempty"`
}

// List is the shape of every list response.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// SavedRule is the answer of POST /api/v1/automation/rules.
type SavedRule struct {
	Name string `json:"name"`
	Path string `json:"path"`
	YAML string `json:"yaml"`
}

// AWSAccount is an account as the API shows it: the external ID is
// write-only (whether one is set shows).
type AWSAccount struct {
	AWSAccountSpec
	ExternalID    string `json:"external_id,omitempty"`
	ExternalIDSet bool   `json:"external_id_set"`
}

// AWSAccountInput is the body of PUT /api/v1/aws/accounts/{id}.
type AWSAccountInput struct {
	Name       string   `json:"name"`
	Regions    []string `json:"regions"`
	Profile    string   `json:"profile"`
	RoleARN    string   `json:"role_arn"`
	ExternalID string   `json:"external_id"`
}

// RestoreInput is the body of POST /api/v1/backup/points/{id}/restore.
type RestoreInput struct {
	// To is a new database name (postgres) or a directory on the host
	// (restic).
	To string `json:"to"`
}

// RestoreTestInput is the body of POST …/plans/{id}/restore-tests
// (optional): a point, or the latest of a resource, or the plan's pick.
type RestoreTestInput struct {
	Point    string `json:"point,omitempty"`
	Resource string `json:"resource,omitempty"`
}

// WindowRunInput is the body of POST …/runs (optional).
type WindowRunInput struct {
	// DryRun answers with the targets and tasks a run would have,
	// starting nothing.
	DryRun bool `json:"dry_run"`
}

// ComplianceExceptionInput is the body of POST
// /api/v1/compliance/exceptions: what it exempts (a rule, a resource, a
// tag; at least one), why, who answers for it and until when.
type ComplianceExceptionInput struct {
	Rule       string    `json:"rule"`
	ResourceID string    `json:"resource_id"`
	TagKey     string    `json:"tag_key"`
	TagValue   string    `json:"tag_value"`
	Reason     string    `json:"reason"`
	Owner      string    `json:"owner"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// ContentStatus is the content a replica runs: the generation it loaded
// (the database's content generation when it loaded it) and the digest of
// its documents. Replicas with the same digest run the same content.
type ContentStatus struct {
	Generation int64     `json:"generation"`
	Digest     string    `json:"digest"`
	Documents  int       `json:"documents"`
	LoadedAt   time.Time `json:"loaded_at"`
}

// ReconcileInput is the body of POST /api/v1/cost/reconcile.
type ReconcileInput struct {
	DryRun bool `json:"dry_run"`
}

// ResourceScheduleDetail adds the spec, holidays and each target's state.
type ResourceScheduleDetail struct {
	ResourceScheduleView
	Spec        Spec                 `json:"spec"`
	HolidayList []Holiday            `json:"holiday_list"`
	TargetList  []ScheduleTargetView `json:"target_list"`
}

// ResourceScheduleView is a schedule as the API lists it.
type ResourceScheduleView struct {
	Name          string           `json:"name"`
	Description   string           `json:"description,omitempty"`
	Timezone      string           `json:"timezone"`
	Now           ScheduleDecision `json:"now"`
	Targets       int              `json:"targets"`
	Enforced      bool             `json:"enforced"`
	RetainRunning bool             `json:"retain_running"`
	Holidays      int              `json:"holidays"`
	// Week is this week's plan (Monday 00:00 local onwards).
	Week Usage `json:"week"`
}

// SavingsReport answers GET /api/v1/cost/savings.
type SavingsReport struct {
	Month  string       `json:"month"`
	Totals Totals       `json:"totals"`
	Rows   []SavingsRow `json:"rows"`
}

// WasteView is a waste finding as the API shows it.
type WasteView struct {
	Key            string         `json:"key"`
	Kind           string         `json:"kind"`
	ResourceID     string         `json:"resource_id"`
	Title          string         `json:"title"`
	Severity       string         `json:"severity"`
	MonthlySavings float64        `json:"monthly_savings"`
	Data           map[string]any `json:"data,omitempty"`
	OpsItemID      string         `json:"opsitem_id,omitempty"`
}

// MaintenanceWindow is a window as the API shows it: the record, whether
// it is open now, and its current or next period.
type MaintenanceWindow struct {
	MaintenanceWindowSpec
	Open      bool       `json:"open"`
	NextStart *time.Time `json:"next_start,omitempty"`
	NextEnd   *time.Time `json:"next_end,omitempty"`
}

// HandlingInput is the body of the OpsItem handling routes: assign takes
// assignee ("" unassigns), notes takes text, acknowledge, assign and
// resolve take an optional comment. Send {} when there is nothing to say.
type HandlingInput struct {
	Assignee string `json:"assignee,omitempty"`
	Text     string `json:"text,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// MergeInput is the body of POST /api/v1/opsitems/{id}/merge: the OpsItems
// whose members move into {id}.
type MergeInput struct {
	From []string `json:"from"`
}

// SplitInput is the body of POST /api/v1/opsitems/{id}/split: the member
// alert to move into a new OpsItem.
type SplitInput struct {
	Fingerprint string `json:"fingerprint"`
}

// ExecutionView is an execution with its step rows and approvals.
type ExecutionView struct {
	Execution
	Steps     []ExecutionStep `json:"steps"`
	Approvals []Approval      `json:"approvals"`
}

// RunInput is the body of POST /api/v1/runbooks/{name}/executions.
type RunInput struct {
	Parameters map[string]any `json:"parameters,omitempty"`
	// Targets are resource IDs, replacing the runbook's own targeting.
	Targets []string `json:"targets,omitempty"`
	// OpsItem links the execution to an OpsItem.
	OpsItem string `json:"opsitem,omitempty"`
	// DryRun renders every step and runs nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// Approval makes the execution wait for an approval before its first
	// step.
	Approval bool `json:"approval,omitempty"`
}

// BreakerReset is the body of POST /api/v1/rules/{name}/breaker/reset.
type BreakerReset struct {
	// Group resets one target group's breaker; empty resets them all.
	Group string `json:"group,omitempty"`
}

// BreakerResetResult says how many breakers a reset closed or cleared.
type BreakerResetResult struct {
	Rule   string `json:"rule"`
	Group  string `json:"group,omitempty"`
	Closed int    `json:"closed"`
}

// DecisionInput is the body of approve, deny and cancel (optional).
type DecisionInput struct {
	Comment string `json:"comment"`
}

// RunbookView is a runbook as GET /api/v1/runbooks/{name} shows it.
type RunbookView struct {
	Summary
	Targets        TargetSpec        `json:"targets"`
	MaxConcurrency string            `json:"max_concurrency"`
	MaxErrors      string            `json:"max_errors"`
	Outputs        map[string]string `json:"outputs,omitempty"`
	StepList       []StepView        `json:"step_list"`
}

// StepLog is one step row's log.
type StepLog struct {
	Seq       int       `json:"seq"`
	Step      string    `json:"step"`
	Target    string    `json:"target,omitempty"`
	Status    string    `json:"status"`
	Attempt   int       `json:"attempt"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	Log       string    `json:"log"`
	Error     string    `json:"error,omitempty"`
	// Stdout and Stderr are what a command step printed (its outputs'
	// stdout and stderr, as kept: the tail when truncated).
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
}

// Silence is a silence as the API shows it: the record and its state now.
type Silence struct {
	SilenceSpec
	State State `json:"state"`
}

// FlywheelStats is the answer of GET /api/v1/stats/flywheel: the tenant's
// figures and, when a platform admin asks with per_tenant=true, every
// tenant's.
type FlywheelStats struct {
	Flywheel
	Tenants []TenantFlywheel `json:"tenants,omitempty"`
}

// TenantInput is the body of POST /api/v1/tenants.
type TenantInput struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// WindowOpenings answers GET /api/v1/maintenance-windows/{id}/next.
type WindowOpenings struct {
	Window   string          `json:"window"`
	Timezone string          `json:"timezone"`
	Openings []WindowOpening `json:"openings"`
}

// WindowRunDetail is a run with its per-task, per-target rows.
type WindowRunDetail struct {
	WindowRun
	Targets []WindowRunTarget `json:"targets"`
}

const (
	CommandQueued    = "queued"
	CommandRunning   = "running"
	CommandSucceeded = "succeeded"
	CommandFailed    = "failed"
	CommandTimedOut  = "timed-out"
	CommandCancelled = "cancelled"
	// CommandLost: the agent stopped running it without a result (it
	// restarted, or never answered before the deadline).
	CommandLost = "lost"
)

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

// AuditRecord is one entry of a tenant's hash-chained audit log.
type AuditRecord struct {
	TenantID string    `json:"tenant"`
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	// Actor is who or what acted: "token:<id>", "system:<component>".
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Target string `json:"target,omitempty"`
	Result string `json:"result"`
	// Detail is JSON; it never holds secrets.
	Detail   json.RawMessage `json:"detail,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// RecoveryPoint is one backup of one resource: what a restore starts from.
type RecoveryPoint struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenant"`
	Plan       string `json:"plan"`
	Rule       string `json:"rule"`
	ResourceID string `json:"resource_id"`
	// Method is restic or postgres.
	Method string `json:"method"`
	// Repository is where the point's data lives (a restic repository, a
	// dump directory on the host); Location names the point in it (a
	// restic snapshot ID, a dump file).
	Repository string        `json:"repository"`
	Location   string        `json:"location"`
	CreatedAt  time.Time     `json:"created_at"`
	Duration   time.Duration `json:"duration"`
	SizeBytes  int64         `json:"size_bytes"`
	// Checksum sums the point's content (SHA-256, hex); Manifest holds
	// what a restore test checks against (per table rows and checksums,
	// per file checksums), as the method wrote it.
	Checksum string         `json:"checksum"`
	Manifest map[string]any `json:"manifest,omitempty"`
	Status   string         `json:"status"`
	Error    string         `json:"error,omitempty"`
	// Verification is unverified, verified or failed (the last restore
	// test of this point).
	Verification string     `json:"verification"`
	VerifiedAt   *time.Time `json:"verified_at,omitempty"`
	// ExpiresAt is when retention deletes the point; ImmutableUntil is
	// before it nothing can delete it or shorten its retention.
	ExpiresAt      time.Time  `json:"expires_at"`
	ImmutableUntil time.Time  `json:"immutable_until"`
	DeletedAt      *time.Time `json:"deleted_at,omitempty"`
	OpsItemID      string     `json:"opsitem_id,omitempty"`
}

// RestoreTest is one restore of a recovery point into a scratch place and
// the validation of what came back.
type RestoreTest struct {
	ID         string    `json:"id"`
	TenantID   string    `json:"tenant"`
	Plan       string    `json:"plan"`
	PointID    string    `json:"point_id"`
	ResourceID string    `json:"resource_id"`
	StartedAt  time.Time `json:"started_at"`
	// Duration is the restore's measured time to recover (RTO).
	Duration time.Duration `json:"duration"`
	// Status is passed or failed.
	Status    string `json:"status"`
	Detail    string `json:"detail"`
	OpsItemID string `json:"opsitem_id,omitempty"`
}

// WindowRun is one opening of a maintenance window and what its tasks did.
type WindowRun struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenant"`
	WindowID   string `json:"window_id"`
	WindowName string `json:"window_name"`
	// Trigger is "schedule" or "manual".
	Trigger   string `json:"trigger"`
	StartedBy string `json:"started_by"`
	// ScheduledAt is when the opening began (for a manual run, when it was
	// asked for); no task starts at or after CutoffAt; EndsAt is the
	// opening's end.
	ScheduledAt time.Time `json:"scheduled_at"`
	CutoffAt    time.Time `json:"cutoff_at"`
	EndsAt      time.Time `json:"ends_at"`
	Status      string    `json:"status"`
	Error       string    `json:"error,omitempty"`
	// OpsItemID is the OpsItem opened for a missed run.
	OpsItemID string     `json:"opsitem_id,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

// ComplianceException exempts results from a rule: of one rule (or
// every rule), on one resource, or on resources with a tag, until it
// expires. At least one of Rule, ResourceID and TagKey is set.
type ComplianceException struct {
	ID         string `json:"id"`
	TenantID   string `json:"tenant"`
	Rule       string `json:"rule,omitempty"`
	ResourceID string `json:"resource_id,omitempty"`
	TagKey     string `json:"tag_key,omitempty"`
	// TagValue, when set, is the value the tag must have.
	TagValue  string    `json:"tag_value,omitempty"`
	Reason    string    `json:"reason"`
	Owner     string    `json:"owner"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// ComplianceResult is a rule's current verdict on one resource.
type ComplianceResult struct {
	TenantID     string `json:"tenant"`
	Rule         string `json:"rule"`
	ResourceID   string `json:"resource_id"`
	ResourceType string `json:"resource_type"`
	Account      string `json:"account"`
	// Status is COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, ERROR or EXEMPT.
	Status     string `json:"status"`
	Annotation string `json:"annotation,omitempty"`
	// Since is when the resource took this status; EvaluatedAt the last
	// evaluation.
	Since       time.Time `json:"since"`
	EvaluatedAt time.Time `json:"evaluated_at"`
	// Remediation: how many times the rule's runbook was started for the
	// resource while NON_COMPLIANT, the last time and execution.
	RemediationAttempts int       `json:"remediation_attempts,omitempty"`
	RemediatedAt        time.Time `json:"remediated_at,omitempty"`
	ExecutionID         string    `json:"execution_id,omitempty"`
}

// ComplianceScore is the compliance of one scope at one evaluation: the
// trend.
type ComplianceScore struct {
	TenantID string    `json:"tenant"`
	At       time.Time `json:"at"`
	// Scope is tenant, pack, control or account; Name the pack, control
	// id (PACK/CONTROL) or account ("" for the tenant).
	Scope        string  `json:"scope"`
	Name         string  `json:"name"`
	Compliant    int     `json:"compliant"`
	NonCompliant int     `json:"non_compliant"`
	Percent      float64 `json:"compliance_percent"`
}

const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

const (
	ScopeTenant  = "tenant"
	ScopePack    = "pack"
	ScopeControl = "control"
	ScopeAccount = "account"
)

// Event is a stored normalized event: one row per change the pipeline saw
// (a new fingerprint, a status or severity change, a suppression), with the
// decision it took. Pure repeats are counted on the Alert, not stored.
type Event struct {
	ID          string            `json:"id"`
	TenantID    string            `json:"tenant"`
	Source      string            `json:"source"`
	SourceID    string            `json:"source_id,omitempty"`
	Fingerprint string            `json:"fingerprint"`
	Kind        string            `json:"kind"`
	Severity    string            `json:"severity"`
	Status      string            `json:"status"`
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Resources   json.RawMessage   `json:"resources,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	OccurredAt  time.Time         `json:"occurred_at"`
	ReceivedAt  time.Time         `json:"received_at"`
	Raw         json.RawMessage   `json:"raw,omitempty"`
	// ResourceKey is the first resource's ID, for search.
	ResourceKey string `json:"resource,omitempty"`
	OpsItemID   string `json:"opsitem_id,omitempty"`
	// Decision is what the pipeline did: opened, attached, updated,
	// resolved, held, transient, suppressed.
	Decision string `json:"decision"`
	// Reason explains a decision: "silence sil_…", "maintenance nightly",
	// "inhibited by …", "flapping", rule names.
	Reason string `json:"reason,omitempty"`
}

// MaintenanceSchedule is one-off (Start and End), Weekly, or an Expression:
// a cron expression (5 fields, or SSM's cron(…)) or rate(…) — see package
// schedule. In JSON (and YAML) a bare string is an Expression.
type MaintenanceSchedule struct {
	Start      *time.Time  `json:"start,omitempty"`
	End        *time.Time  `json:"end,omitempty"`
	Weekly     *Recurrence `json:"weekly,omitempty"`
	Expression string      `json:"expression,omitempty"`
}

// MaintenanceTargets say which events a window covers. Every criterion
// that is set must hold (they narrow each other); at least one is set.
type MaintenanceTargets struct {
	// Matchers are label matchers over the event, all of which must match.
	Matchers []string `json:"matchers,omitempty"`
	// ResourceIDs match when one of the event's resources has one of these
	// IDs.
	ResourceIDs []string `json:"resource_ids,omitempty"`
	// Tags match when one of the event's resources carries all of them.
	Tags map[string]string `json:"tags,omitempty"`
	// Group matches when one of the event's resources is a member of the
	// resource group (content kind ResourceGroup).
	Group string `json:"group,omitempty"`
}

// MaintenanceWindowSpec is planned work during which matching events are
// deflected: a one-off period or a weekly schedule, and the targets it
// covers.
type MaintenanceWindowSpec struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant"`
	// Name is unique within the tenant: "db-patching".
	Name string `json:"name"`
	// Timezone is the IANA zone weekly schedules are read in.
	Timezone  string              `json:"timezone"`
	Schedule  MaintenanceSchedule `json:"schedule"`
	Targets   MaintenanceTargets  `json:"targets"`
	Comment   string              `json:"comment,omitempty"`
	CreatedBy string              `json:"created_by"`
	CreatedAt time.Time           `json:"created_at"`

	// ScheduleOffset is how many days after each cron date the window
	// opens (SSM's schedule_offset, 0..6).
	ScheduleOffset int `json:"schedule_offset,omitempty"`
	// Duration is how long a cron or rate window stays open, a Go
	// duration ("4h"); Cutoff is how long before its end no task starts.
	Duration string `json:"duration,omitempty"`
	Cutoff   string `json:"cutoff,omitempty"`
	// StartDate and EndDate bound a cron or rate window's openings.
	StartDate *time.Time `json:"start_date,omitempty"`
	EndDate   *time.Time `json:"end_date,omitempty"`
	// Tasks are the runbooks the window runs on its targets when it opens.
	Tasks []MaintenanceTask `json:"tasks,omitempty"`
	// RunOnly windows run their tasks and deflect nothing: a backup
	// plan's windows (internal/backup) must not mute their hosts' alerts.
	RunOnly bool `json:"run_only,omitempty"`
}

// OpsItem is an aggregated operational problem.
type OpsItem struct {
	ID          string     `json:"id"`
	TenantID    string     `json:"tenant"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	Category    string     `json:"category"`
	Severity    string     `json:"severity"`
	Status      string     `json:"status"`
	Source      string     `json:"source"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy  string     `json:"resolved_by,omitempty"`

	// Correlation: the rule and group key that collected the members, the
	// event times of the first and last member event, and their count.
	Rule         string    `json:"rule,omitempty"`
	GroupKey     string    `json:"group_key,omitempty"`
	FirstEventAt time.Time `json:"first_event_at,omitzero"`
	LastEventAt  time.Time `json:"last_event_at,omitzero"`
	Occurrences  int64     `json:"occurrences"`
	// Resolution says when member resolutions resolve the OpsItem: all, any
	// or manual.
	Resolution string `json:"resolution,omitempty"`
	// Flapping is set while a member changes state too often.
	Flapping bool `json:"flapping,omitempty"`
	// OperationalData holds diagnostics and source facts (e.g. Alertmanager's
	// truncatedAlerts), as a JSON object.
	OperationalData json.RawMessage `json:"operational_data,omitempty"`

	// Human handling (see docs/api.md): who acknowledged it and when, who
	// holds it, and how long it has been in a person's hands. HumanSeconds
	// is the sum of finished intervals; HumanSince starts the running one
	// (set by a person's action, ended by resolving or unassigning). An
	// OpsItem no person touched has both zero.
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	Assignee       string     `json:"assignee,omitempty"`
	HumanSeconds   int64      `json:"human_seconds"`
	HumanSince     *time.Time `json:"human_since,omitempty"`
}

// Expedite is a critical update scheduled out of window, with approval,
// due by the next business day.
type Expedite struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant"`
	Package  string `json:"package"`
	// Version is the version to install ("" : the candidate).
	Version string `json:"version,omitempty"`
	// Source is what raised it: a finding, an advisory, a repository scan.
	Source      string    `json:"source"`
	Reason      string    `json:"reason"`
	Targets     []string  `json:"targets"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	DueAt       time.Time `json:"due_at"`
	Status      string    `json:"status"`
	ExecutionID string    `json:"execution_id,omitempty"`
	// OpsItemID is the OpsItem opened when the deadline passed first.
	OpsItemID   string     `json:"opsitem_id,omitempty"`
	InstalledAt *time.Time `json:"installed_at,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// Execution is one run of a runbook (package execution drives it). Its
// progress is durable: the cursor and the step rows say exactly where it
// is, so another worker can resume it after a crash.
type Execution struct {
	ID             string `json:"id"`
	TenantID       string `json:"tenant"`
	Runbook        string `json:"runbook"`
	RunbookVersion int    `json:"runbook_version"`
	// Status: pending, waiting_approval, running, succeeded, failed,
	// cancelled, denied, timed_out.
	Status string `json:"status"`
	// Parameters are the resolved parameters (JSON object); Targets the
	// resolved targets (JSON list of {id, type, tags}).
	Parameters json.RawMessage `json:"parameters"`
	Targets    json.RawMessage `json:"targets"`
	OpsItemID  string          `json:"opsitem_id,omitempty"`
	// Rule is the automation rule that started it ("" for people).
	Rule      string `json:"rule,omitempty"`
	StartedBy string `json:"started_by"`
	Mode      string `json:"mode,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
	// ParentID and ParentSeq link a nested execution to the step of the
	// execution that started it.
	ParentID  string `json:"parent_id,omitempty"`
	ParentSeq int    `json:"parent_seq,omitempty"`
	Depth     int    `json:"depth,omitempty"`

	// Cursor is the index of the current step; Seq the row sequence of
	// its current visit (-1 before the first step); NextSeq the sequence
	// the next revisit of a step takes.
	Cursor int `json:"cursor"`
	Seq    int `json:"seq"`
	// CancelRequested asks the worker to stop at the next boundary.
	CancelRequested bool `json:"cancel_requested,omitempty"`

	Outputs   json.RawMessage `json:"outputs,omitempty"`
	Error     string          `json:"error,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	StartedAt time.Time       `json:"started_at,omitzero"`
	EndedAt   time.Time       `json:"ended_at,omitzero"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Tenant is a customer; every other record belongs to exactly one.
type Tenant struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Permission is something a token may do beyond its role, granted per
// token (AWS IAM's separate SendCommand permission is the model).
type Permission string

// Role is what a token may do within its tenant. Viewer, operator and
// admin are ordered (each may do what the one below it may); intake stands
// apart: a sender's token, it may post events to the intake endpoints and
// nothing else, not even read.
type Role string

// Token is an API credential. Its secret is never stored, only its hash.
type Token struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant"`
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	// Permissions are granted beyond the role.
	Permissions []Permission `json:"permissions,omitempty"`
	// PlatformAdmin tokens act across tenants.
	PlatformAdmin bool `json:"platform_admin,omitempty"`
	// Prefix is the first characters of the secret, to recognise it.
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// MaintenanceTask is a runbook a window runs on each of its targets.
type MaintenanceTask struct {
	// Name is unique within the window; default the runbook's name.
	Name       string         `json:"name,omitempty"`
	Runbook    string         `json:"runbook"`
	Parameters map[string]any `json:"parameters,omitempty"`
	// Priority orders tasks: lower first; equal priorities run together.
	Priority int `json:"priority"`
	// MaxConcurrency is how many targets run the task at once, "2" or
	// "50%" (default 1); MaxErrors how many failed targets it tolerates
	// before it starts no more (default 0: stop at the first).
	MaxConcurrency string `json:"max_concurrency,omitempty"`
	MaxErrors      string `json:"max_errors,omitempty"`
	// CutoffBehavior is what happens to the task's running targets at the
	// cutoff: "cancel" or "continue" (the default).
	CutoffBehavior string `json:"cutoff_behavior,omitempty"`
	// OnFailure is what a failed task does to the tasks after it: "stop"
	// (the default: no later priority starts) or "continue".
	OnFailure string `json:"on_failure,omitempty"`
}

// Candidate is a recurring problem people resolved by hand: OpsItems of
// one signature (area, title pattern, resource types, runbooks run by
// hand), ranked by the time people spent on them.
type Candidate struct {
	// ID names the signature (stable for the same signature).
	ID            string   `json:"id"`
	TitlePattern  string   `json:"title_pattern"`
	Category      string   `json:"category"`
	CategoryTitle string   `json:"category_title"`
	ResourceTypes []string `json:"resource_types"`
	// Runbooks are the runbooks people ran on these OpsItems, most used
	// first.
	Runbooks      []string  `json:"runbooks"`
	Count         int       `json:"count"`
	HumanMinutes  float64   `json:"human_minutes"`
	MedianMinutes float64   `json:"median_minutes"`
	LastResolved  time.Time `json:"last_resolved_at"`
	// Examples are the newest of its OpsItems.
	Examples []Example `json:"examples"`
}

// PlanStatus is what a plan has achieved: per resource, its last point
// and restore test, the recovery point objective met now (RPO: the age
// of the newest available point) and the recovery time measured (RTO: the
// last passed restore test's duration).
type PlanStatus struct {
	Plan      string           `json:"plan"`
	Rules     []BackupRule     `json:"rules"`
	Methods   []string         `json:"methods"`
	Resources []ResourceStatus `json:"resources"`
	// RPO and RTO are the worst over the resources (seconds; 0: unknown).
	RPOSeconds float64 `json:"rpo_seconds"`
	RTOSeconds float64 `json:"rto_seconds"`
	// Windows name the maintenance windows the plan's rules run through.
	Windows []string `json:"windows"`
}

// Step is what reconciling did (or, in a dry run, would do) to one
// target of one schedule.
type Step struct {
	Schedule    string `json:"schedule"`
	ResourceID  string `json:"resource_id"`
	Resource    string `json:"resource"`
	Kind        string `json:"kind"`
	Want        string `json:"want"`
	Reason      string `json:"reason"`
	Observed    string `json:"observed,omitempty"`
	Action      string `json:"action"` // stop, start, retain, record, none
	Runbook     string `json:"runbook,omitempty"`
	ExecutionID string `json:"execution_id,omitempty"`
	Error       string `json:"error,omitempty"`
}

// RegionPrices is one file of the price table: a region's prices.
type RegionPrices struct {
	Region          string             `yaml:"region" json:"region"`
	Currency        string             `yaml:"currency" json:"currency"`
	Retrieved       string             `yaml:"retrieved" json:"retrieved"`
	EC2             map[string]float64 `yaml:"ec2" json:"ec2"`          // per hour, by instance type
	RDS             map[string]float64 `yaml:"rds" json:"rds"`          // per hour, by instance class
	EBSGBMonth      map[string]float64 `yaml:"ebs_gb_month" json:"ebs"` // per GB-month, by volume type
	SnapshotGBMonth float64            `yaml:"snapshot_gb_month" json:"snapshot_gb_month"`
}

// Forecast is one series' outlook.
type Forecast struct {
	ResourceID  string     `json:"resource_id"`
	Resource    string     `json:"resource"`
	Metric      string     `json:"metric"`
	Last        float64    `json:"last"`
	LastAt      time.Time  `json:"last_at"`
	Threshold   float64    `json:"threshold"`
	SlopePerDay float64    `json:"slope_per_day"`
	Crossing    *time.Time `json:"crossing,omitempty"`
	Samples     []Sample   `json:"samples,omitempty"`
}

const (
	DiskPrefix = "disk_used_percent:"
)

// BaselineView is a baseline as the API lists it.
type BaselineView struct {
	Name        string        `json:"name"`
	Tenant      string        `json:"tenant,omitempty"`
	Description string        `json:"description"`
	Spec        *BaselineSpec `json:"spec"`
	Origin      string        `json:"origin"`
}

// ExpediteRequest asks for a critical update out of window.
type ExpediteRequest struct {
	Package string   `json:"package"`
	Version string   `json:"version,omitempty"`
	Source  string   `json:"source"`
	Reason  string   `json:"reason"`
	Targets []string `json:"targets"`
}

// HostCompliance is one host's line of a compliance report.
type HostCompliance struct {
	ResourceID        string         `json:"resource_id"`
	Hostname          string         `json:"hostname"`
	Group             string         `json:"group"`
	Baseline          string         `json:"baseline"`
	Application       string         `json:"application,omitempty"`
	Compliant         bool           `json:"compliant"`
	ScannedAt         time.Time      `json:"scanned_at"`
	NoncompliantSince *time.Time     `json:"noncompliant_since,omitempty"`
	OpsItemID         string         `json:"opsitem_id,omitempty"`
	Installed         int            `json:"installed"`
	Missing           int            `json:"missing"`
	MissingByLevel    map[string]int `json:"missing_by_level"`
	Failed            int            `json:"failed"`
	PendingReboot     bool           `json:"pending_reboot"`
	Detail            HostDetail     `json:"detail,omitzero"`
}

var Levels = []string{"critical", "high", "medium", "low", "informational", "unspecified"}

// Report is a tenant's compliance: overall, per group and application,
// per host, and the daily trend.
type Report struct {
	Tenant         Share            `json:"tenant"`
	MissingByLevel map[string]int   `json:"missing_by_level"`
	Failed         int              `json:"failed"`
	PendingReboot  int              `json:"pending_reboot"`
	Groups         []Share          `json:"groups"`
	Applications   []Share          `json:"applications"`
	Hosts          []HostCompliance `json:"hosts"`
	Trend          []TrendPoint     `json:"trend"`
}

// Share is compliance over a set of hosts.
type Share struct {
	Name      string  `json:"name"`
	Hosts     int     `json:"hosts"`
	Compliant int     `json:"compliant"`
	Percent   float64 `json:"percent"`
}

// Summary is how lists show a runbook.
type Summary struct {
	Name            string  `json:"name"`
	Description     string  `json:"description,omitempty"`
	Version         int     `json:"version"`
	EstimateMinutes int     `json:"estimate_minutes,omitempty"`
	Parameters      []Param `json:"parameters"`
	Steps           int     `json:"steps"`
	Origin          string  `json:"origin"`
}

const (
	StatusPending         = "pending"
	StatusWaitingApproval = "waiting_approval"
	StatusRunning         = "running"
	StatusSucceeded       = "succeeded"
	StatusFailed          = "failed"
	StatusCancelled       = "cancelled"
	StatusDenied          = "denied"
	StatusTimedOut        = "timed_out"
	// StatusIneffective: every step ran, but the runbook's verify
	// condition found the problem not fixed (see Verify).
	StatusIneffective = "ineffective"
)

// Plan is what a run of a window would do: its targets and its tasks in
// the order they run. A dry run shows it.
type Plan struct {
	Window  string     `json:"window"`
	Targets []string   `json:"targets"`
	Tasks   []PlanTask `json:"tasks"`
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

// Bundle is everything a host needs to enroll, in one file: the server to
// talk to, the CA to pin when the server runs TLS with its own CA, the
// one-time token and the tags it carries. `flywheel agent token create
// --bundle FILE` writes it (0600); `flywheel agent run --bundle FILE`
// enrolls from it.
type Bundle struct {
	Format string `json:"format"`
	Server string `json:"server"`
	// CACert is the PEM the agent pins https to ("" when the server's
	// certificate chains to the system's roots, or the server is http).
	CACert    string            `json:"ca_cert,omitempty"`
	Token     string            `json:"token"`
	Tenant    string            `json:"tenant,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	ExpiresAt time.Time         `json:"expires_at,omitzero"`
}

// AWSAccountSpec is one AWS account a tenant's inventory and remediations
// reach, with how Flywheel gets credentials for it: a shared-config
// profile on the server, or a role assumed in the account with an
// external ID (an MSP's usual set-up), or both (the profile's credentials
// assume the role).
type AWSAccountSpec struct {
	TenantID string `json:"tenant"`
	// ID is the 12-digit AWS account ID.
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Regions are the regions inventoried; global services (IAM, S3's
	// bucket list) are read once, through the first.
	Regions []string `json:"regions"`
	// Profile names a profile in the server's shared config and
	// credentials files; empty: the SDK's default chain.
	Profile string `json:"profile,omitempty"`
	// RoleARN is a role to assume in the account, with ExternalID.
	RoleARN    string    `json:"role_arn,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Inventory is set by the store (PutAWSAccount ignores it).
	Inventory AWSInventoryStatus `json:"inventory"`
}

// Spec is a ResourceSchedule document's spec.
type Spec struct {
	Description string `yaml:"description"`
	// Timezone is the IANA zone the periods' times are read in.
	Timezone string       `yaml:"timezone"`
	Periods  []PeriodSpec `yaml:"periods"`
	Holidays HolidaySpec  `yaml:"holidays"`
	// Enforced stops (or starts) a resource found in the wrong state at
	// every tick, not only when the schedule's state changes: a dev box
	// started by hand at night is stopped again.
	Enforced bool `yaml:"enforced"`
	// RetainRunning leaves a resource running at the end of a period when
	// it was already running (started by hand) when the period began.
	RetainRunning bool `yaml:"retain_running"`
	// Override pins the state until a time (a release weekend).
	Override *OverrideSpec      `yaml:"override"`
	Targets  ScheduleTargetSpec `yaml:"targets"`
	// Units are the systemd units stopped and started on host targets.
	Units []string `yaml:"units"`
	// HourlyCost prices targets the price table does not know (an
	// on-premises host), in the price table's currency.
	HourlyCost float64 `yaml:"hourly_cost"`
}

// Holiday is one day a schedule keeps its resources stopped: a local
// calendar date in the schedule's zone, with a name.
type Holiday struct {
	Date string `json:"date"` // YYYY-MM-DD
	Name string `json:"name,omitempty"`
}

// ScheduleTargetView is one target and what the schedule last did to it.
type ScheduleTargetView struct {
	ResourceID  string    `json:"resource_id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Type        string    `json:"type,omitempty"`
	Region      string    `json:"region,omitempty"`
	Observed    string    `json:"observed,omitempty"`
	State       string    `json:"state,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	ChangedAt   time.Time `json:"changed_at,omitzero"`
	ExecutionID string    `json:"execution_id,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// ScheduleDecision is the state a schedule wants at an instant, and why.
type ScheduleDecision struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// Usage is how a schedule divides a span of time: the hours a resource
// under it runs and the hours it is stopped.
type Usage struct {
	Hours        float64 `json:"hours"`
	RunningHours float64 `json:"running_hours"`
	SavedHours   float64 `json:"saved_hours"`
	SavedPercent float64 `json:"saved_percent"`
}

// Totals sums rows.
type Totals struct {
	Hours        float64 `json:"hours"`
	SavedHours   float64 `json:"saved_hours"`
	SavedPercent float64 `json:"saved_percent"`
	Saved        float64 `json:"saved"`
	Currency     string  `json:"currency"`
}

// SavingsRow is what one schedule saves on one target in one month: the
// hours the schedule keeps it stopped, priced from the price table.
type SavingsRow struct {
	Tenant       string  `json:"tenant"`
	Schedule     string  `json:"schedule"`
	Month        string  `json:"month"` // YYYY-MM, the schedule's local month
	ResourceID   string  `json:"resource_id"`
	Resource     string  `json:"resource"`
	Kind         string  `json:"kind"`
	Type         string  `json:"type,omitempty"`
	Region       string  `json:"region,omitempty"`
	Hours        float64 `json:"hours"`
	RunningHours float64 `json:"running_hours"`
	SavedHours   float64 `json:"saved_hours"`
	SavedPercent float64 `json:"saved_percent"`
	HourlyPrice  float64 `json:"hourly_price"`
	Priced       bool    `json:"priced"`
	Saved        float64 `json:"saved"`
	Currency     string  `json:"currency"`
}

// MaintenanceWindowInput is a maintenance window to create (the body of
// POST /api/v1/maintenance-windows).
type MaintenanceWindowInput struct {
	Name string `json:"name"`
	// Timezone is an IANA zone name; default UTC.
	Timezone string              `json:"timezone"`
	Schedule MaintenanceSchedule `json:"schedule"`
	Targets  MaintenanceTargets  `json:"targets"`
	Comment  string              `json:"comment"`
	// With a cron or rate schedule (see docs/schedules.md): days after
	// each cron date, how long each opening lasts, and the dates bounding
	// the openings. Cutoff and tasks go with any schedule.
	ScheduleOffset int               `json:"schedule_offset,omitempty"`
	Duration       string            `json:"duration,omitempty"`
	Cutoff         string            `json:"cutoff,omitempty"`
	StartDate      *time.Time        `json:"start_date,omitempty"`
	EndDate        *time.Time        `json:"end_date,omitempty"`
	Tasks          []MaintenanceTask `json:"tasks,omitempty"`
}

// OpsItemInput is a manual OpsItem to open (the body of POST
// /api/v1/opsitems); category defaults to operations, severity to medium.
type OpsItemInput struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
}

// OpsItemPatch changes the fields present and keeps the others (the body
// of PATCH /api/v1/opsitems/{id}).
type OpsItemPatch struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Category    *string `json:"category"`
	Severity    *string `json:"severity"`
	Status      *string `json:"status"`
}

// ExecutionStep is one visit of one step, for one target of a per-target
// step (TargetID) or for the step as a whole (TargetID "").
type ExecutionStep struct {
	ExecutionID string `json:"execution_id"`
	// Seq orders visits: the first visit of step i has Seq i; a step run
	// again (goto) gets a new Seq.
	Seq      int    `json:"seq"`
	Index    int    `json:"index"`
	Name     string `json:"name"`
	Action   string `json:"action"`
	TargetID string `json:"target,omitempty"`
	// Status: pending, running, succeeded, failed, skipped, cancelled.
	Status    string    `json:"status"`
	Attempt   int       `json:"attempt"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// WakeAt is when a waiting step (sleep, retry backoff) continues.
	WakeAt  time.Time       `json:"wake_at,omitzero"`
	Inputs  json.RawMessage `json:"inputs,omitempty"`
	Outputs json.RawMessage `json:"outputs,omitempty"`
	Log     string          `json:"log,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// Approval is one decision on an execution's approval gate (Seq -1, the
// start of an execution in approval mode) or approve step.
type Approval struct {
	ExecutionID string `json:"execution_id"`
	Seq         int    `json:"seq"`
	Step        string `json:"step,omitempty"`
	Approver    string `json:"approver"`
	// Decision: approve or deny.
	Decision string    `json:"decision"`
	Comment  string    `json:"comment,omitempty"`
	At       time.Time `json:"at"`
}

// Breaker is one rule's circuit breaker for one target group, as the API,
// the CLI and the UI list it.
type BreakerView struct {
	Rule string `json:"rule"`
	// Group is the target group ("" for the rule's whole tenant).
	Group    string `json:"group,omitempty"`
	Failures int    `json:"failures"`
	Open     bool   `json:"open"`
	// OpenedAt and OpsItemID are set while it is open.
	OpenedAt  *time.Time `json:"opened_at,omitempty"`
	OpsItemID string     `json:"opsitem_id,omitempty"`
}

// TargetSpec selects targets. At most one of its fields is set.
type TargetSpec struct {
	// Resources are inventory resource IDs.
	Resources []string `yaml:"resources" json:"resources,omitempty"`
	// Tags select resources carrying all of them.
	Tags map[string]string `yaml:"tags" json:"tags,omitempty"`
	// Group names a resource group (an application).
	Group string `yaml:"group" json:"group,omitempty"`
	// From "opsitem" takes the OpsItem's related resources.
	From string `yaml:"from" json:"from,omitempty"`
}

// StepView is one step of a runbook, as written.
type StepView struct {
	Name       string         `json:"name"`
	Action     string         `json:"action"`
	With       map[string]any `json:"with,omitempty"`
	When       string         `json:"when,omitempty"`
	PerTarget  bool           `json:"per_target"`
	Idempotent bool           `json:"idempotent"`
	Timeout    string         `json:"timeout"`
	Retries    int            `json:"retries,omitempty"`
	OnFailure  string         `json:"on_failure"`
}

// SilenceSpec mutes matching events for a time (deflection). The
// record holds matchers as text; package silence parses and evaluates them.
type SilenceSpec struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant"`
	// Matchers are Alertmanager-style matchers, one per string, all of
	// which must match: `alertname="DiskFull"`, `instance=~"db-.*"`.
	Matchers []string  `json:"matchers"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	// Recurrence, when set, limits the silence to weekly slots within
	// StartsAt..EndsAt.
	Recurrence *Recurrence `json:"recurrence,omitempty"`
	Comment    string      `json:"comment"`
	CreatedBy  string      `json:"created_by"`
	CreatedAt  time.Time   `json:"created_at"`
	// ExpiredAt and ExpiredBy are set when someone ended the silence early.
	ExpiredAt *time.Time `json:"expired_at,omitempty"`
	ExpiredBy string     `json:"expired_by,omitempty"`
}

// State is where a silence is in its life, as Alertmanager names it.
type State string

// SilenceInput is a silence to create (the body of POST /api/v1/silences).
type SilenceInput struct {
	// Matchers are Alertmanager-style matchers, one per string; all must
	// match.
	Matchers []string `json:"matchers"`
	// StartsAt defaults to now.
	StartsAt *time.Time `json:"starts_at"`
	// EndsAt, or Duration from StartsAt ("2h"), is required.
	EndsAt     *time.Time  `json:"ends_at"`
	Duration   string      `json:"duration"`
	Recurrence *Recurrence `json:"recurrence"`
	Comment    string      `json:"comment"`
}

// Flywheel is the answer of GET /api/v1/stats/flywheel.
type Flywheel struct {
	Tenant string    `json:"tenant"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	// StepSeconds is the size of each Series bucket.
	StepSeconds int64   `json:"step_seconds"`
	Series      []Point `json:"series"`
	// Received, Deduplicated and Suppressed are the pipeline's counters;
	// PipelineOpened the OpsItems it opened from them.
	Received       int64            `json:"received"`
	Deduplicated   int64            `json:"deduplicated"`
	Suppressed     map[string]int64 `json:"suppressed"`
	PipelineOpened int64            `json:"pipeline_opened"`
	// NoiseReduction is 1 - PipelineOpened/Received, as /stats/noise.
	NoiseReduction float64 `json:"noise_reduction"`
	Outcomes
	Areas []Area `json:"areas"`
}

// TenantFlywheel is one tenant's headline figures.
type TenantFlywheel struct {
	Tenant         string  `json:"tenant"`
	Received       int64   `json:"received"`
	NoiseReduction float64 `json:"noise_reduction"`
	Outcomes
}

// CreatedToken is an issued token with its secret, shown this once.
type CreatedToken struct {
	Token
	Secret string `json:"secret"`
}

// TokenInput is a token to issue (the body of POST /api/v1/tokens).
type TokenInput struct {
	Name          string `json:"name"`
	Role          Role   `json:"role"`
	PlatformAdmin bool   `json:"platform_admin"`
	// ExpiresIn is a Go duration ("720h"); empty means no expiry.
	ExpiresIn string `json:"expires_in"`
	// Allow grants permissions beyond the role ("host-commands").
	Allow []Permission `json:"allow,omitempty"`
}

// WindowOpening is one opening as the API shows it: instants in UTC and
// the same in the window's zone.
type WindowOpening struct {
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	CutoffAt   time.Time `json:"cutoff_at"`
	StartLocal string    `json:"start_local"`
	EndLocal   string    `json:"end_local"`
}

// WindowRunTarget is one task on one target within a run.
type WindowRunTarget struct {
	RunID     string `json:"run_id"`
	Task      string `json:"task"`
	TaskIndex int    `json:"task_index"`
	Priority  int    `json:"priority"`
	// Position orders a task's targets (the order they start in).
	Position    int        `json:"position"`
	TargetID    string     `json:"target"`
	Status      string     `json:"status"`
	ExecutionID string     `json:"execution_id,omitempty"`
	Error       string     `json:"error,omitempty"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
}

// Recurrence is a weekly schedule as stored and as the API takes it; see
// package recurrence for its meaning.
type Recurrence struct {
	// Days are day names: "mon", "tue", … "sun".
	Days []string `json:"days"`
	// Start is the local time of day the slots start, "HH:MM".
	Start string `json:"start"`
	// Duration is each slot's length, a Go duration: "4h", "1h30m".
	Duration string `json:"duration"`
	// Timezone is an IANA zone name. For a silence "" means UTC; in a
	// maintenance window it must be empty or equal the window's Timezone.
	Timezone string `json:"timezone,omitempty"`
}

// Example is one OpsItem of a candidate.
type Example struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// BackupRule is when points are taken and how long they are kept.
type BackupRule struct {
	Name string `yaml:"name"`
	// Schedule is a cron or rate expression (docs/schedules.md).
	Schedule string `yaml:"schedule"`
	Timezone string `yaml:"timezone"`
	// StartWindow is how long after the scheduled time a backup may
	// still start; CompletionWindow how long it may take in all.
	StartWindow      string `yaml:"start_window"`
	CompletionWindow string `yaml:"completion_window"`
	// Retention is how long a point is kept (e.g. 35d); ImmutableFor is
	// the part of it no one can shorten or delete (<= Retention).
	Retention    string `yaml:"retention"`
	ImmutableFor string `yaml:"immutable_for"`
}

// ResourceStatus is one resource of a plan.
type ResourceStatus struct {
	Resource   string         `json:"resource"`
	LastPoint  *RecoveryPoint `json:"last_point,omitempty"`
	LastTest   *RestoreTest   `json:"last_test,omitempty"`
	Points     int            `json:"points"`
	RPOSeconds float64        `json:"rpo_seconds"`
	RTOSeconds float64        `json:"rto_seconds"`
}

// Sample is one observation of a series.
type Sample struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
}

// BaselineSpec is a PatchBaseline document's spec.
type BaselineSpec struct {
	// OperatingSystem is debian, ubuntu or rhel (the RHEL family: RHEL,
	// Rocky, Alma, CentOS, Amazon Linux).
	OperatingSystem string `yaml:"operating_system" json:"operating_system,omitempty"`
	Description     string `yaml:"description" json:"description,omitempty"`
	// ApprovalRules approve updates by their attributes; the first rule
	// that matches an update decides it.
	ApprovalRules []PatchRule `yaml:"approval_rules" json:"approval_rules,omitempty"`
	// ApprovedPatches are always approved: "name" or "name=version".
	ApprovedPatches                []string `yaml:"approved_patches" json:"approved_patches,omitempty"`
	ApprovedPatchesComplianceLevel string   `yaml:"approved_patches_compliance_level" json:"approved_patches_compliance_level,omitempty"`
	// RejectedPatches are never approved, even by a rule or the approved
	// list; RejectedPatchesAction says whether one may still come in as a
	// dependency of an approved update (allow_as_dependency) or blocks
	// that update (block).
	RejectedPatches       []string `yaml:"rejected_patches" json:"rejected_patches,omitempty"`
	RejectedPatchesAction string   `yaml:"rejected_patches_action" json:"rejected_patches_action,omitempty"`
	// Sources are repository lines the baseline expects on its hosts
	// (documentation for now: the agent patches from the host's own).
	Sources []Source `yaml:"sources" json:"sources,omitempty"`
}

// HostDetail is what Flywheel keeps of a host's latest scan: counts, the
// baseline's decision on every available update, and why the host is (or
// is not) compliant. It is store.PatchState's Detail.
type HostDetail struct {
	Backend string `json:"backend"`
	// Installed counts installed packages; Missing the approved updates not
	// installed; Failed the packages dpkg left failed.
	Installed      int            `json:"installed"`
	Missing        int            `json:"missing"`
	MissingByLevel map[string]int `json:"missing_by_level"`
	Failed         []string       `json:"failed,omitempty"`
	PendingReboot  bool           `json:"pending_reboot"`
	RebootPackages []string       `json:"reboot_packages,omitempty"`
	// HostException is the exception that excepts the whole host.
	HostException string          `json:"host_exception,omitempty"`
	Decisions     []PatchDecision `json:"decisions"`
	LastInstall   []InstallResult `json:"last_install,omitempty"`
	HookError     string          `json:"hook_error,omitempty"`
	Why           []string        `json:"why"`
}

// TrendPoint is the tenant's compliance at the end of a day (UTC).
type TrendPoint struct {
	Day     string  `json:"day"`
	Hosts   int     `json:"hosts"`
	Percent float64 `json:"percent"`
}

// Param is a compiled parameter declaration.
type Param struct {
	Name        string    `json:"name"`
	Type        ParamType `json:"type"`
	Description string    `json:"description,omitempty"`
	// Default is the typed default (nil for none).
	Default  any    `json:"default,omitempty"`
	Required bool   `json:"required,omitempty"`
	Allowed  []any  `json:"allowed,omitempty"`
	Pattern  string `json:"pattern,omitempty"`
	Secret   bool   `json:"secret,omitempty"`
}

// PlanTask is one task as a run would run it.
type PlanTask struct {
	Name           string         `json:"name"`
	Runbook        string         `json:"runbook"`
	Parameters     map[string]any `json:"parameters,omitempty"`
	Priority       int            `json:"priority"`
	MaxConcurrency int            `json:"max_concurrency"`
	MaxErrors      int            `json:"max_errors"`
	CutoffBehavior string         `json:"cutoff_behavior"`
	OnFailure      string         `json:"on_failure"`
}

// AWSInventoryStatus is the outcome of an account's last inventory.
type AWSInventoryStatus struct {
	At time.Time `json:"at,omitzero"`
	// Resources is how many resources it found.
	Resources int `json:"resources"`
	// Error is what failed, if anything (a partial inventory still
	// writes what it read).
	Error string `json:"error,omitempty"`
}

// PeriodSpec is one running period of a schedule, as AWS Instance
// Scheduler's periods: the resource runs from Begin to End (local times)
// on the days every given day filter allows. A missing Begin means from
// midnight, a missing End until midnight; a period with neither runs all
// day on its days.
type PeriodSpec struct {
	Begin string `yaml:"begin"`
	End   string `yaml:"end"`
	// Weekdays: "mon-fri", "sat", "sun,wed" (ParseDays).
	Weekdays []string `yaml:"weekdays"`
	// MonthDays: "1", "1-7", "L" (the last day of the month).
	MonthDays []string `yaml:"monthdays"`
	// Months: "jan", "jan-mar", "12".
	Months []string `yaml:"months"`
}

// HolidaySpec lists the days the resources stay stopped: dates, and the
// all-day events of an iCalendar text (ParseICal).
type HolidaySpec struct {
	Dates []string `yaml:"dates"`
	ICal  string   `yaml:"ical"`
}

// OverrideSpec pins the desired state until Until (RFC 3339).
type OverrideSpec struct {
	State string `yaml:"state"`
	Until string `yaml:"until"`
}

// ScheduleTargetSpec selects the resources a schedule runs. A resource is a
// target when it carries every tag in Tags, or when its ScheduleTag tag
// names this schedule (AWS Instance Scheduler's "Schedule" tag); a
// resource carrying OptOutTag is never one.
type ScheduleTargetSpec struct {
	Tags        map[string]string `yaml:"tags"`
	ScheduleTag string            `yaml:"schedule_tag"`
	OptOutTag   string            `yaml:"opt_out_tag"`
}

// Point is one bucket of the events-against-OpsItems series.
type Point struct {
	Start    time.Time `json:"start"`
	Received int64     `json:"received"`
	Opened   int64     `json:"opened"`
}

// Outcomes are the figures of OpsItems in a period, for a tenant or one
// area.
type Outcomes struct {
	// Opened counts OpsItems created in the period.
	Opened int64 `json:"opened"`
	// Resolved counts OpsItems resolved in the period, split by who.
	Resolved             int64 `json:"resolved"`
	ResolvedByAutomation int64 `json:"resolved_by_automation"`
	ResolvedByHand       int64 `json:"resolved_by_hand"`
	ResolvedByPipeline   int64 `json:"resolved_by_pipeline"`
	// AutomationShare is ResolvedByAutomation / Resolved (0 when none).
	AutomationShare float64 `json:"automation_share"`
	// TimeToResolve is created → resolved over the OpsItems resolved.
	TimeToResolve Durations `json:"time_to_resolve"`
	// HumanMinutes is the time OpsItems resolved in the period spent in a
	// person's hands.
	HumanMinutes float64 `json:"human_minutes"`
	// HumanHoursSaved credits each automated resolution with the median
	// in-hands time of OpsItems of its signature resolved by hand, or the
	// runbook's estimate_minutes where there is no such history.
	HumanHoursSaved float64 `json:"human_hours_saved"`
	// Credited counts automated resolutions credited from history and from
	// estimates; Uncredited those with neither.
	CreditedFromHistory  int64 `json:"credited_from_history"`
	CreditedFromEstimate int64 `json:"credited_from_estimate"`
	Uncredited           int64 `json:"uncredited"`
	// VerifiedRuns counts the runs rules started on these OpsItems that
	// succeeded and proved their effect (their runbook's verify held);
	// IneffectiveRuns those whose verify found the problem not fixed;
	// FailedRuns those that failed or timed out.
	VerifiedRuns    int64 `json:"verified_runs"`
	IneffectiveRuns int64 `json:"ineffective_runs"`
	FailedRuns      int64 `json:"failed_runs"`
	// CreditWithheld counts resolutions a rule was named for
	// (automation:rule:…) without a verified run of it on the OpsItem:
	// counted as resolved by the pipeline, with no hours saved.
	CreditWithheld int64 `json:"credit_withheld"`
}

// Area is one of the nine areas' outcomes.
type Area struct {
	Category string `json:"category"`
	Title    string `json:"title"`
	Outcomes
}

// PatchRule is one approval rule (SSM's PatchRule).
type PatchRule struct {
	// Filters: every key given must match one of its values.
	Filters map[string][]string `yaml:"filters" json:"filters,omitempty"`
	// ApproveAfterDays approves an update that many days after it was
	// released (first seen by Flywheel: apt repositories carry no
	// per-package release date). ApproveUntilDate instead approves the
	// updates released on or before a date. At most one is set.
	ApproveAfterDays *int   `yaml:"approve_after_days" json:"approve_after_days,omitempty"`
	ApproveUntilDate string `yaml:"approve_until_date" json:"approve_until_date,omitempty"`
	// ComplianceLevel is how severe missing an update it approves is
	// (default unspecified).
	ComplianceLevel string `yaml:"compliance_level" json:"compliance_level,omitempty"`
	// EnableNonSecurity lets the rule approve updates that are not from a
	// security repository; without it the rule sees security updates only.
	EnableNonSecurity bool `yaml:"enable_non_security" json:"enable_non_security,omitempty"`
}

// Source is a package repository.
type Source struct {
	Name          string `yaml:"name" json:"name,omitempty"`
	Configuration string `yaml:"configuration" json:"configuration,omitempty"`
}

// PatchDecision is a baseline's verdict on one available update, with the
// reason a person reads ("why is this host non-compliant").
type PatchDecision struct {
	Name      string `json:"name"`
	Installed string `json:"installed"`
	Candidate string `json:"candidate"`
	Security  bool   `json:"security"`
	// Status is approved, pending (a rule matches but its delay has not
	// passed), rejected, excepted or not-approved.
	Status string `json:"status"`
	// Rule names what decided: "approval_rules[0]", "approved_patches",
	// "rejected_patches", "exception", or "" when nothing matched.
	Rule string `json:"rule,omitempty"`
	// ComplianceLevel is the approving rule's (approved updates only).
	ComplianceLevel string `json:"compliance_level,omitempty"`
	// Reason says why, in words.
	Reason string `json:"reason"`
	// ApprovedAt is when a pending update becomes approved.
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
}

// InstallResult is how installing one package version went.
type InstallResult struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Status is installed, failed or skipped.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// ParamType is a parameter's type.
type ParamType string

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

// Durations are a distribution's median and 90th percentile, in seconds.
type Durations struct {
	Count         int   `json:"count"`
	MedianSeconds int64 `json:"median_seconds"`
	P90Seconds    int64 `json:"p90_seconds"`
}

// PatchRequest is a patch operation. The server decides what is approved;
// the agent installs exactly the versions it is given.
type PatchRequest struct {
	// Operation is scan or install.
	Operation string `json:"operation"`
	// Install lists the package versions to install (install only).
	Install []PackageVersion `json:"install,omitempty"`
	// Blocked names packages that must not be installed or upgraded, even
	// as a dependency of an approved one; an approved package that would
	// pull one in is not installed.
	Blocked []string `json:"blocked,omitempty"`
	// PreHook and PostHook are shell scripts run before and after the
	// installs; a failing pre-hook installs nothing.
	PreHook  string `json:"pre_hook,omitempty"`
	PostHook string `json:"post_hook,omitempty"`
	// Reboot is reboot-if-needed (default) or no-reboot.
	Reboot string `json:"reboot,omitempty"`
}

// PackageVersion names one version of a package.
type PackageVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}
