package content_test

// The AWS packs' runbooks through the real executor and the real aws
// action: aws-sdk-go-v2 validates, serializes and signs every call, and a
// placebo pill answers it from recordings under testdata/aws/packs, built
// from the response shapes of the AWS API references (README there). Each
// runbook runs a success path and a failure or other path; approvals are
// given (or not) as a person would.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
	fwexec "github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// newPackHarness is a harness with the library and the AWS packs, whose
// aws steps are answered from the recording testdata/aws/packs/<name>.
func newPackHarness(t *testing.T, recording string, execOpts fwexec.Options) (*harness, *placebo.Pill) {
	t.Helper()
	pill := placebo.Replay(filepath.Join(recordings, "packs", recording))
	sources := append([]content.Source{content.Builtin()}, awsPackSources(t)...)
	h := startHarness(t, sources, execOpts, aws.Options{LoadConfig: func(ctx context.Context, _ action.Input, region string) (sdkaws.Config, error) {
		if region == "" {
			region = "eu-west-1"
		}
		cfg, err := placebo.LoadBase(ctx, "", region)
		cfg.APIOptions = append(cfg.APIOptions, pill.APIOptions()...)
		return cfg, err
	}})
	return h, pill
}

// packRun is one run of a pack runbook on a recording.
type packRun struct {
	name, runbook, recording string
	params                   map[string]any
	targets                  []string
	// approve: the answer to each approval the run waits for, in order.
	approve []bool
	status  string
	// calls are the AWS calls made, in order ("ec2.RebootInstances").
	calls []string
	// inputs: an operation's first call's input holds these members
	// (JSON, by API member names).
	inputs map[string]string
	// outputs the runbook's outputs must hold.
	outputs map[string]any
	// errorHas: the execution's error contains it.
	errorHas string
	// secrets: no stored step output holds them.
	secrets []string
}

func (tc packRun) run(t *testing.T, h *harness, pill *placebo.Pill) store.Execution {
	t.Helper()
	ctx := context.Background()
	id, _ := h.start(t, true, tc.runbook, tc.params, tc.targets...)
	e := waitExecution(t, h, id)
	for i := 0; e.Status == runbook.StatusWaitingApproval; i++ {
		if i >= len(tc.approve) {
			t.Fatalf("execution waits for approval %d, which the test does not give (AWS calls %v)", i+1, opsOf(pill))
		}
		who := execution.Approver{Actor: "user:usr_oncall", Name: "oncall", Role: store.RoleOperator}
		var err error
		if tc.approve[i] {
			_, err = h.x.Approve(ctx, tenant, id, who, "go ahead")
		} else {
			_, err = h.x.Deny(ctx, tenant, id, who, "not now")
		}
		if err != nil {
			t.Fatal(err)
		}
		e = waitExecution(t, h, id)
	}
	if e.Status != tc.status {
		t.Errorf("execution %s (%s), want %s\nsteps: %v", e.Status, e.Error, tc.status, h.steps(t, e))
	}
	if tc.errorHas != "" && !strings.Contains(e.Error, tc.errorHas) {
		t.Errorf("error %q does not say %q", e.Error, tc.errorHas)
	}
	if got := opsOf(pill); !slices.Equal(got, tc.calls) {
		t.Errorf("AWS calls:\n got %v\nwant %v", got, tc.calls)
	}
	for op, want := range tc.inputs {
		cs := pill.CallsTo(op)
		if len(cs) == 0 {
			t.Errorf("no call to %s", op)
			continue
		}
		var got, sub map[string]any
		if err := json.Unmarshal(cs[0].Params, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(want), &sub); err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		for k, v := range sub {
			if !holds(got[k], v) {
				t.Errorf("%s input %s = %s, want %s", op, k, jsonOf(got[k]), jsonOf(v))
			}
		}
	}
	if len(tc.outputs) > 0 {
		out := map[string]any{}
		if len(e.Outputs) > 0 {
			out = decode(t, e.Outputs)
		}
		for k, v := range tc.outputs {
			if jsonOf(out[k]) != jsonOf(v) {
				t.Errorf("output %s = %s, want %s", k, jsonOf(out[k]), jsonOf(v))
			}
		}
	}
	if len(tc.secrets) > 0 {
		rows, err := h.st.ListExecutionSteps(ctx, tenant, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			for _, secret := range tc.secrets {
				if strings.Contains(string(r.Outputs), secret) {
					t.Errorf("step %s keeps %q: %s", r.Name, secret, r.Outputs)
				}
			}
		}
	}
	if unused, err := pill.Unused(); err != nil || len(unused) > 0 {
		t.Errorf("recorded answers never asked for: %v %v", unused, err)
	}
	return e
}

// holds reports whether got has every member of want with its value
// (the SDK's input structs marshal their absent members as null).
func holds(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !holds(g[k], v) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !holds(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return jsonOf(got) == jsonOf(want)
}

func opsOf(p *placebo.Pill) []string {
	var out []string
	for _, c := range p.Calls() {
		out = append(out, c.Service+"."+c.Operation)
	}
	return out
}

const instance = "i-0a1b2c3d4e5f60001"

func TestAWSPackRunbooksRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []packRun{
		// aws-ec2
		{name: "status report: system check", runbook: "aws-ec2-status-report", recording: "ec2-status-report-system",
			params: map[string]any{"instance_id": instance, "region": "eu-west-1"}, status: runbook.StatusSucceeded,
			calls:   []string{"ec2.DescribeInstanceStatus"},
			inputs:  map[string]string{"ec2.DescribeInstanceStatus": `{"InstanceIds": ["` + instance + `"], "IncludeAllInstances": true}`},
			outputs: map[string]any{"state": "running", "failing": "system", "system_status": "impaired", "scheduled_events": []string{"system-maintenance"}}},
		{name: "status report: unknown instance", runbook: "aws-ec2-status-report", recording: "ec2-status-report-unknown",
			params: map[string]any{"instance_id": instance}, status: runbook.StatusFailed, errorHas: "was not found",
			calls: []string{"ec2.DescribeInstanceStatus"}},
		{name: "recover: reboot for the instance check", runbook: "aws-ec2-recover", recording: "ec2-recover-reboot",
			params: map[string]any{"instance_id": instance}, status: runbook.StatusSucceeded,
			calls:   []string{"ec2.DescribeInstanceStatus", "ec2.RebootInstances", "ec2.DescribeInstanceStatus"},
			inputs:  map[string]string{"ec2.RebootInstances": `{"InstanceIds": ["` + instance + `"]}`},
			outputs: map[string]any{"action": "reboot", "checks_ok": true}},
		{name: "recover: stop and start for the system check", runbook: "aws-ec2-recover", recording: "ec2-recover-stop-start",
			params: map[string]any{"instance_id": instance}, approve: []bool{true}, status: runbook.StatusSucceeded,
			calls: []string{"ec2.DescribeInstanceStatus", "ec2.StopInstances", "ec2.DescribeInstances", "ec2.StartInstances",
				"ec2.DescribeInstanceStatus"},
			outputs: map[string]any{"action": "stop-start", "checks_ok": true}},
		{name: "recover: a stopped instance", runbook: "aws-ec2-recover", recording: "ec2-recover-stopped",
			params: map[string]any{"instance_id": instance}, status: runbook.StatusFailed, errorHas: "is stopped, not running",
			calls: []string{"ec2.DescribeInstanceStatus"}},
		{name: "resize", runbook: "aws-ec2-resize", recording: "ec2-resize",
			params: map[string]any{"instance_id": instance, "instance_type": "m7i.xlarge"}, approve: []bool{true}, status: runbook.StatusSucceeded,
			calls: []string{"ec2.DescribeInstances", "ec2.StopInstances", "ec2.DescribeInstances", "ec2.ModifyInstanceAttribute",
				"ec2.StartInstances", "ec2.DescribeInstances"},
			inputs:  map[string]string{"ec2.ModifyInstanceAttribute": `{"InstanceId": "` + instance + `", "InstanceType": {"Value": "m7i.xlarge"}}`},
			outputs: map[string]any{"previous_type": "m7i.large", "instance_type": "m7i.xlarge", "resized": true}},
		{name: "resize: type refused, started again", runbook: "aws-ec2-resize", recording: "ec2-resize-refused",
			params: map[string]any{"instance_id": instance, "instance_type": "m7g.xlarge"}, approve: []bool{true}, status: runbook.StatusFailed,
			errorHas: "was started again as m7i.large",
			calls: []string{"ec2.DescribeInstances", "ec2.StopInstances", "ec2.DescribeInstances", "ec2.ModifyInstanceAttribute",
				"ec2.StartInstances"}},
		// aws-ebs
		{name: "volume report of an instance", runbook: "aws-ebs-volume-report", recording: "ebs-volume-report",
			params: map[string]any{"instance_id": instance}, status: runbook.StatusSucceeded,
			calls: []string{"ec2.DescribeVolumes", "ec2.DescribeVolumesModifications"},
			inputs: map[string]string{"ec2.DescribeVolumes": `{"Filters": [{"Name": "attachment.instance-id", "Values": ["` + instance + `"]}]}`,
				"ec2.DescribeVolumesModifications": `{"VolumeIds": ["vol-0a1b2c3d4e5f60001", "vol-0a1b2c3d4e5f60002"]}`},
			outputs: map[string]any{"modifications": []map[string]any{{"volume_id": "vol-0a1b2c3d4e5f60002", "state": "completed",
				"target_size_gib": 100, "start_time": "2026-12-01T09:00:00Z"}}}},
		{name: "volume report: no volumes", runbook: "aws-ebs-volume-report", recording: "ebs-volume-report-none",
			params: map[string]any{"instance_id": instance}, status: runbook.StatusFailed, errorHas: "no EBS volume found",
			calls: []string{"ec2.DescribeVolumes"}},
		// aws-rds
		{name: "RDS report", runbook: "aws-rds-report", recording: "rds-report",
			params: map[string]any{"db_instance_id": "orders-db"}, status: runbook.StatusSucceeded,
			calls: []string{"rds.DescribeDBInstances", "cloudwatch.GetMetricStatistics", "rds.DescribeEvents"},
			inputs: map[string]string{"cloudwatch.GetMetricStatistics": `{"Namespace": "AWS/RDS", "MetricName": "FreeStorageSpace",
				"Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "orders-db"}], "Period": 300, "Statistics": ["Minimum"]}`,
				"rds.DescribeEvents": `{"SourceIdentifier": "orders-db", "SourceType": "db-instance", "Duration": 1440}`},
			outputs: map[string]any{"status": "available", "multi_az": true, "allocated_gib": 100, "free_bytes_min": 1073741824}},
		{name: "RDS report: unknown instance", runbook: "aws-rds-report", recording: "rds-report-unknown",
			params: map[string]any{"db_instance_id": "gone-db"}, status: runbook.StatusFailed, errorHas: "DBInstanceNotFound",
			// The step's two retries.
			calls: []string{"rds.DescribeDBInstances", "rds.DescribeDBInstances", "rds.DescribeDBInstances"}},
		{name: "extend RDS storage", runbook: "aws-rds-extend-storage", recording: "rds-extend",
			params: map[string]any{"db_instance_id": "orders-db", "allocated_gib": 150}, approve: []bool{true}, status: runbook.StatusSucceeded,
			calls:   []string{"rds.DescribeDBInstances", "rds.ModifyDBInstance", "rds.DescribeDBInstances"},
			inputs:  map[string]string{"rds.ModifyDBInstance": `{"DBInstanceIdentifier": "orders-db", "AllocatedStorage": 150, "ApplyImmediately": true}`},
			outputs: map[string]any{"previous_gib": 100, "allocated_gib": 150, "extended": true}},
		{name: "extend RDS storage by less than 10 percent", runbook: "aws-rds-extend-storage", recording: "rds-extend-too-little",
			params: map[string]any{"db_instance_id": "orders-db", "allocated_gib": 105}, status: runbook.StatusFailed, errorHas: "not at least 10 % more",
			calls: []string{"rds.DescribeDBInstances"}},
		{name: "RDS failover", runbook: "aws-rds-failover", recording: "rds-failover",
			params: map[string]any{"db_instance_id": "orders-db"}, approve: []bool{true}, status: runbook.StatusSucceeded,
			calls:   []string{"rds.DescribeDBInstances", "rds.RebootDBInstance", "rds.DescribeDBInstances"},
			inputs:  map[string]string{"rds.RebootDBInstance": `{"DBInstanceIdentifier": "orders-db", "ForceFailover": true}`},
			outputs: map[string]any{"previous_zone": "eu-west-1a", "zone": "eu-west-1b", "failed_over": true}},
		{name: "RDS failover of a Single-AZ instance", runbook: "aws-rds-failover", recording: "rds-failover-single-az",
			params: map[string]any{"db_instance_id": "legacy-db"}, status: runbook.StatusFailed, errorHas: "not Multi-AZ",
			calls: []string{"rds.DescribeDBInstances"}},
		// aws-s3
		{name: "bucket report: public, no lifecycle", runbook: "aws-s3-bucket-report", recording: "s3-bucket-report",
			params: map[string]any{"bucket": "acme-public-assets"}, status: runbook.StatusSucceeded,
			calls:   []string{"s3.GetPublicAccessBlock", "s3.GetBucketPolicyStatus", "s3.GetBucketLifecycleConfiguration"},
			outputs: map[string]any{"blocked": false, "policy_public": true, "exposed": true, "lifecycle_rules": 0}},
		{name: "bucket report: access denied", runbook: "aws-s3-bucket-report", recording: "s3-bucket-report-denied",
			params: map[string]any{"bucket": "acme-public-assets"}, status: runbook.StatusFailed, errorHas: "could not be read",
			calls: []string{"s3.GetPublicAccessBlock", "s3.GetBucketPolicyStatus", "s3.GetBucketLifecycleConfiguration"}},
		{name: "close a public bucket", runbook: "aws-s3-close-public-bucket", recording: "s3-close-public-bucket",
			params: map[string]any{"bucket": "acme-public-assets"}, approve: []bool{true}, status: runbook.StatusSucceeded,
			calls: []string{"s3.GetPublicAccessBlock", "s3.GetBucketPolicyStatus", "s3.GetBucketLifecycleConfiguration",
				"s3.PutPublicAccessBlock", "s3.GetPublicAccessBlock"},
			inputs: map[string]string{"s3.PutPublicAccessBlock": `{"Bucket": "acme-public-assets", "PublicAccessBlockConfiguration":
				{"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}`},
			outputs: map[string]any{"was_exposed": true, "blocked": true}},
		{name: "a private bucket is left alone", runbook: "aws-s3-close-public-bucket", recording: "s3-close-private-bucket",
			params: map[string]any{"bucket": "acme-logs"}, status: runbook.StatusSucceeded,
			calls:   []string{"s3.GetPublicAccessBlock", "s3.GetBucketPolicyStatus", "s3.GetBucketLifecycleConfiguration"},
			outputs: map[string]any{"was_exposed": false, "blocked": true}},
		{name: "lifecycle check of three buckets", runbook: "aws-s3-lifecycle-check", recording: "s3-lifecycle-check",
			targets: []string{"arn:aws:s3:::acme-logs", "arn:aws:s3:::acme-public-assets", "arn:aws:s3:::acme-secrets"}, status: runbook.StatusSucceeded,
			calls: []string{"s3.GetBucketLifecycleConfiguration", "s3.GetBucketLifecycleConfiguration", "s3.GetBucketLifecycleConfiguration"},
			outputs: map[string]any{"with_lifecycle": []string{"acme-logs"}, "without_lifecycle": []string{"acme-public-assets"},
				"unreadable": []string{"acme-secrets"}}},
		{name: "apply lifecycle rules", runbook: "aws-s3-apply-lifecycle", recording: "s3-apply-lifecycle",
			params: map[string]any{"bucket": "acme-logs", "lifecycle": lifecycleRules}, approve: []bool{true}, status: runbook.StatusSucceeded,
			calls:   []string{"s3.GetBucketLifecycleConfiguration", "s3.PutBucketLifecycleConfiguration", "s3.GetBucketLifecycleConfiguration"},
			inputs:  map[string]string{"s3.PutBucketLifecycleConfiguration": `{"Bucket": "acme-logs", "LifecycleConfiguration": ` + jsonOf(lifecycleRules) + `}`},
			outputs: map[string]any{"previous_rules": []string{}, "rules": []string{"expire-logs", "abort-uploads"}, "applied": true}},
		{name: "lifecycle rules already there", runbook: "aws-s3-apply-lifecycle", recording: "s3-apply-lifecycle-existing",
			params: map[string]any{"bucket": "acme-logs", "lifecycle": lifecycleRules}, status: runbook.StatusFailed, errorHas: "set replace to overwrite",
			calls: []string{"s3.GetBucketLifecycleConfiguration"}},
		// aws-lambda
		{name: "Lambda report", runbook: "aws-lambda-report", recording: "lambda-report",
			params: map[string]any{"function_name": "orders-api"}, status: runbook.StatusSucceeded,
			calls: []string{"lambda.GetFunction", "lambda.GetFunctionConcurrency", "lambda.GetAccountSettings",
				"cloudwatch.GetMetricStatistics", "cloudwatch.GetMetricStatistics", "cloudwatch.GetMetricStatistics"},
			inputs: map[string]string{"cloudwatch.GetMetricStatistics": `{"Namespace": "AWS/Lambda", "MetricName": "Throttles",
				"Dimensions": [{"Name": "FunctionName", "Value": "orders-api"}], "Period": 3600, "Statistics": ["Sum"]}`},
			outputs: map[string]any{"state": "Active", "reserved_concurrency": 50, "unreserved_account_concurrency": 850,
				"throttles": 1250, "errors": 3, "invocations": 48000, "throttled_by": "reservation"},
			// GetFunction's environment variables and presigned code URL.
			secrets: []string{"s3cr3t-do-not-keep", "X-Amz-Signature"}},
		{name: "Lambda report: unknown function", runbook: "aws-lambda-report", recording: "lambda-report-unknown",
			params: map[string]any{"function_name": "gone"}, status: runbook.StatusFailed, errorHas: "ResourceNotFoundException",
			calls: []string{"lambda.GetFunction", "lambda.GetFunction", "lambda.GetFunction"}},
		{name: "raise reserved concurrency", runbook: "aws-lambda-raise-concurrency", recording: "lambda-raise",
			params: map[string]any{"function_name": "orders-api", "reserved_concurrency": 100}, approve: []bool{true}, status: runbook.StatusSucceeded,
			calls: []string{"lambda.GetFunctionConcurrency", "lambda.GetAccountSettings", "lambda.PutFunctionConcurrency",
				"lambda.GetFunctionConcurrency"},
			inputs:  map[string]string{"lambda.PutFunctionConcurrency": `{"FunctionName": "orders-api", "ReservedConcurrentExecutions": 100}`},
			outputs: map[string]any{"previous": 50, "reserved_concurrency": 100, "raised": true}},
		{name: "raise reserved concurrency past the account's pool", runbook: "aws-lambda-raise-concurrency", recording: "lambda-raise-too-much",
			params: map[string]any{"function_name": "orders-api", "reserved_concurrency": 950}, status: runbook.StatusFailed,
			errorHas: "fewer than 100 unreserved",
			calls:    []string{"lambda.GetFunctionConcurrency", "lambda.GetAccountSettings"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, pill := newPackHarness(t, tc.recording, fwexec.Options{})
			tc.run(t, h, pill)
		})
	}
}

var lifecycleRules = map[string]any{"Rules": []any{
	map[string]any{"ID": "expire-logs", "Status": "Enabled", "Filter": map[string]any{"Prefix": ""}, "Expiration": map[string]any{"Days": 365}},
	map[string]any{"ID": "abort-uploads", "Status": "Enabled", "Filter": map[string]any{"Prefix": ""},
		"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 7}},
}}

// TestAWSEBSExtendVolumeRuns extends a volume through the recorded EC2
// API (the modification is "modifying" at the first probe, "optimizing"
// at the second), then grows a real partition and a real ext4 filesystem
// on this machine: a 1 GiB sparse disk image with a GPT partition and a
// 1 GiB ext4 image, both made 2 GiB as the extended volume would be. A
// container cannot map the partition to a block device, so the filesystem
// is its own image (the filesystem parameter names it).
func TestAWSEBSExtendVolumeRuns(t *testing.T) {
	t.Parallel()
	testenv.Program(t, "cloud-guest-utils", "growpart")
	testenv.Program(t, "e2fsprogs", "resize2fs")
	sfdisk := testenv.Program(t, "fdisk", "sfdisk")
	mkfs := testenv.Program(t, "e2fsprogs", "mkfs.ext4")
	dir := t.TempDir()
	disk, fsImg := filepath.Join(dir, "disk.img"), filepath.Join(dir, "fs.img")
	for _, f := range []string{disk, fsImg} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(f, 1<<30); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(sfdisk, "-q", disk)
	cmd.Stdin = strings.NewReader("label: gpt\n,,L\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", fsImg).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	// EBS has grown the volume.
	for _, f := range []string{disk, fsImg} {
		if err := os.Truncate(f, 2<<30); err != nil {
			t.Fatal(err)
		}
	}
	h, pill := newPackHarness(t, "ebs-extend", fwexec.Options{AllowLocal: true})
	packRun{runbook: "aws-ebs-extend-volume", recording: "ebs-extend",
		params: map[string]any{"volume_id": "vol-0a1b2c3d4e5f60002", "size_gib": 2, "device": disk, "partition": "1",
			"filesystem": fsImg, "region": "eu-west-1"},
		targets: []string{"local"}, status: runbook.StatusSucceeded,
		calls:   []string{"ec2.DescribeVolumes", "ec2.ModifyVolume", "ec2.DescribeVolumesModifications", "ec2.DescribeVolumesModifications"},
		inputs:  map[string]string{"ec2.ModifyVolume": `{"VolumeId": "vol-0a1b2c3d4e5f60002", "Size": 2}`},
		outputs: map[string]any{"previous_size_gib": 1, "size_gib": 2, "filesystem_bytes": []int64{2 << 30}, "grown": true},
	}.run(t, h, pill)
	// The partition spans the disk now (GPT keeps 33 sectors at its end).
	out, err := exec.Command(sfdisk, "-d", disk).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ReplaceAll(string(out), " ", ""), "size=4192223,") {
		t.Errorf("partition 1 not grown to the disk:\n%s", out)
	}
}

// A failed modification stops before the host is touched.
func TestAWSEBSExtendVolumeFailedModification(t *testing.T) {
	t.Parallel()
	h, pill := newPackHarness(t, "ebs-extend-failed", fwexec.Options{AllowLocal: true})
	packRun{runbook: "aws-ebs-extend-volume", recording: "ebs-extend-failed",
		params:  map[string]any{"volume_id": "vol-0a1b2c3d4e5f60002", "size_gib": 2, "device": "/dev/nvme9n9"},
		targets: []string{"local"}, status: runbook.StatusFailed, errorHas: "an internal error occurred",
		calls: []string{"ec2.DescribeVolumes", "ec2.ModifyVolume", "ec2.DescribeVolumesModifications"},
	}.run(t, h, pill)
}
