package backup_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/content"
)

const validPlan = `apiVersion: flywheel/v1
kind: BackupPlan
metadata: {name: web}
spec:
  repository: {url: /var/backups/restic, password_env: RESTIC_PASSWORD}
  rules:
    - {name: daily, schedule: "cron(0 2 * * ? *)", start_window: 1h, completion_window: 4h, retention: 35d, immutable_for: 7d}
  selections:
    - {name: files, method: restic, tags: {role: web}, paths: [/etc, /srv], exclude_paths: [/srv/tmp]}
`

// TestPlanValidation loads plans through the content loader: a valid one
// loads, and each broken one is refused with an error naming the field.
func TestPlanValidation(t *testing.T) {
	t.Parallel()
	load := func(doc string) error {
		reg := content.NewRegistry()
		reg.Register(backup.Kind())
		_, err := content.Load(reg, content.Source{Name: "test", FS: fstest.MapFS{"plan.yaml": {Data: []byte(doc)}}})
		return err
	}
	if err := load(validPlan); err != nil {
		t.Fatalf("valid plan: %v", err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"retention: 35d", "retention: 35 days", `retention: "35 days" is not a number of days`},
		{"immutable_for: 7d", "immutable_for: 40d", "immutable_for: 40d is longer than the retention 35d"},
		{"retention: 35d", "retention: 10m", "outside 1h to 3650d"},
		{`schedule: "cron(0 2 * * ? *)"`, `schedule: "cron(0 2 3W * ? *)"`, "W (nearest weekday) is not supported"},
		{"method: restic", "method: tar", `method: "tar" is not a method`},
		{"paths: [/etc, /srv]", "paths: [etc]", `"etc" is not an absolute path`},
		{"tags: {role: web}, ", "", "select resources by resources, tags or group"},
		{"repository: {url: /var/backups/restic, password_env: RESTIC_PASSWORD}", "repository: {url: /var/backups/restic}", "password_env"},
		{"{name: daily,", "{name: 'da ily',", "is not a name"},
		{"paths: [/etc, /srv], exclude_paths: [/srv/tmp]", "postgres: {database: app}", "postgres: is for the postgres method"},
		{"exclude_paths", "exclude_pathz", "exclude_pathz"},
	} {
		refused(t, load, validPlan, tc.from, tc.to, tc.want)
	}
	pg := strings.Replace(validPlan, "{name: files, method: restic, tags: {role: web}, paths: [/etc, /srv], exclude_paths: [/srv/tmp]}",
		"{name: db, method: postgres, resources: [res_db1], postgres: {database: 'app; rm -rf /', dump_dir: /var/backups/pg}}", 1)
	if err := load(pg); err == nil || !strings.Contains(err.Error(), "is not a database name") {
		t.Errorf("a database name with shell in it: %v", err)
	}
	ebs := strings.Replace(validPlan, "{name: files, method: restic, tags: {role: web}, paths: [/etc, /srv], exclude_paths: [/srv/tmp]}",
		"{name: ec2, method: ebs-snapshot, resources: ['arn:aws:ec2:eu-west-1:123456789012:volume/vol-0a', 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0b']}", 1)
	if err := load(ebs); err != nil {
		t.Errorf("ebs-snapshot plan: %v", err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"volume/vol-0a", "snapshot/snap-0a", `selections[0].resources[0]: "arn:aws:ec2:eu-west-1:123456789012:snapshot/snap-0a" is not the ARN of an EC2 volume or instance`},
		{"'arn:aws:ec2:eu-west-1:123456789012:volume/vol-0a'", "res_web1", `resources[0]: "res_web1" is not the ARN`},
		{"method: ebs-snapshot,", "method: ebs-snapshot, pre_hook: sync,", "ebs-snapshot runs no hooks"},
		{"method: ebs-snapshot,", "method: ebs-snapshot, paths: [/srv],", "paths and postgres are not for the ebs-snapshot method"},
		{"  rules:", "  restore_test: {schedule: \"rate(7 days)\"}\n  rules:", "restore tests of ebs-snapshot selections (ec2) are not built"},
	} {
		refused(t, load, ebs, tc.from, tc.to, tc.want)
	}
}

// refused checks that plan, with from replaced by to, does not load, with
// an error holding want.
func refused(t *testing.T, load func(string) error, plan, from, to, want string) {
	t.Helper()
	doc := strings.Replace(plan, from, to, 1)
	if doc == plan {
		t.Fatalf("%q is not in the plan", from)
	}
	if err := load(doc); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s -> %s: %v, want an error with %q", from, to, err, want)
	}
}

// FuzzParseEC2ARN: any string is an EC2 volume or instance with every
// part set, or an error; never a panic.
func FuzzParseEC2ARN(f *testing.F) {
	for _, s := range []string{"arn:aws:ec2:eu-west-1:123456789012:volume/vol-0a", "arn:aws:ec2:eu-west-1:123456789012:instance/i-0b",
		"arn:aws:s3:::bucket", "arn:aws:ec2:::volume/", "res_web1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := backup.ParseEC2ARN(s)
		if err != nil {
			return
		}
		if r.Region == "" || r.Account == "" || r.ID == "" || (r.Kind != "volume" && r.Kind != "instance") {
			t.Errorf("ParseEC2ARN(%q) = %+v", s, r)
		}
	})
}
