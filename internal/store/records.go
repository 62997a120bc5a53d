package store

import (
	"encoding/json"
	"time"
)

// Tenant is a customer; every other record belongs to exactly one.
type Tenant struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Role is what a token may do within its tenant. Viewer, operator and
// admin are ordered (each may do what the one below it may); intake stands
// apart: a sender's token, it may post events to the intake endpoints and
// nothing else, not even read.
type Role string

const (
	RoleIntake   Role = "intake"
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Roles lists every role, intake first.
var Roles = []Role{RoleIntake, RoleViewer, RoleOperator, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r == RoleIntake || r.Rank() > 0 }

// Rank orders the reading roles; 0 for intake (outside the order: it
// reaches no route a rank admits) and for an unknown role.
func (r Role) Rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Permission is something a token may do beyond its role, granted per
// token (AWS IAM's separate SendCommand permission is the model).
type Permission string

// PermHostCommands runs commands and scripts on hosts: POST
// /api/v1/agents/{id}/commands, and runbooks run by hand that run commands
// on their targets. Admins hold it by their role.
const PermHostCommands Permission = "host-commands"

// Permissions lists every permission.
var Permissions = []Permission{PermHostCommands}

// Valid reports whether p is one of Permissions.
func (p Permission) Valid() bool {
	for _, q := range Permissions {
		if p == q {
			return true
		}
	}
	return false
}

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

// HumanSecondsAt is the time the OpsItem has been in a person's hands up to
// now: the finished intervals plus the running one, which ends at the
// resolution when the OpsItem is resolved.
func (o OpsItem) HumanSecondsAt(now time.Time) int64 {
	if o.HumanSince == nil {
		return o.HumanSeconds
	}
	end := now
	if o.ResolvedAt != nil {
		end = *o.ResolvedAt
	}
	if d := end.Sub(*o.HumanSince); d > 0 {
		return o.HumanSeconds + int64(d/time.Second)
	}
	return o.HumanSeconds
}

// SettleHumanTime ends the running in-hands interval of a resolved OpsItem
// at its resolution, whoever resolved it; the drivers call it on every
// write, so a closed OpsItem's HumanSeconds is final in the database.
func (o *OpsItem) SettleHumanTime() {
	if o.HumanSince == nil || o.ResolvedAt == nil {
		return
	}
	o.HumanSeconds = o.HumanSecondsAt(*o.ResolvedAt)
	o.HumanSince = nil
}

// OpsItemFilter narrows ListOpsItems; empty fields match everything.
type OpsItemFilter struct {
	Status   string
	Severity string
	Category string
	Text     string
	// Resource matches OpsItems with a related resource of this ID.
	Resource string
	// Assignee matches OpsItems held by this person.
	Assignee string
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

// AuditCheckpoint records a chain head at a moment, so that truncating the
// log (deleting its newest records) is detectable later.
type AuditCheckpoint struct {
	TenantID string    `json:"tenant"`
	Seq      int64     `json:"seq"`
	Hash     string    `json:"hash"`
	Time     time.Time `json:"time"`
}
