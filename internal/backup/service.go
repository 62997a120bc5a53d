package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Errors callers map to answers.
var (
	ErrUnknown = errors.New("unknown")
	// ErrNoPoint: the plan has no recovery point to restore.
	ErrNoPoint = errors.New("no recovery point")
	// ErrUnsupported: the method cannot do that (restore EBS points).
	ErrUnsupported = errors.New("not supported")
)

// Options configure a Service.
type Options struct {
	Store store.Store
	// Dispatcher runs the methods' scripts on hosts: the agent's, or the
	// server's own for the "local" target.
	Dispatcher exec.Dispatcher
	// Plans are the compiled plans.
	Plans *Catalog
	// Snapshots takes and deletes EBS snapshots (the ebs-snapshot
	// method); nil: such backups fail.
	Snapshots Snapshotter
	// Secret looks up a secret by name (the server's environment).
	Secret func(name string) (string, bool)
	Clock  func() time.Time
	Logger *slog.Logger
	// DefaultTimeout bounds a backup or restore whose rule gives no
	// completion window (default 8h).
	DefaultTimeout time.Duration
}

// Service takes, tests, restores and expires recovery points.
type Service struct {
	o   Options
	now func() time.Time
}

// New returns a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Secret == nil {
		o.Secret = func(string) (string, bool) { return "", false }
	}
	if o.DefaultTimeout == 0 {
		o.DefaultTimeout = 8 * time.Hour
	}
	clock := o.Clock
	return &Service{o: o, now: func() time.Time { return clock().UTC().Truncate(time.Microsecond) }}
}

// Plan returns a tenant's plan by name.
func (s *Service) Plan(tenant, name string) (*Plan, error) {
	if s.o.Plans != nil {
		if p, ok := s.o.Plans.Get(tenant, name); ok {
			return p, nil
		}
	}
	return nil, fmt.Errorf("backup plan %q: %w", name, ErrUnknown)
}

// Backup takes a recovery point of one resource with a plan's selection,
// under one of its rules (which sets its retention). A failed backup is
// recorded as a failed point with an OpsItem, and returned as an error.
func (s *Service) Backup(ctx context.Context, tenant, planName, ruleName, selName, resource, actor string) (store.RecoveryPoint, error) {
	p, err := s.Plan(tenant, planName)
	if err != nil {
		return store.RecoveryPoint{}, err
	}
	rule, ok := p.Rule(ruleName)
	sel, ok2 := p.Selection(selName)
	if !ok || !ok2 {
		return store.RecoveryPoint{}, fmt.Errorf("backup plan %s has no rule %q or no selection %q: %w", planName, ruleName, selName, ErrUnknown)
	}
	retention, immutable, _ := p.Lifetimes(ruleName)
	start := s.now()
	pt := store.RecoveryPoint{ID: store.NewID("rp", start), TenantID: tenant, Plan: planName, Rule: ruleName, ResourceID: resource,
		Method: sel.Method, CreatedAt: start, Status: store.PointAvailable, Verification: store.VerifyNone,
		ExpiresAt: start.Add(retention), ImmutableUntil: start.Add(immutable)}
	cmd := exec.Command{Env: map[string]string{}, Timeout: s.o.DefaultTimeout}
	if d, err := time.ParseDuration(rule.CompletionWindow); err == nil {
		cmd.Timeout = d
	}
	switch sel.Method {
	case MethodPostgres:
		pt.Repository = sel.Postgres.DumpDir
		cmd.Script = postgresBackup(sel, pt.ID)
	case MethodRestic:
		pt.Repository = p.Repository.URL
		err = resticEnv(cmd.Env, p.Repository, "RESTIC_REPOSITORY", "RESTIC_PASSWORD", s.o.Secret)
		if err == nil && p.CopyTo != nil {
			err = resticEnv(cmd.Env, p.CopyTo, "FW_COPY_REPOSITORY", "FW_COPY_PASSWORD", s.o.Secret)
		}
		cmd.Script = resticBackup(sel, planName, resource, p.CopyTo != nil)
	}
	var rep report
	switch {
	case err != nil:
	case sel.Method == MethodEBS:
		err = s.snapshotEBS(ctx, &pt, cmd.Timeout)
	default:
		var out string
		out, err = s.run(ctx, tenant, resource, cmd)
		if err == nil {
			rep, err = parseReport(out)
		}
	}
	pt.Duration = s.now().Sub(start)
	if err == nil {
		err = fillPoint(&pt, rep)
	}
	if err != nil {
		pt.Status, pt.Error = store.PointFailed, clipN(err.Error(), 1000)
		pt.ExpiresAt, pt.ImmutableUntil = start.Add(retention), start
	}
	werr := s.o.Store.InTx(ctx, func(tx store.Tx) error {
		if err != nil {
			oi, e := s.openOpsItem(ctx, tx, tenant, fmt.Sprintf("Backup of %s by plan %s failed", resource, planName),
				fmt.Sprintf("Recovery point %s (rule %s, selection %s, method %s) failed: %s", pt.ID, ruleName, selName, sel.Method, pt.Error), "high")
			if e != nil {
				return e
			}
			pt.OpsItemID = oi
		}
		if e := tx.CreateRecoveryPoint(ctx, pt); e != nil {
			return e
		}
		_, e := audit.Append(ctx, tx, tenant, s.now(), audit.Entry{Actor: actor, Action: "backup.point", Target: "recovery-point/" + pt.ID,
			Result: resultOf(err), Detail: map[string]any{"plan": planName, "rule": ruleName, "resource": resource, "method": sel.Method,
				"size_bytes": pt.SizeBytes, "duration": pt.Duration.String()}})
		return e
	})
	if werr != nil {
		return pt, errors.Join(err, werr)
	}
	s.o.Logger.InfoContext(ctx, "backup", "plan", planName, "resource", resource, "point", pt.ID, "status", pt.Status, "duration", pt.Duration)
	if err != nil {
		return pt, fmt.Errorf("backup of %s: %w", resource, err)
	}
	return pt, nil
}

// fillPoint copies what the method reported into the point.
func fillPoint(pt *store.RecoveryPoint, rep report) error {
	switch pt.Method {
	case MethodPostgres:
		if rep.File == "" || rep.SHA256 == "" {
			return errors.New("the dump reported no file or checksum")
		}
		pt.Location, pt.SizeBytes, pt.Checksum = rep.File, rep.Size, rep.SHA256
		pt.Manifest = map[string]any{"tables": rep.Tables}
	case MethodRestic:
		if rep.Restic == nil || rep.Restic.SnapshotID == "" {
			return errors.New("restic reported no snapshot")
		}
		sum := rep.Restic
		pt.Location, pt.SizeBytes, pt.Checksum = sum.SnapshotID, sum.TotalBytesProcessed, sum.SnapshotID
		pt.Manifest = map[string]any{"files": sum.TotalFilesProcessed, "bytes": sum.TotalBytesProcessed, "data_added": sum.DataAdded}
	}
	// Round-trip the manifest through JSON so a fresh point reads as a
	// stored one does.
	b, err := json.Marshal(pt.Manifest)
	if err != nil {
		return err
	}
	pt.Manifest = nil
	return json.Unmarshal(b, &pt.Manifest)
}

// run dispatches a script to a resource of tenant and returns its
// output; a non-zero exit is an error carrying the output's tail.
func (s *Service) run(ctx context.Context, tenant, resource string, cmd exec.Command) (string, error) {
	if s.o.Dispatcher == nil {
		return "", errors.New("no dispatcher to reach hosts")
	}
	res, err := s.o.Dispatcher.Dispatch(context.WithValue(ctx, tenantKey{}, tenant), action.Target{ID: resource}, cmd)
	out := res.Stdout + res.Stderr
	if err != nil {
		return out, err
	}
	if res.ExitCode != 0 {
		return out, fmt.Errorf("exit code %d: %s", res.ExitCode, tail(out, 800))
	}
	return out, nil
}

type tenantKey struct{}

// TenantFromContext is the tenant a backup command runs for, so the
// dispatcher refuses a host of another tenant ("" outside the service).
func TenantFromContext(ctx context.Context) string {
	t, _ := ctx.Value(tenantKey{}).(string)
	return t
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func resultOf(err error) string {
	if err != nil {
		return "failed: " + clipN(err.Error(), 300)
	}
	return "ok"
}

// openOpsItem opens a backup OpsItem and returns its ID.
func (s *Service) openOpsItem(ctx context.Context, tx store.Tx, tenant, title, desc, severity string) (string, error) {
	now := s.now()
	o := store.OpsItem{ID: store.NewID("oi", now), TenantID: tenant, Title: title, Description: desc, Category: "backup",
		Severity: severity, Status: "open", Source: "backup", CreatedAt: now, UpdatedAt: now}
	return o.ID, tx.CreateOpsItem(ctx, o)
}

// Restore restores a point: a restic snapshot into directory to on its
// resource, a dump into a new database named to. It checks what came
// back against the point and returns the check with its measured
// duration (the time to recover).
func (s *Service) Restore(ctx context.Context, tenant, pointID, to, actor string) (store.RestoreTest, error) {
	pt, err := s.o.Store.GetRecoveryPoint(ctx, tenant, pointID)
	if err != nil {
		return store.RestoreTest{}, err
	}
	if to == "" {
		return store.RestoreTest{}, errors.New("restore needs a target: a directory (restic) or a new database name (postgres)")
	}
	res, err := s.restore(ctx, pt, to, "", false)
	aerr := s.o.Store.InTx(ctx, func(tx store.Tx) error {
		_, err := audit.Append(ctx, tx, tenant, s.now(), audit.Entry{Actor: actor, Action: "backup.restore", Target: "recovery-point/" + pt.ID,
			Result: resultOf(err), Detail: map[string]any{"to": to, "duration": res.Duration.String()}})
		return err
	})
	return res, errors.Join(err, aerr)
}

// restore runs a point's restore script and compares the result.
func (s *Service) restore(ctx context.Context, pt store.RecoveryPoint, to, validate string, test bool) (store.RestoreTest, error) {
	p, err := s.Plan(pt.TenantID, pt.Plan)
	if err != nil {
		return store.RestoreTest{}, err
	}
	if pt.Method == MethodEBS {
		// Nothing is recorded: it is not a failed restore.
		return store.RestoreTest{}, fmt.Errorf("recovery point %s: restoring EBS snapshots (%s) through Flywheel: %w; create volumes from them with EC2",
			pt.ID, pt.Location, ErrUnsupported)
	}
	start := s.now()
	rt := store.RestoreTest{ID: store.NewID("rt", start), TenantID: pt.TenantID, Plan: pt.Plan, PointID: pt.ID, ResourceID: pt.ResourceID, StartedAt: start}
	if pt.Status != store.PointAvailable {
		return rt, fmt.Errorf("recovery point %s is %s: %w", pt.ID, pt.Status, ErrNoPoint)
	}
	cmd := exec.Command{Env: map[string]string{}, Timeout: s.o.DefaultTimeout}
	var want map[string]Table
	switch pt.Method {
	case MethodPostgres:
		sel, ok := p.Selection(selectionOf(p, pt))
		if !ok {
			return rt, fmt.Errorf("plan %s no longer has a postgres selection for %s: %w", p.Name, pt.ResourceID, ErrUnknown)
		}
		if want, err = manifestTables(pt.Manifest); err != nil {
			return rt, err
		}
		cmd.Script = postgresRestore(sel.Postgres, pt.Location, pt.Checksum, to, want, validate, test)
	case MethodRestic:
		if err := resticEnv(cmd.Env, p.Repository, "RESTIC_REPOSITORY", "RESTIC_PASSWORD", s.o.Secret); err != nil {
			return rt, err
		}
		cmd.Script = resticRestore(pt.Location, to, validate, test, test)
	default:
		return rt, fmt.Errorf("recovery point %s: method %q", pt.ID, pt.Method)
	}
	out, err := s.run(ctx, pt.TenantID, pt.ResourceID, cmd)
	rt.Duration = s.now().Sub(start)
	var rep report
	if err == nil {
		rep, err = parseReport(out)
	}
	if err == nil {
		err = compare(pt, want, rep)
	}
	rt.Status, rt.Detail = "passed", passDetail(pt, rep)
	if err != nil {
		rt.Status, rt.Detail = "failed", clipN(err.Error(), 1000)
	}
	return rt, err
}

// selectionOf finds the selection a point was taken with: the plan's
// selection of its method that lists its resource, else the first of
// its method.
func selectionOf(p *Plan, pt store.RecoveryPoint) string {
	first := ""
	for _, s := range p.Selections {
		if s.Method != pt.Method {
			continue
		}
		if first == "" {
			first = s.Name
		}
		for _, r := range s.Resources {
			if r == pt.ResourceID {
				return s.Name
			}
		}
	}
	return first
}

func manifestTables(m map[string]any) (map[string]Table, error) {
	b, err := json.Marshal(m["tables"])
	if err != nil {
		return nil, err
	}
	var t map[string]Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("the point's manifest: %w", err)
	}
	return t, nil
}

// compare checks a restore's report against its point.
func compare(pt store.RecoveryPoint, want map[string]Table, rep report) error {
	switch pt.Method {
	case MethodPostgres:
		if d := compareTables(want, rep.Tables); d != "" {
			return fmt.Errorf("the restored database differs from the recovery point: %s", d)
		}
	case MethodRestic:
		if rep.Restored == nil {
			return errors.New("the restore reported nothing restored")
		}
		files, _ := pt.Manifest["files"].(float64)
		bytes, _ := pt.Manifest["bytes"].(float64)
		if rep.Restored[0] != int64(files) || rep.Restored[1] != int64(bytes) {
			return fmt.Errorf("restored %d files of %d bytes; the point has %d files of %d bytes", rep.Restored[0], rep.Restored[1], int64(files), int64(bytes))
		}
	}
	return nil
}

func passDetail(pt store.RecoveryPoint, rep report) string {
	if pt.Method == MethodPostgres {
		var rows int64
		for _, t := range rep.Tables {
			rows += t.Rows
		}
		return fmt.Sprintf("%d tables, %d rows: row counts and checksums equal the point's", len(rep.Tables), rows)
	}
	if rep.Restored != nil {
		return fmt.Sprintf("repository data checked; %d files, %d bytes restored, as the point has", rep.Restored[0], rep.Restored[1])
	}
	return ""
}

// TestRestore restores a plan's latest point (of resource, when given;
// or the point given; or a random one when the plan says pick: random) into a scratch place,
// validates it, records the result and the point's verification, and
// opens an OpsItem when it failed.
func (s *Service) TestRestore(ctx context.Context, tenant, planName, pointID, resource, actor string) (store.RestoreTest, error) {
	p, err := s.Plan(tenant, planName)
	if err != nil {
		return store.RestoreTest{}, err
	}
	var pt store.RecoveryPoint
	if pointID != "" {
		if pt, err = s.o.Store.GetRecoveryPoint(ctx, tenant, pointID); err != nil {
			return store.RestoreTest{}, err
		}
	} else if pt, err = s.pick(ctx, tenant, p, resource); err != nil {
		return store.RestoreTest{}, err
	}
	var validate, scratch string
	if t := p.RestoreTest; t != nil {
		validate, scratch = t.Validate, t.ScratchDir
	}
	now := s.now()
	to := "fw_restore_test_" + strings.ToLower(strings.TrimPrefix(store.NewID("rt", now), "rt_"))
	if pt.Method == MethodRestic {
		if scratch == "" {
			scratch = "/var/tmp/flywheel-restore-tests"
		}
		to = strings.TrimRight(scratch, "/") + "/" + pt.ID
	}
	rt, terr := s.restore(ctx, pt, to, validate, true)
	if rt.ID == "" {
		return rt, terr
	}
	err = s.o.Store.InTx(ctx, func(tx store.Tx) error {
		if terr != nil {
			oi, err := s.openOpsItem(ctx, tx, tenant, fmt.Sprintf("Restore test of %s (plan %s) failed", pt.ResourceID, planName),
				fmt.Sprintf("Restore test %s of recovery point %s taken %s failed: %s", rt.ID, pt.ID, pt.CreatedAt.Format(time.RFC3339), rt.Detail), "high")
			if err != nil {
				return err
			}
			rt.OpsItemID = oi
		}
		if err := tx.CreateRestoreTest(ctx, rt); err != nil {
			return err
		}
		at := s.now()
		pt.Verification, pt.VerifiedAt = store.VerifyPassed, &at
		if terr != nil {
			pt.Verification = store.VerifyFailed
		}
		if err := tx.UpdateRecoveryPoint(ctx, pt); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, tenant, at, audit.Entry{Actor: actor, Action: "backup.restore_test", Target: "recovery-point/" + pt.ID,
			Result: resultOf(terr), Detail: map[string]any{"restore_test": rt.ID, "duration": rt.Duration.String(), "opsitem": rt.OpsItemID}})
		return err
	})
	return rt, errors.Join(terr, err)
}

// pick chooses the point a restore test restores.
func (s *Service) pick(ctx context.Context, tenant string, p *Plan, resource string) (store.RecoveryPoint, error) {
	pts, _, err := s.o.Store.ListRecoveryPoints(ctx, tenant, store.RecoveryPointFilter{Plan: p.Name, ResourceID: resource, Status: store.PointAvailable},
		store.Page{Limit: 100})
	if err != nil {
		return store.RecoveryPoint{}, err
	}
	if len(pts) == 0 {
		return store.RecoveryPoint{}, fmt.Errorf("plan %s: %w", p.Name, ErrNoPoint)
	}
	if p.RestoreTest != nil && p.RestoreTest.Pick == "random" {
		return pts[rand.IntN(len(pts))], nil
	}
	return pts[0], nil
}
