package compliance_test

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// benchChecks are the shapes of the benchmark's rules, each used with
// several parameters so that 100 rules are 100 distinct checks.
var benchChecks = []string{
	`resource.config.MetadataOptions.HttpTokens == "required"`,
	`resource.config.?Monitoring.State.orValue("") == params.v`,
	`!resource.config.PublicIpAddress.startsWith(params.v)`,
	`resource.config.CpuOptions.CoreCount >= params.n`,
	`resource.tags[?"owner"].orValue("") != "" && resource.tags[?"env"].orValue("") != params.v`,
	`resource.config.SecurityGroups.size() <= params.n`,
	`resource.config.BlockDeviceMappings.all(d, d.Ebs.DeleteOnTermination || params.n > 0)`,
	`has(resource.config.IamInstanceProfile) && resource.config.IamInstanceProfile.Arn.contains(params.v)`,
	`resource.config.State.Name != "running" || resource.config.EbsOptimized`,
	`resource.config.InstanceType in ["t3.micro", "t3.small", params.v]`,
}

// BenchmarkEvaluate: 100 rules × 100,000 EC2 instances, every pair a CEL
// evaluation; evals/s is the figure docs/compliance.md quotes.
func BenchmarkEvaluate(b *testing.B) {
	const rules = 100
	resources := benchResources()
	fsys := fstest.MapFS{}
	var names []string
	for i := range rules {
		name := fmt.Sprintf("r%03d", i)
		names = append(names, name)
		doc := fmt.Sprintf(`apiVersion: flywheel/v1
kind: ConfigRule
metadata: {name: %s}
spec:
  resource_type: AWS::EC2::Instance
  check: '%s'
  controls: ["BENCH:%d"]
  parameters: {v: "x%d", n: %d}
`, name, benchChecks[i%len(benchChecks)], i, i, i%4)
		fsys[name+".yaml"] = &fstest.MapFile{Data: []byte(doc)}
	}
	packDoc, _ := json.Marshal(map[string]any{"apiVersion": "flywheel/v1", "kind": "ConformancePack",
		"metadata": map[string]any{"name": "bench"}, "spec": map[string]any{"rules": names}})
	fsys["pack.yaml"] = &fstest.MapFile{Data: packDoc}
	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "bench", FS: fsys})
	if err != nil {
		b.Fatal(err)
	}
	lib, err := compliance.NewLibrary(set)
	if err != nil {
		b.Fatal(err)
	}
	plan := compliance.NewPlan(lib.Packs(""))
	if plan.Checks() != rules {
		b.Fatalf("%d checks, want %d", plan.Checks(), rules)
	}
	subjects := make([]compliance.Subject, resources)
	for i := range subjects {
		cfg, _ := json.Marshal(map[string]any{
			"InstanceId": fmt.Sprintf("i-%017x", i), "InstanceType": []string{"t3.micro", "m5.large", "c5.xlarge"}[i%3],
			"State": map[string]any{"Name": "running"}, "EbsOptimized": i%2 == 0,
			"MetadataOptions": map[string]any{"HttpTokens": []string{"required", "optional"}[i%2]},
			"Monitoring":      map[string]any{"State": "disabled"}, "PublicIpAddress": fmt.Sprintf("54.%d.%d.%d", i%250, i/250%250, i%7),
			"CpuOptions":          map[string]any{"CoreCount": 1 + i%4, "ThreadsPerCore": 2},
			"SecurityGroups":      []any{map[string]any{"GroupId": "sg-1"}, map[string]any{"GroupId": "sg-2"}},
			"BlockDeviceMappings": []any{map[string]any{"DeviceName": "/dev/xvda", "Ebs": map[string]any{"DeleteOnTermination": true, "VolumeId": "vol-1"}}},
			"IamInstanceProfile":  map[string]any{"Arn": "arn:aws:iam::111111111111:instance-profile/web"},
		})
		s, err := compliance.Prepare(store.Resource{ID: fmt.Sprintf("i-%d", i), Type: "AWS::EC2::Instance", Name: "web",
			Tags: map[string]string{"owner": "ops", "env": "prod"}, Config: cfg})
		if err != nil {
			b.Fatal(err)
		}
		subjects[i] = s
	}
	var res *compliance.Results
	cpu0 := cpuTime()
	for b.Loop() {
		res = plan.Evaluate(subjects)
	}
	// The machine may be shared: evals per CPU-second is the engine's own
	// cost, evals/s what this run got.
	evals := float64(rules*resources) * float64(b.N)
	b.ReportMetric(evals/b.Elapsed().Seconds(), "evals/s")
	b.ReportMetric(evals/(cpuTime()-cpu0).Seconds(), "evals/cpu-s")
	b.StopTimer()
	if sc := res.Report("", nil, t0).Score; sc.Compliant+sc.NonCompliant != rules*resources {
		b.Fatalf("%d pairs decided, want %d (errors: the checks do not fit the resources)", sc.Compliant+sc.NonCompliant, rules*resources)
	}
}

// benchResources is 100,000; -short runs 5,000 for a profile.
func benchResources() int {
	if testing.Short() {
		return 5_000
	}
	return 100_000
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
