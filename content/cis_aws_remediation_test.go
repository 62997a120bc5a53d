package content_test

// Auto-remediation of the CIS AWS pack on the recorded account acme: the
// compliance service evaluates the inventory, starts the remediation
// runbooks through the durable executor, whose aws steps reach the account
// through the AWS provider (its role assumed with the external ID) and a
// recorded transport; the account read again afterwards is compliant.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// tailored is acme's tailoring of the pack for this test: the two
// security-group rules are off, so the remediations that run are one per
// AWS operation and their recorded answers come in a known order.
const tailored = `apiVersion: flywheel/v1
kind: ConformancePack
metadata: {name: acme-cis, tenant: acme, description: CIS without the security-group rules}
spec:
  base: cis-aws-foundations-v3.0
  disabled_rules: [restricted-ssh-rdp-ipv4, restricted-ssh-rdp-ipv6]
`

func syncRecorded(t *testing.T, st store.Store, a store.AWSAccount, dirs ...string) provider.Diff {
	t.Helper()
	inv, _, err := provider.Recorded(dirs[0], dirs[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	d, err := inv.Sync(context.Background(), st, a)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCISAWSAutoRemediation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	acct := store.AWSAccount{TenantID: tenant, ID: "123456789012", Name: "acme-prod", Regions: []string{"eu-west-1"},
		RoleARN: "arn:aws:iam::123456789012:role/FlywheelRemediate", ExternalID: "msp-7f3a", CreatedAt: time.Now(), UpdatedAt: time.Now()}

	// The aws steps' account configurations: the provider's factory, its
	// calls answered from the recorded remediation responses.
	calls := placebo.Replay(recordings + "/acme-remediation")
	factory := provider.ReplayFactory(calls)
	var h *harness
	h = newHarnessAccounts(t, nil, exec.Options{}, func(ctx context.Context, in action.Input, account, region string) (sdkaws.Config, error) {
		a, err := h.st.GetAWSAccount(ctx, in.TenantID, account)
		if err != nil {
			return sdkaws.Config{}, err
		}
		return factory.Config(ctx, a, region)
	})
	if err := h.st.InTx(ctx, func(tx store.Tx) error { return tx.PutAWSAccount(ctx, acct) }); err != nil {
		t.Fatal(err)
	}
	syncRecorded(t, h.st, acct, recordings+"/acme")

	set, err := content.Load(kinds.NewRegistry(), content.Builtin(), content.Source{Name: "test", FS: fstest.MapFS{"packs/acme.yaml": {Data: []byte(tailored)}}})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := compliance.NewLibrary(set)
	if err != nil {
		t.Fatal(err)
	}
	svc := compliance.NewService(compliance.Options{Store: h.st, Library: func() *compliance.Library { return lib }, Starter: h.x})
	run, err := svc.Evaluate(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	started := map[string]store.Execution{}
	for _, id := range run.Remediations {
		e := waitExecution(t, h, id)
		started[e.Runbook] = e
	}
	// Three auto remediations ran; IMDSv2 waits for a person's approval.
	for _, rb := range []string{"block-s3-public-access", "enable-ebs-encryption-by-default", "enable-kms-key-rotation"} {
		if e, ok := started[rb]; !ok || e.Status != runbook.StatusSucceeded {
			t.Errorf("%s: %+v, want a succeeded execution (AWS calls %v)", rb, e, calls.Calls())
		}
	}
	if e := started["require-imdsv2"]; e.Status != runbook.StatusWaitingApproval {
		t.Errorf("require-imdsv2 is %q, want it waiting for approval", e.Status)
	}
	if len(started) != 4 {
		t.Errorf("remediations started: %v", slices.Sorted(func(yield func(string) bool) {
			for k := range started {
				if !yield(k) {
					return
				}
			}
		}))
	}

	// The calls AWS received: the role assumed once with the external ID,
	// then each change signed with the role's credentials.
	assume := calls.CallsTo("sts.AssumeRole")
	if len(assume) != 1 || !strings.Contains(string(assume[0].Params), `"ExternalId":"msp-7f3a"`) ||
		!strings.Contains(string(assume[0].Params), `"RoleArn":"arn:aws:iam::123456789012:role/FlywheelRemediate"`) {
		t.Errorf("AssumeRole calls %v", assume)
	}
	for op, want := range map[string]string{
		"s3.PutPublicAccessBlock": `{"Bucket":"acme-public-assets",` +
			`"PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`,
		"ec2.EnableEbsEncryptionByDefault": `{`,
		"kms.EnableKeyRotation":            `{"KeyId":"arn:aws:kms:eu-west-1:123456789012:key/2a3b4c5d-0000-4000-8000-0000000000b2"`,
	} {
		cs := calls.CallsTo(op)
		if len(cs) != 1 {
			t.Errorf("%s called %d times, want once", op, len(cs))
			continue
		}
		if !strings.HasPrefix(string(cs[0].Params), want) || cs[0].Region != "eu-west-1" || cs[0].AccessKeyID != "ASIAACMEREMEDIATE001" {
			t.Errorf("%s: %s in %s signed by %s; want %s… in eu-west-1 by the assumed role", op, cs[0].Params, cs[0].Region, cs[0].AccessKeyID, want)
		}
	}
	for _, c := range calls.Calls() {
		if strings.HasPrefix(c.Operation, "Modify") || strings.HasPrefix(c.Operation, "Revoke") || strings.HasPrefix(c.Operation, "Delete") {
			t.Errorf("unexpected change %s.%s %s", c.Service, c.Operation, c.Params)
		}
	}

	// The account read again (the changes recorded) and evaluated: the
	// remediated resources are compliant.
	d := syncRecorded(t, h.st, acct, recordings+"/acme", recordings+"/acme-remediated")
	for _, id := range []string{"arn:aws:s3:::acme-public-assets", "arn:aws:::123456789012", "arn:aws:kms:eu-west-1:123456789012:key/2a3b4c5d-0000-4000-8000-0000000000b2"} {
		if !slices.Contains(d.Changed, id) {
			t.Errorf("re-inventory did not see %s change: %v", id, d.Changed)
		}
	}
	again, err := svc.Evaluate(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	verdict := map[string]compliance.Status{}
	for _, p := range again.Report.Packs {
		for _, c := range p.Controls {
			for _, r := range c.Resources {
				verdict[r.Rule+" "+r.ID] = r.Status
			}
		}
	}
	for _, k := range []string{
		"s3-bucket-level-public-access-prohibited arn:aws:s3:::acme-public-assets",
		"ec2-ebs-encryption-by-default arn:aws:::123456789012",
		"cmk-backing-key-rotation-enabled arn:aws:kms:eu-west-1:123456789012:key/2a3b4c5d-0000-4000-8000-0000000000b2",
	} {
		if verdict[k] != compliance.Compliant {
			t.Errorf("%s after remediation: %q, want COMPLIANT", k, verdict[k])
		}
	}
	if verdict["ec2-imdsv2-check arn:aws:ec2:eu-west-1:123456789012:instance/i-0a1b2c3d4e5f60001"] != compliance.NonCompliant {
		t.Errorf("the instance whose remediation waits for approval should still be NON_COMPLIANT")
	}
}

// waitExecution waits for an execution to end or to wait for approval.
func waitExecution(t *testing.T, h *harness, id string) store.Execution {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		e, err := h.st.GetExecution(context.Background(), tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if runbook.IsTerminal(e.Status) || e.Status == runbook.StatusWaitingApproval {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s (%s) still %s", id, e.Runbook, e.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
