package rule_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/eventbridge"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const (
	fixtureDir = "../../testdata/events"
	// typesFile is the GuardDuty catalogue the package embeds.
	typesFile = "guardduty_finding_types.txt"
)

var testNow = time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)

// registry has only the Rule kind, so these tests do not depend on which
// runbooks the library holds.
func registry() *content.Registry {
	reg := content.NewRegistry()
	reg.Register(rule.Kind())
	return reg
}

// builtin compiles the library's rules, loaded as the server loads them.
var builtin = sync.OnceValues(func() (*rule.Rules, error) {
	set, err := content.Load(kinds.NewRegistry(), content.Builtin())
	if err != nil {
		return nil, err
	}
	return rule.Compile(set.Items(rule.KindName))
})

func builtinRules(tb testing.TB) *rule.Rules {
	tb.Helper()
	rs, err := builtin()
	if err != nil {
		tb.Fatalf("built-in rules: %v", err)
	}
	return rs
}

// loadYAML loads files (path → text) as the user's content directory "ops".
func loadYAML(files map[string]string) (*content.Set, error) {
	fsys := fstest.MapFS{}
	for p, s := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(s)}
	}
	return content.Load(registry(), content.Source{Name: "ops", FS: fsys})
}

// compileYAML loads and compiles rule documents, failing the test on error.
func compileYAML(tb testing.TB, files map[string]string) *rule.Rules {
	tb.Helper()
	set, err := loadYAML(files)
	if err != nil {
		tb.Fatalf("load: %v", err)
	}
	rs, err := compileRules(set)
	if err != nil {
		tb.Fatalf("compile: %v", err)
	}
	return rs
}

func compileRules(set *content.Set) (*rule.Rules, error) {
	return rule.Compile(set.Items(rule.KindName))
}

// doc is a Rule document with spec lines indented under spec:.
func doc(name, spec string) string {
	return "apiVersion: flywheel/v1\nkind: Rule\nmetadata:\n  name: " + name + "\nspec:\n" + indent(spec)
}

func indent(s string) string {
	out := ""
	for _, l := range splitLines(s) {
		if l == "" {
			out += "\n"
			continue
		}
		out += "  " + l + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func errorLines(err error) []string {
	var out []string
	for _, e := range content.Errors(err) {
		out = append(out, e.Error())
	}
	return out
}

// parseEventBridge runs a body through the EventBridge adapter.
func parseEventBridge(tb testing.TB, body []byte) []event.Event {
	tb.Helper()
	res, err := eventbridge.New().Parse(context.Background(), intake.Request{Body: body, Header: http.Header{}})
	if err != nil {
		tb.Fatalf("eventbridge: %v\n%s", err, body)
	}
	return res.Events
}

// fixtureEvents parses one EventBridge fixture.
func fixtureEvents(tb testing.TB, name string) []event.Event {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join(fixtureDir, "eventbridge", name))
	if err != nil {
		tb.Fatalf("fixture: %v", err)
	}
	return parseEventBridge(tb, body)
}

// guardDutyEvent is a GuardDuty finding of type typ as EventBridge
// delivers it, normalized by the real adapter. The finding's resource is
// the one GuardDuty reports for that type (rule.GuardDutyResourceType),
// with the details GuardDuty fills for it; role, when set, is the
// resource's role (ACTOR or TARGET); withKey adds the caller's access key
// to S3 findings, as authenticated S3 calls carry.
func guardDutyEvent(tb testing.TB, typ, role string, withKey bool) event.Event {
	tb.Helper()
	rt := rule.GuardDutyResourceType(typ)
	res := map[string]any{"resourceType": rt}
	key := map[string]any{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": "ci-deployer", "userType": "IAMUser"}
	switch rt {
	case "Instance":
		res["instanceDetails"] = map[string]any{"instanceId": "i-0123456789abcdef0"}
	case "AccessKey":
		res["accessKeyDetails"] = key
	case "S3Bucket", "S3Object":
		res["s3BucketDetails"] = []any{map[string]any{"name": "acme-data", "arn": "arn:aws:s3:::acme-data"}}
		if withKey && rt == "S3Bucket" {
			res["accessKeyDetails"] = key
		}
	case "EKSCluster":
		res["eksClusterDetails"] = map[string]any{"name": "prod-eks"}
	case "RDSDBInstance":
		res["rdsDbInstanceDetails"] = map[string]any{"dbInstanceIdentifier": "prod-db"}
	case "Lambda":
		res["lambdaDetails"] = map[string]any{"functionName": "billing-export"}
	}
	sev := 5.0
	if rule.ParseThreatName(typ).Purpose == "AttackSequence" {
		sev = 9.0
	}
	service := map[string]any{"archived": false}
	if role != "" {
		service["resourceRole"] = role
	}
	body, err := json.Marshal(map[string]any{
		"version": "0", "id": "evt-" + typ, "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
		"account": "111122223333", "time": "2026-03-10T05:16:48Z", "region": "us-east-1", "resources": []any{},
		"detail": map[string]any{
			"schemaVersion": "2.0", "accountId": "111122223333", "region": "us-east-1", "id": "finding-" + typ,
			"type": typ, "title": typ + " finding", "severity": sev, "updatedAt": "2026-03-10T05:16:11.048Z",
			"createdAt": "2026-03-10T05:16:11.048Z", "resource": res, "service": service,
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	evs := parseEventBridge(tb, body)
	if len(evs) != 1 {
		tb.Fatalf("%s: %d events", typ, len(evs))
	}
	return evs[0]
}

// opsItemFor is the OpsItem the pipeline opens for e.
func opsItemFor(e *event.Event) store.OpsItem {
	return store.OpsItem{ID: "oi_test", TenantID: "acme", Title: e.Title, Category: "security", Severity: string(e.Severity),
		Status: "open", Source: e.Source, CreatedAt: e.OccurredAt, UpdatedAt: e.OccurredAt, Occurrences: 1}
}
