package apiv1

import "time"

// RuleStatus is one rule in GET /api/v1/rules: what it does, its limits
// and breakers, when it last acted.
type RuleStatus struct {
	Name            string        `json:"name"`
	Description     string        `json:"description,omitempty"`
	Tenant          string        `json:"tenant,omitempty"`
	Origin          string        `json:"origin"`
	Priority        int           `json:"priority"`
	When            string        `json:"when,omitempty"`
	Schedule        string        `json:"schedule,omitempty"`
	Timezone        string        `json:"timezone,omitempty"`
	Runbook         string        `json:"runbook,omitempty"`
	Mode            string        `json:"mode,omitempty"`
	Notify          string        `json:"notify,omitempty"`
	Suppress        bool          `json:"suppress,omitempty"`
	RateMax         int           `json:"rate_limit_max"`
	RatePer         string        `json:"rate_limit_per"`
	Cooldown        string        `json:"cooldown"`
	BreakerFailures int           `json:"breaker_failures"`
	Breakers        []RuleBreaker `json:"breakers"`
	BreakerOpen     bool          `json:"breaker_open"`
	LastActedAt     *time.Time    `json:"last_acted_at,omitempty"`
	Executions      int64         `json:"executions"`
	LastExecutionAt *time.Time    `json:"last_execution_at,omitempty"`
}

// RuleBreaker is a rule's circuit breaker for one target group.
type RuleBreaker struct {
	Rule      string     `json:"rule"`
	Group     string     `json:"group,omitempty"`
	Failures  int        `json:"failures"`
	Open      bool       `json:"open"`
	OpenedAt  *time.Time `json:"opened_at,omitempty"`
	OpsItemID string     `json:"opsitem_id,omitempty"`
}

// ChannelStatus is how a notification channel has been doing for one
// tenant (GET /api/v1/channels).
type ChannelStatus struct {
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	Delivered     int        `json:"delivered"`
	Failed        int        `json:"failed"`
	LastDelivered *time.Time `json:"last_delivered,omitempty"`
	LastFailed    *time.Time `json:"last_failed,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
}

// PackSummary is one service pack in GET /api/v1/packs: the catalogue's
// version and the tenant's.
type PackSummary struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Service     string `json:"service,omitempty"`
	Available   string `json:"available,omitempty"`
	Installed   string `json:"installed,omitempty"`
	Upgrade     bool   `json:"upgrade,omitempty"`
}

// PackList is the answer of GET /api/v1/packs.
type PackList struct {
	Packs []PackSummary `json:"packs"`
}

// PackDetail is one pack (GET /api/v1/packs/{name}).
type PackDetail struct {
	PackSummary
	Requires     PackRequires      `json:"requires"`
	Scenarios    []PackScenario    `json:"scenarios"`
	Documents    []string          `json:"documents"`
	Alerts       []string          `json:"alerts"`
	Digest       string            `json:"digest"`
	Installation *PackInstallation `json:"installation,omitempty"`
}

// PackRequires is what a pack's runbooks need.
type PackRequires struct {
	Host []string `json:"host"`
	IAM  []string `json:"iam"`
}

// PackScenario is one failure scenario of a pack.
type PackScenario struct {
	Name        string   `json:"name"`
	Summary     string   `json:"summary"`
	Alerts      []string `json:"alerts"`
	Rules       []string `json:"rules"`
	Diagnostics []string `json:"diagnostics"`
	Remediation []string `json:"remediation"`
}

// PackInstallation is a pack installed for a tenant.
type PackInstallation struct {
	TenantID    string     `json:"tenant"`
	Name        string     `json:"name"`
	Version     string     `json:"version"`
	Digest      string     `json:"digest"`
	Files       []PackFile `json:"files,omitempty"`
	InstalledAt time.Time  `json:"installed_at"`
	InstalledBy string     `json:"installed_by"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// PackFile is one file of a pack, its path relative to the pack's folder.
type PackFile struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// PackRequest installs or upgrades a pack: the catalogue's, or the one in
// Files (flywheel pack install --dir).
type PackRequest struct {
	Files []PackFile `json:"files,omitempty"`
	Force bool       `json:"force,omitempty"`
}

// PackDiff is what an upgrade would change.
type PackDiff struct {
	Name      string       `json:"name"`
	From      string       `json:"from"`
	To        string       `json:"to"`
	Downgrade bool         `json:"downgrade,omitempty"`
	Changes   []PackChange `json:"changes"`
}

// PackChange is one document an upgrade adds, removes or changes.
type PackChange struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	Change string   `json:"change"`
	Lines  []string `json:"lines,omitempty"`
}
