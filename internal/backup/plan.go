// Package backup is Flywheel's backup and disaster-recovery flywheel:
// backup plans (content kind BackupPlan), the methods that take recovery
// points on a host through its agent (restic for files, PostgreSQL's own
// pg_dump for databases, pre/post hooks for other applications) or of EC2
// volumes and instances through the AWS provider (EBS snapshots), the
// catalogue of recovery points with retention and an immutability window,
// and restore tests that prove a point can be recovered.
//
// Flywheel orchestrates; it does not invent a backup format. A point is a
// restic snapshot, a plain pg_dump file or EBS snapshots that an operator
// can restore with those tools alone, without Flywheel.
//
// Plans run on the one scheduler: each rule of a plan becomes a
// maintenance window (internal/windowrun) whose task runs the built-in
// `backup` runbook on the selection's resources, so a missed backup
// window opens an OpsItem as any missed window does. Commands reach hosts
// through the exec action's Dispatcher (the agent, or the server's own
// host), as runbook steps do.
package backup

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// KindName is the content kind of backup plans.
const KindName = "BackupPlan"

// Methods.
const (
	MethodRestic   = "restic"
	MethodPostgres = "postgres"
)

// Spec is a BackupPlan document's spec.
type Spec struct {
	// Repository is where restic selections keep their points.
	Repository *Repository `yaml:"repository"`
	// CopyTo is a second restic repository every new snapshot is copied
	// to (another disk, another site).
	CopyTo      *Repository      `yaml:"copy_to"`
	Rules       []Rule           `yaml:"rules"`
	Selections  []Selection      `yaml:"selections"`
	RestoreTest *RestoreTestSpec `yaml:"restore_test"`
}

// Repository is a restic repository: a local directory or an
// S3-compatible URL (s3:https://host/bucket/path). Its password, and S3
// keys, are named environment variables of the server (its secret
// store), passed to the command's environment only: never in the plan,
// the audit log or the logs.
type Repository struct {
	URL          string `yaml:"url"`
	PasswordEnv  string `yaml:"password_env"`
	AccessKeyEnv string `yaml:"access_key_env"`
	SecretKeyEnv string `yaml:"secret_key_env"`
}

// Rule is when points are taken and how long they are kept.
type Rule struct {
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

// Selection is which resources a plan backs up, and how.
type Selection struct {
	Name      string            `yaml:"name"`
	Method    string            `yaml:"method"`
	Resources []string          `yaml:"resources"`
	Tags      map[string]string `yaml:"tags"`
	Group     string            `yaml:"group"`
	Exclude   []string          `yaml:"exclude_resources"`
	// Paths and ExcludePaths are for restic.
	Paths        []string `yaml:"paths"`
	ExcludePaths []string `yaml:"exclude_paths"`
	// Postgres is for the postgres method.
	Postgres *PostgresTarget `yaml:"postgres"`
	// PreHook and PostHook are shell scripts run on the host around the
	// backup (freeze, flush, thaw). A failing pre-hook fails the backup;
	// the post-hook runs whatever happened.
	PreHook  string `yaml:"pre_hook"`
	PostHook string `yaml:"post_hook"`
}

// PostgresTarget is the database a postgres selection dumps, as the host
// reaches it, and the directory on the host the dumps are kept in.
type PostgresTarget struct {
	Database string `yaml:"database"`
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	User     string `yaml:"user"`
	DumpDir  string `yaml:"dump_dir"`
}

// RestoreTestSpec is when and what the plan restores to prove its points.
type RestoreTestSpec struct {
	Schedule string `yaml:"schedule"`
	Timezone string `yaml:"timezone"`
	// Pick is latest (default) or random.
	Pick string `yaml:"pick"`
	// ScratchDir is where restic points are restored on the host.
	ScratchDir string `yaml:"scratch_dir"`
	// Validate is a shell script run on the host after the restore, with
	// FLYWHEEL_RESTORE_DIR or FLYWHEEL_RESTORE_DATABASE set: an
	// application health check. A non-zero exit fails the test.
	Validate string `yaml:"validate"`
}

// Plan is a validated BackupPlan.
type Plan struct {
	Name string
	Spec
	rules map[string]compiledRule
}

type compiledRule struct {
	retention, immutable time.Duration
}

// Kind returns the BackupPlan content kind.
func Kind() content.Kind {
	return content.Kind{
		Name: KindName,
		New:  func() any { return new(Spec) },
		Validate: func(spec any) error {
			_, err := Compile("plan", spec.(*Spec))
			return err
		},
	}
}

// Compile validates a spec; every error names its field.
func Compile(name string, s *Spec) (*Plan, error) {
	p := &Plan{Name: name, Spec: *s, rules: map[string]compiledRule{}}
	var errs []error
	if len(s.Rules) == 0 {
		errs = append(errs, content.FieldErrorf("rules", "a plan needs at least one rule"))
	}
	for i, r := range s.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		if err := checkName(r.Name); err != nil {
			errs = append(errs, content.FieldErrorf(f+".name", "%v", err))
		} else if _, dup := p.rules[r.Name]; dup {
			errs = append(errs, content.FieldErrorf(f+".name", "%q is given twice", r.Name))
		}
		var c compiledRule
		var err error
		if c.retention, err = ParseRetention(r.Retention); err != nil {
			errs = append(errs, content.FieldErrorf(f+".retention", "%v", err))
		}
		if r.ImmutableFor != "" {
			if c.immutable, err = ParseRetention(r.ImmutableFor); err != nil {
				errs = append(errs, content.FieldErrorf(f+".immutable_for", "%v", err))
			} else if c.immutable > c.retention {
				errs = append(errs, content.FieldErrorf(f+".immutable_for", "%s is longer than the retention %s", r.ImmutableFor, r.Retention))
			}
		}
		if _, err := maintenance.FromRecord(ruleWindow(name, "validate", r, nil, time.Unix(0, 0))); err != nil {
			errs = append(errs, content.FieldErrorf(f, "%v", err))
		}
		p.rules[r.Name] = c
	}
	if len(s.Selections) == 0 {
		errs = append(errs, content.FieldErrorf("selections", "a plan needs at least one selection"))
	}
	seen := map[string]bool{}
	for i, sel := range s.Selections {
		f := fmt.Sprintf("selections[%d]", i)
		if err := checkName(sel.Name); err != nil {
			errs = append(errs, content.FieldErrorf(f+".name", "%v", err))
		} else if seen[sel.Name] {
			errs = append(errs, content.FieldErrorf(f+".name", "%q is given twice", sel.Name))
		}
		seen[sel.Name] = true
		if len(sel.Resources) == 0 && len(sel.Tags) == 0 && sel.Group == "" {
			errs = append(errs, content.FieldErrorf(f, "select resources by resources, tags or group"))
		}
		switch sel.Method {
		case MethodRestic:
			if s.Repository == nil {
				errs = append(errs, content.FieldErrorf("repository", "selection %q uses restic, which needs a repository", sel.Name))
			}
			if len(sel.Paths) == 0 {
				errs = append(errs, content.FieldErrorf(f+".paths", "restic needs at least one path"))
			}
			for j, path := range append(slices.Clone(sel.Paths), sel.ExcludePaths...) {
				if !strings.HasPrefix(path, "/") {
					errs = append(errs, content.FieldErrorf(fmt.Sprintf("%s.paths[%d]", f, j), "%q is not an absolute path", path))
				}
			}
			if sel.Postgres != nil {
				errs = append(errs, content.FieldErrorf(f+".postgres", "is for the postgres method"))
			}
		case MethodPostgres:
			pg := sel.Postgres
			switch {
			case pg == nil:
				errs = append(errs, content.FieldErrorf(f+".postgres", "the postgres method needs postgres: {database, dump_dir}"))
			case pg.Database == "" || !identifier(pg.Database):
				errs = append(errs, content.FieldErrorf(f+".postgres.database", "%q is not a database name (letters, digits, _ and -)", pg.Database))
			case !strings.HasPrefix(pg.DumpDir, "/"):
				errs = append(errs, content.FieldErrorf(f+".postgres.dump_dir", "%q is not an absolute path", pg.DumpDir))
			case pg.Port < 0 || pg.Port > 65535:
				errs = append(errs, content.FieldErrorf(f+".postgres.port", "%d is not a port", pg.Port))
			case pg.User != "" && !identifier(pg.User), strings.ContainsAny(pg.Host, " '\"\\$`;"):
				errs = append(errs, content.FieldErrorf(f+".postgres", "host or user has characters a connection cannot take"))
			}
			if len(sel.Paths) > 0 {
				errs = append(errs, content.FieldErrorf(f+".paths", "is for the restic method"))
			}
		case MethodEBS:
			if len(sel.Paths) > 0 || len(sel.ExcludePaths) > 0 || sel.Postgres != nil {
				errs = append(errs, content.FieldErrorf(f, "paths and postgres are not for the ebs-snapshot method"))
			}
			if sel.PreHook != "" || sel.PostHook != "" {
				errs = append(errs, content.FieldErrorf(f+".pre_hook", "ebs-snapshot runs no hooks; freeze and thaw with the backup-ebs-snapshot runbook"))
			}
			if s.RestoreTest != nil && s.RestoreTest.Schedule != "" {
				errs = append(errs, content.FieldErrorf("restore_test.schedule", "restore tests of ebs-snapshot selections (%s) are not built", sel.Name))
			}
			for j, r := range sel.Resources {
				if _, err := ParseEC2ARN(r); err != nil {
					errs = append(errs, content.FieldErrorf(fmt.Sprintf("%s.resources[%d]", f, j), "%v", err))
				}
			}
		default:
			errs = append(errs, content.FieldErrorf(f+".method", "%q is not a method (restic, postgres, ebs-snapshot)", sel.Method))
		}
	}
	for _, r := range []struct {
		field string
		repo  *Repository
	}{{"repository", s.Repository}, {"copy_to", s.CopyTo}} {
		if r.repo == nil {
			continue
		}
		if r.repo.URL == "" {
			errs = append(errs, content.FieldErrorf(r.field+".url", "is required"))
		}
		if r.repo.PasswordEnv == "" {
			errs = append(errs, content.FieldErrorf(r.field+".password_env", "name the server environment variable holding the repository password"))
		}
	}
	if s.CopyTo != nil && s.Repository == nil {
		errs = append(errs, content.FieldErrorf("copy_to", "copies the repository's snapshots; give a repository"))
	}
	if t := s.RestoreTest; t != nil {
		if t.Pick != "" && t.Pick != "latest" && t.Pick != "random" {
			errs = append(errs, content.FieldErrorf("restore_test.pick", "%q is not latest or random", t.Pick))
		}
		if t.ScratchDir != "" && !strings.HasPrefix(t.ScratchDir, "/") {
			errs = append(errs, content.FieldErrorf("restore_test.scratch_dir", "%q is not an absolute path", t.ScratchDir))
		}
		if t.Schedule != "" {
			r := Rule{Schedule: t.Schedule, Timezone: t.Timezone, CompletionWindow: "1h"}
			if _, err := maintenance.FromRecord(ruleWindow(name, "restore-test", r, nil, time.Unix(0, 0))); err != nil {
				errs = append(errs, content.FieldErrorf("restore_test.schedule", "%v", err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// Selection returns the plan's selection of that name.
func (p *Plan) Selection(name string) (Selection, bool) {
	for _, s := range p.Selections {
		if s.Name == name {
			return s, true
		}
	}
	return Selection{}, false
}

// Rule returns the plan's rule of that name.
func (p *Plan) Rule(name string) (Rule, bool) {
	for _, r := range p.Rules {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// Lifetimes are a point's retention and immutability under a rule.
func (p *Plan) Lifetimes(rule string) (retention, immutable time.Duration, ok bool) {
	c, ok := p.rules[rule]
	return c.retention, c.immutable, ok
}

// ParseRetention reads a retention: a Go duration (36h) or a number of
// days (35d), at least an hour and at most ten years.
func ParseRetention(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days (35d) or a duration (36h)", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a number of days (35d) or a duration (36h)", s)
		}
	}
	if d < time.Hour || d > 3650*24*time.Hour {
		return 0, fmt.Errorf("%q is outside 1h to 3650d", s)
	}
	return d, nil
}

func checkName(s string) error {
	if s == "" || len(s) > 63 || !identifier(s) {
		return fmt.Errorf("%q is not a name (1-63 letters, digits, _ and -)", s)
	}
	return nil
}

func identifier(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return s != ""
}

// ruleWindow is the maintenance window a rule runs through for one
// selection (sel nil: only the schedule, for validation).
func ruleWindow(plan, id string, r Rule, sel *Selection, at time.Time) store.MaintenanceWindow {
	completion := r.CompletionWindow
	if completion == "" {
		completion = "8h"
	}
	w := store.MaintenanceWindow{ID: id, Name: WindowName(plan, r.Name, ""), Timezone: r.Timezone, Duration: completion,
		CreatedBy: createdByPrefix + plan, CreatedAt: at, Comment: fmt.Sprintf("Backup plan %s, rule %s", plan, r.Name)}
	w.Schedule.Expression = r.Schedule
	if r.StartWindow != "" {
		if start, err1 := time.ParseDuration(r.StartWindow); err1 == nil {
			if total, err2 := time.ParseDuration(completion); err2 == nil && total > start {
				w.Cutoff = (total - start).String()
			}
		}
	}
	if sel != nil {
		w.RunOnly = true
		w.Name = WindowName(plan, r.Name, sel.Name)
		w.Targets = store.MaintenanceTargets{ResourceIDs: sel.Resources, Tags: sel.Tags, Group: sel.Group}
		w.Tasks = []store.MaintenanceTask{{Name: "backup", Runbook: Runbook, MaxConcurrency: "10%", MaxErrors: "100%", OnFailure: "continue",
			Parameters: map[string]any{"plan": plan, "rule": r.Name, "selection": sel.Name}}}
	}
	return w
}

// createdByPrefix marks the windows plans make (CreatedBy).
const createdByPrefix = "backup-plan/"

// Runbook is the built-in runbook a backup window's task runs;
// RestoreTestRunbook the one a restore-test window's runs.
const (
	Runbook            = "backup"
	RestoreTestRunbook = "backup-restore-test"
)

// WindowName is the maintenance window of a plan's rule and selection.
func WindowName(plan, rule, selection string) string {
	if selection == "" {
		return "backup-" + plan + "-" + rule
	}
	return "backup-" + plan + "-" + rule + "-" + selection
}

// CheckRefs is a cross-document check: a plan's selection group names a
// ResourceGroup the set defines.
func CheckRefs(set *content.Set) error {
	var errs []error
	for _, it := range set.Items(KindName) {
		spec, ok := it.Spec.(*Spec)
		if !ok {
			continue
		}
		for i, sel := range spec.Selections {
			if sel.Group != "" && !set.Defined("ResourceGroup", sel.Group) {
				errs = append(errs, &content.Error{Origin: it.Origin,
					Msg: fmt.Sprintf("%s %q: spec.selections[%d].group: no ResourceGroup named %q", KindName, it.Name, i, sel.Group)})
			}
		}
	}
	return errors.Join(errs...)
}
