package content_test

// The AWS runbooks run for real here: the durable executor on SQLite, the
// real aws action and aws-sdk-go-v2 (serializing, signing, parsing), with
// an HTTP transport that answers with recorded AWS API responses. Nothing
// leaves the process.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

const tenant = "acme"

// awsCall is one API call the SDK made.
type awsCall struct {
	op     string // "ec2 DescribeInstances", "s3 PutPublicAccessBlock", …
	region string
	url    string
	form   url.Values // query-protocol parameters (EC2, IAM)
	body   string
	header nethttp.Header
}

// recorded answers each operation with its recorded responses in turn (the
// last one again once they run out) and records every call.
type recorded struct {
	mu        sync.Mutex
	responses map[string][]string
	calls     []awsCall
}

// opOf names the operation a request is: the query protocol's Action for
// EC2 and IAM, the method and resource for S3's REST API.
func opOf(req *nethttp.Request, form url.Values) string {
	host := req.URL.Host
	verb := map[string]string{"PUT": "Put", "GET": "Get", "DELETE": "Delete"}[req.Method]
	switch {
	case strings.HasPrefix(host, "ec2."):
		return "ec2 " + form.Get("Action")
	case strings.HasPrefix(host, "iam."):
		return "iam " + form.Get("Action")
	case strings.Contains(host, ".s3-control."):
		if strings.HasSuffix(req.URL.Path, "/configuration/publicAccessBlock") {
			return "s3control " + verb + "PublicAccessBlock"
		}
	case strings.Contains(host, ".s3.") && req.URL.Query().Has("publicAccessBlock"):
		return "s3 " + verb + "PublicAccessBlock"
	}
	return req.Method + " " + req.URL.String()
}

func (r *recorded) RoundTrip(req *nethttp.Request) (*nethttp.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	form, _ := url.ParseQuery(string(body))
	op := opOf(req, form)
	region := ""
	if parts := strings.Split(req.URL.Host, "."); len(parts) >= 3 {
		region = parts[len(parts)-3]
	}
	r.mu.Lock()
	r.calls = append(r.calls, awsCall{op: op, region: region, url: req.URL.String(), form: form, body: string(body), header: req.Header.Clone()})
	queue := r.responses[op]
	var resp string
	switch len(queue) {
	case 0:
	case 1:
		resp = queue[0]
	default:
		resp, r.responses[op] = queue[0], queue[1:]
	}
	r.mu.Unlock()
	status := 200
	if resp == "" {
		status = 400
		resp = `<Response><Errors><Error><Code>NotRecorded</Code><Message>no recorded response for ` + op + `</Message></Error></Errors><RequestID>none</RequestID></Response>`
	}
	h := nethttp.Header{"Content-Type": {"text/xml;charset=UTF-8"}, "X-Amzn-Requestid": {"req-" + strings.ReplaceAll(op, " ", "-")},
		"X-Amz-Request-Id": {"req-" + strings.ReplaceAll(op, " ", "-")}}
	return &nethttp.Response{StatusCode: status, Status: nethttp.StatusText(status), Header: h,
		Body: io.NopCloser(strings.NewReader(resp)), ContentLength: int64(len(resp)), Request: req}, nil
}

func (r *recorded) ops() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.calls))
	for i, c := range r.calls {
		out[i] = c.op
	}
	return out
}

func (r *recorded) call(t *testing.T, op string, n int) awsCall {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		if c.op == op {
			if n == 0 {
				return c
			}
			n--
		}
	}
	t.Fatalf("no call %s (calls: %v)", op, r.calls)
	return awsCall{}
}

// harness is a server's execution half: store, queue, executor, with the
// built-in runbooks and the real aws action on the recorded transport.
type harness struct {
	st  store.Store
	x   *execution.Executor
	aws *recorded
	// approver, when set, approves an execution waiting for approval
	// (once); approved counts the executions it approved.
	approver *execution.Approver
	approved int
}

func newHarness(t *testing.T, responses map[string][]string) *harness {
	t.Helper()
	return newHarnessWith(t, responses, exec.Options{})
}

// newHarnessWith is newHarness with the exec action's options (AllowLocal
// runs host runbooks on this machine).
func newHarnessWith(t *testing.T, responses map[string][]string, execOpts exec.Options) *harness {
	t.Helper()
	return newHarnessAccounts(t, responses, execOpts, nil)
}

// newHarnessAccounts is newHarnessWith where aws steps naming an account
// get their configuration from accountConfig.
func newHarnessAccounts(t *testing.T, responses map[string][]string, execOpts exec.Options,
	accountConfig func(context.Context, action.Input, string, string) (sdkaws.Config, error)) *harness {
	t.Helper()
	return newHarnessContent(t, responses, execOpts, accountConfig)
}

// newHarnessContent is newHarnessAccounts with content loaded from extra
// sources after the built-in library (a pack's folders).
func newHarnessContent(t *testing.T, responses map[string][]string, execOpts exec.Options,
	accountConfig func(context.Context, action.Input, string, string) (sdkaws.Config, error), extra ...content.Source) *harness {
	t.Helper()
	rec := &recorded{responses: responses}
	h := startHarness(t, append([]content.Source{content.Builtin()}, extra...), execOpts, aws.Options{LoadConfig: func(_ context.Context, _ action.Input, region string) (sdkaws.Config, error) {
		if region == "" {
			region = "eu-west-1"
		}
		return sdkaws.Config{Region: region, RetryMaxAttempts: 1, HTTPClient: &nethttp.Client{Transport: rec},
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "")}, nil
	}, LoadAccountConfig: accountConfig})
	h.aws = rec
	return h
}

// startHarness starts a store, queue and executor with the runbooks of
// sources and the real actions, the aws one configured by awsOpts.
func startHarness(t *testing.T, sources []content.Source, execOpts exec.Options, awsOpts aws.Options) *harness {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "ACME", CreatedAt: time.Now().UTC()})
	}); err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Options{Exec: execOpts, AWS: awsOpts})
	set, err := content.Load(kinds.NewRegistry(), sources...)
	if err != nil {
		t.Fatal(err)
	}
	lib, err := runbook.NewLibrary(set, reg.Get)
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(ctx, st, jobs.Options{Logger: slog.New(slog.DiscardHandler), PollInterval: 20 * time.Millisecond, HardStopTimeout: 2 * time.Second, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	x, err := execution.New(execution.Options{Store: st, Queue: q, Runbooks: lib, Actions: reg.Get, LeaseTTL: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Register(q); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return &harness{st: st, x: x}
}

// run starts a runbook on a new OpsItem and waits for the execution to end.
func (h *harness) run(t *testing.T, name string, params map[string]any, targets ...string) (store.Execution, store.OpsItem) {
	t.Helper()
	return h.runOn(t, true, name, params, targets...)
}

// runOn is run, on a new OpsItem when withItem, else on none (as a person
// running a runbook on hosts).
func (h *harness) runOn(t *testing.T, withItem bool, name string, params map[string]any, targets ...string) (store.Execution, store.OpsItem) {
	t.Helper()
	id, itemID := h.start(t, withItem, name, params, targets...)
	e := waitExecution(t, h, id)
	if e.Status == runbook.StatusWaitingApproval && h.approver != nil {
		if _, err := h.x.Approve(context.Background(), tenant, id, *h.approver, "approved by the test"); err != nil {
			t.Fatalf("approve %s: %v", id, err)
		}
		h.approved++
		e = waitExecution(t, h, id)
	}
	if !runbook.IsTerminal(e.Status) {
		t.Fatalf("execution %s is %s; AWS calls %v", id, e.Status, h.aws.ops())
	}
	if !withItem {
		return e, store.OpsItem{}
	}
	o, err := h.st.GetOpsItem(context.Background(), tenant, itemID)
	if err != nil {
		t.Fatal(err)
	}
	return e, o
}

// start starts a runbook, on a new OpsItem when withItem, and returns the
// execution's and the OpsItem's IDs.
func (h *harness) start(t *testing.T, withItem bool, name string, params map[string]any, targets ...string) (string, string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	o := store.OpsItem{ID: store.NewID("oi", now), TenantID: tenant, Title: "finding for " + name, Category: "security", Severity: "high",
		Status: "open", Source: "guardduty", CreatedAt: now, UpdatedAt: now}
	var id string
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		req := runbook.StartRequest{TenantID: tenant, Runbook: name, Parameters: params, Targets: targets,
			Mode: runbook.ModeAuto, StartedBy: "rule:test", Rule: "test"}
		if withItem {
			if err := tx.CreateOpsItem(ctx, o); err != nil {
				return err
			}
			req.OpsItemID = o.ID
		} else {
			req.StartedBy, req.Rule = "token:tok_test", ""
		}
		var err error
		id, err = h.x.Start(ctx, tx, req)
		return err
	})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return id, o.ID
}

// steps lists the steps an execution ran (not skipped), in order, with
// their errors.
func (h *harness) steps(t *testing.T, e store.Execution) []string {
	t.Helper()
	rows, err := h.st.ListExecutionSteps(context.Background(), tenant, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		if r.TargetID == "" && r.Status != runbook.StepSkipped {
			s := r.Name
			if r.Error != "" {
				s += " (" + r.Error + ")"
			}
			out = append(out, s)
		}
	}
	return out
}

func decode(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func expectOps(t *testing.T, h *harness, e store.Execution, want ...string) {
	t.Helper()
	if got := h.aws.ops(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("AWS calls:\n got %v\nwant %v\nsteps: %v", got, want, h.steps(t, e))
	}
}

func expectForm(t *testing.T, c awsCall, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := c.form.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", c.op, k, got, v)
		}
	}
}

func ec2Response(op, inner string) string {
	return fmt.Sprintf(`<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-%s</requestId>%s</%sResponse>`, op, op, inner, op)
}

func TestIsolateEC2InstanceRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string][]string{
		"ec2 DescribeInstances": {ec2Response("DescribeInstances", `<reservationSet><item><reservationId>r-1</reservationId><ownerId>111122223333</ownerId>
  <instancesSet><item><instanceId>i-0123456789abcdef0</instanceId><vpcId>vpc-0aa</vpcId><instanceState><code>16</code><name>running</name></instanceState>
    <groupSet><item><groupId>sg-0web</groupId><groupName>web</groupName></item><item><groupId>sg-0ssh</groupId><groupName>ssh</groupName></item></groupSet>
    <blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-0root</volumeId><status>attached</status></ebs></item>
      <item><deviceName>/dev/xvdb</deviceName><ebs><volumeId>vol-0data</volumeId><status>attached</status></ebs></item></blockDeviceMapping>
  </item></instancesSet></item></reservationSet>`),
			// The re-read after ModifyInstanceAttribute: only the isolation group.
			ec2Response("DescribeInstances", `<reservationSet><item><reservationId>r-1</reservationId><ownerId>111122223333</ownerId>
  <instancesSet><item><instanceId>i-0123456789abcdef0</instanceId><vpcId>vpc-0aa</vpcId><instanceState><code>16</code><name>running</name></instanceState>
    <groupSet><item><groupId>sg-0iso</groupId><groupName>flywheel-isolation</groupName></item></groupSet>
  </item></instancesSet></item></reservationSet>`)},
		// Not there yet; then the group just created, with the egress
		// rule every new group gets.
		"ec2 DescribeSecurityGroups": {
			ec2Response("DescribeSecurityGroups", `<securityGroupInfo/>`),
			ec2Response("DescribeSecurityGroups", `<securityGroupInfo><item><ownerId>111122223333</ownerId><groupId>sg-0iso</groupId><groupName>flywheel-isolation</groupName><vpcId>vpc-0aa</vpcId>
  <ipPermissions/><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissionsEgress></item></securityGroupInfo>`),
		},
		"ec2 CreateSecurityGroup":       {ec2Response("CreateSecurityGroup", `<return>true</return><groupId>sg-0iso</groupId>`)},
		"ec2 RevokeSecurityGroupEgress": {ec2Response("RevokeSecurityGroupEgress", `<return>true</return>`)},
		"ec2 ModifyInstanceAttribute":   {ec2Response("ModifyInstanceAttribute", `<return>true</return>`)},
		"ec2 CreateSnapshots": {ec2Response("CreateSnapshots", `<snapshotSet>
  <item><snapshotId>snap-0aaa</snapshotId><volumeId>vol-0root</volumeId><state>pending</state><volumeSize>8</volumeSize></item>
  <item><snapshotId>snap-0bbb</snapshotId><volumeId>vol-0data</volumeId><state>pending</state><volumeSize>100</volumeSize></item></snapshotSet>`)},
		"ec2 CreateTags": {ec2Response("CreateTags", `<return>true</return>`)},
	})
	e, o := h.run(t, "isolate-ec2-instance", map[string]any{"instance_id": "i-0123456789abcdef0", "account": "111122223333",
		"region": "us-east-1", "reason": "Backdoor:EC2/C&CActivity.B!DNS"})
	if e.Status != runbook.StatusSucceeded {
		t.Fatalf("execution %s: %s\nsteps: %v", e.Status, e.Error, h.steps(t, e))
	}
	expectOps(t, h, e, "ec2 DescribeInstances", "ec2 DescribeSecurityGroups", "ec2 CreateSecurityGroup", "ec2 DescribeSecurityGroups",
		"ec2 RevokeSecurityGroupEgress", "ec2 ModifyInstanceAttribute", "ec2 DescribeInstances", "ec2 CreateSnapshots", "ec2 CreateTags")
	for _, c := range h.aws.calls {
		if c.region != "us-east-1" {
			t.Errorf("%s went to region %q", c.op, c.region)
		}
	}
	expectForm(t, h.aws.call(t, "ec2 DescribeSecurityGroups", 0), map[string]string{"Filter.1.Name": "vpc-id", "Filter.1.Value.1": "vpc-0aa",
		"Filter.2.Name": "group-name", "Filter.2.Value.1": "flywheel-isolation"})
	expectForm(t, h.aws.call(t, "ec2 CreateSecurityGroup", 0), map[string]string{"GroupName": "flywheel-isolation", "VpcId": "vpc-0aa",
		"TagSpecification.1.ResourceType": "security-group"})
	expectForm(t, h.aws.call(t, "ec2 RevokeSecurityGroupEgress", 0), map[string]string{"GroupId": "sg-0iso",
		"IpPermissions.1.IpProtocol": "-1", "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0"})
	modify := h.aws.call(t, "ec2 ModifyInstanceAttribute", 0)
	expectForm(t, modify, map[string]string{"InstanceId": "i-0123456789abcdef0", "GroupId.1": "sg-0iso", "GroupId.2": ""})
	expectForm(t, h.aws.call(t, "ec2 CreateSnapshots", 0), map[string]string{"InstanceSpecification.InstanceId": "i-0123456789abcdef0",
		"CopyTagsFromSource": "volume", "TagSpecification.1.Tag.1.Key": "flywheel:forensics", "TagSpecification.1.Tag.2.Value": e.ID,
		"TagSpecification.1.Tag.3.Value": "Backdoor:EC2/C&CActivity.B!DNS"})
	expectForm(t, h.aws.call(t, "ec2 CreateTags", 0), map[string]string{"ResourceId.1": "i-0123456789abcdef0",
		"Tag.1.Key": "flywheel:isolated-by", "Tag.1.Value": e.ID, "Tag.3.Key": "flywheel:original-security-groups", "Tag.3.Value": "sg-0web sg-0ssh"})
	if !strings.HasPrefix(modify.header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") {
		t.Errorf("ModifyInstanceAttribute not signed by the SDK: %q", modify.header.Get("Authorization"))
	}

	out := decode(t, e.Outputs)
	if jsonOf(out) != `{"isolated":true,"isolation_group":"sg-0iso","previous_groups":["sg-0web","sg-0ssh"],"snapshots":["snap-0aaa","snap-0bbb"]}` {
		t.Errorf("outputs = %s", jsonOf(out))
	}
	iso := decode(t, o.OperationalData)["isolation"].(map[string]any)
	if jsonOf(iso["snapshots"]) != `[{"snapshot_id":"snap-0aaa","volume_id":"vol-0root"},{"snapshot_id":"snap-0bbb","volume_id":"vol-0data"}]` ||
		iso["isolation_group_created"] != true || iso["tagged"] != true || iso["account"] != "111122223333" {
		t.Errorf("isolation on the OpsItem = %s", jsonOf(iso))
	}
}

// An instance that is not there: nothing is changed, and the run fails
// saying so.
func TestIsolateEC2InstanceUnknown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string][]string{"ec2 DescribeInstances": {ec2Response("DescribeInstances", `<reservationSet/>`)}})
	e, _ := h.run(t, "isolate-ec2-instance", map[string]any{"instance_id": "i-0123456789abcdef0"})
	if e.Status != runbook.StatusFailed || !strings.Contains(e.Error, "i-0123456789abcdef0 was not found") {
		t.Errorf("execution %s: %q", e.Status, e.Error)
	}
	expectOps(t, h, e, "ec2 DescribeInstances")
}

func TestDisableAccessKeyRuns(t *testing.T) {
	t.Parallel()
	iam := func(op, result string) string {
		return fmt.Sprintf(`<%sResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>req-%s</RequestId></ResponseMetadata></%sResponse>`,
			op, op, result, op, op, op)
	}
	keys := func(status string) string {
		return iam("ListAccessKeys", `<UserName>ci-deploy</UserName><AccessKeyMetadata>
  <member><UserName>ci-deploy</UserName><AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId><Status>`+status+`</Status><CreateDate>2025-01-02T03:04:05Z</CreateDate></member>
  <member><UserName>ci-deploy</UserName><AccessKeyId>AKIAI44QH8DHBEXAMPLE</AccessKeyId><Status>Active</Status><CreateDate>2025-06-01T00:00:00Z</CreateDate></member>
</AccessKeyMetadata><IsTruncated>false</IsTruncated>`)
	}
	h := newHarness(t, map[string][]string{
		"iam GetAccessKeyLastUsed": {iam("GetAccessKeyLastUsed", `<UserName>ci-deploy</UserName><AccessKeyLastUsed><Region>us-east-1</Region><LastUsedDate>2026-03-10T11:58:00Z</LastUsedDate><ServiceName>s3</ServiceName></AccessKeyLastUsed>`)},
		"iam ListAccessKeys":       {keys("Active"), keys("Inactive")},
		"iam UpdateAccessKey":      {`<UpdateAccessKeyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>req-u</RequestId></ResponseMetadata></UpdateAccessKeyResponse>`},
	})
	e, o := h.run(t, "disable-access-key", map[string]any{"access_key_id": "AKIAIOSFODNN7EXAMPLE", "user_name": "ci-deploy",
		"reason": "UnauthorizedAccess:IAMUser/TorIPCaller"})
	if e.Status != runbook.StatusSucceeded {
		t.Fatalf("execution %s: %s\nsteps: %v", e.Status, e.Error, h.steps(t, e))
	}
	expectOps(t, h, e, "iam GetAccessKeyLastUsed", "iam ListAccessKeys", "iam UpdateAccessKey", "iam ListAccessKeys")
	expectForm(t, h.aws.call(t, "iam UpdateAccessKey", 0), map[string]string{"UserName": "ci-deploy", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Inactive"})
	if got := jsonOf(decode(t, e.Outputs)); got != `{"disabled":true,"other_active_keys":["AKIAI44QH8DHBEXAMPLE"],"user_name":"ci-deploy"}` {
		t.Errorf("outputs = %s", got)
	}
	key := decode(t, o.OperationalData)["access_key"].(map[string]any)
	if jsonOf(key["last_used"]) != `{"LastUsedDate":"2026-03-10T11:58:00Z","Region":"us-east-1","ServiceName":"s3"}` || key["disabled"] != true {
		t.Errorf("access_key on the OpsItem = %s", jsonOf(key))
	}
	// notify-escalate ran nested and marked the OpsItem for a person.
	if o.Status != "in-progress" {
		t.Errorf("OpsItem status %s, want in-progress", o.Status)
	}
}

func TestBlockS3PublicAccessRuns(t *testing.T) {
	t.Parallel()
	on := `<?xml version="1.0" encoding="UTF-8"?><PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>`
	t.Run("bucket", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, map[string][]string{"s3 PutPublicAccessBlock": {" "}, "s3 GetPublicAccessBlock": {on}})
		e, o := h.run(t, "block-s3-public-access", map[string]any{"bucket": "leaky-bucket", "account": "111122223333", "region": "ap-southeast-2"})
		if e.Status != runbook.StatusSucceeded {
			t.Fatalf("execution %s: %s\nsteps: %v", e.Status, e.Error, h.steps(t, e))
		}
		expectOps(t, h, e, "s3 PutPublicAccessBlock", "s3 GetPublicAccessBlock")
		put := h.aws.call(t, "s3 PutPublicAccessBlock", 0)
		if host := "leaky-bucket.s3.ap-southeast-2.amazonaws.com"; !strings.Contains(put.header.Get("Host")+" "+put.url, host) {
			t.Errorf("PutPublicAccessBlock went to %s, want %s", put.url, host)
		}
		for _, flag := range []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"} {
			if !strings.Contains(put.body, "<"+flag+">true</"+flag+">") {
				t.Errorf("PutPublicAccessBlock body lacks %s: %s", flag, put.body)
			}
		}
		if data := decode(t, o.OperationalData)["s3_public_access_block"].(map[string]any); data["scope"] != "bucket" || data["bucket"] != "leaky-bucket" {
			t.Errorf("on the OpsItem: %s", jsonOf(data))
		}
	})
	t.Run("account", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, map[string][]string{"s3control PutPublicAccessBlock": {" "}, "s3control GetPublicAccessBlock": {on}})
		e, _ := h.run(t, "block-s3-public-access", map[string]any{"account": "111122223333"})
		if e.Status != runbook.StatusSucceeded {
			t.Fatalf("execution %s: %s\nsteps: %v", e.Status, e.Error, h.steps(t, e))
		}
		expectOps(t, h, e, "s3control PutPublicAccessBlock", "s3control GetPublicAccessBlock")
		if got := h.aws.call(t, "s3control PutPublicAccessBlock", 0).header.Get("X-Amz-Account-Id"); got != "111122223333" {
			t.Errorf("account header %q", got)
		}
	})
	t.Run("not fully on", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, map[string][]string{"s3 PutPublicAccessBlock": {" "},
			"s3 GetPublicAccessBlock": {strings.Replace(on, "<RestrictPublicBuckets>true", "<RestrictPublicBuckets>false", 1)}})
		e, _ := h.run(t, "block-s3-public-access", map[string]any{"bucket": "leaky-bucket"})
		// The re-read shows a setting still off: ineffective, not
		// succeeded (nor a failure the rule's breaker would count).
		if e.Status != runbook.StatusIneffective || !strings.Contains(e.Error, "not verified: Block Public Access is not fully on") {
			t.Errorf("execution %s: %q", e.Status, e.Error)
		}
	})
}

func TestRevokeWorldOpenIngressRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string][]string{
		"ec2 DescribeInstances": {ec2Response("DescribeInstances", `<reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>
  <instanceId>i-0123456789abcdef0</instanceId><vpcId>vpc-0aa</vpcId>
  <groupSet><item><groupId>sg-0web</groupId></item><item><groupId>sg-0ssh</groupId></item></groupSet></item></instancesSet></item></reservationSet>`)},
		"ec2 DescribeSecurityGroups": {ec2Response("DescribeSecurityGroups", `<securityGroupInfo>
  <item><groupId>sg-0web</groupId><groupName>web</groupName><vpcId>vpc-0aa</vpcId><ipPermissions>
    <item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges><item><cidrIpv6>::/0</cidrIpv6></item></ipv6Ranges></item>
    <item><ipProtocol>tcp</ipProtocol><fromPort>8080</fromPort><toPort>8080</toPort><ipRanges><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item>
  </ipPermissions></item>
  <item><groupId>sg-0ssh</groupId><groupName>ssh</groupName><vpcId>vpc-0aa</vpcId><ipPermissions>
    <item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><ipRanges><item><cidrIp>203.0.113.0/24</cidrIp></item><item><cidrIp>0.0.0.0/0</cidrIp><description>temporary</description></item></ipRanges></item>
  </ipPermissions></item></securityGroupInfo>`),
			// The re-read after the revocations: only the narrower rules left.
			ec2Response("DescribeSecurityGroups", `<securityGroupInfo>
  <item><groupId>sg-0web</groupId><groupName>web</groupName><vpcId>vpc-0aa</vpcId><ipPermissions>
    <item><ipProtocol>tcp</ipProtocol><fromPort>8080</fromPort><toPort>8080</toPort><ipRanges><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item>
  </ipPermissions></item>
  <item><groupId>sg-0ssh</groupId><groupName>ssh</groupName><vpcId>vpc-0aa</vpcId><ipPermissions>
    <item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><ipRanges><item><cidrIp>203.0.113.0/24</cidrIp></item></ipRanges></item>
  </ipPermissions></item></securityGroupInfo>`)},
		"ec2 RevokeSecurityGroupIngress": {ec2Response("RevokeSecurityGroupIngress", `<return>true</return>`)},
	})
	e, o := h.run(t, "revoke-world-open-ingress", map[string]any{"resource_type": "ec2-instance", "resource_id": "i-0123456789abcdef0",
		"region": "eu-central-1"})
	if e.Status != runbook.StatusSucceeded {
		t.Fatalf("execution %s: %s\nsteps: %v", e.Status, e.Error, h.steps(t, e))
	}
	expectOps(t, h, e, "ec2 DescribeInstances", "ec2 DescribeSecurityGroups", "ec2 RevokeSecurityGroupIngress", "ec2 RevokeSecurityGroupIngress",
		"ec2 DescribeSecurityGroups")
	expectForm(t, h.aws.call(t, "ec2 DescribeSecurityGroups", 0), map[string]string{"GroupId.1": "sg-0web", "GroupId.2": "sg-0ssh"})
	web := h.aws.call(t, "ec2 RevokeSecurityGroupIngress", 0)
	expectForm(t, web, map[string]string{"GroupId": "sg-0web", "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "443",
		"IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0", "IpPermissions.1.Ipv6Ranges.1.CidrIpv6": "::/0", "IpPermissions.2.IpProtocol": ""})
	ssh := h.aws.call(t, "ec2 RevokeSecurityGroupIngress", 1)
	// Only the world-open range: 203.0.113.0/24 keeps its access.
	expectForm(t, ssh, map[string]string{"GroupId": "sg-0ssh", "IpPermissions.1.FromPort": "22",
		"IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0", "IpPermissions.1.IpRanges.2.CidrIp": ""})
	if strings.Contains(ssh.body, "203.0.113.0") {
		t.Errorf("revoked more than the world-open range: %s", ssh.body)
	}
	revoked := decode(t, o.OperationalData)["world_open_ingress_revoked"].([]any)
	if len(revoked) != 2 || revoked[1].(map[string]any)["group_id"] != "sg-0ssh" {
		t.Errorf("revoked on the OpsItem: %s", jsonOf(revoked))
	}
	if out := decode(t, e.Outputs); out["found"] != float64(2) || out["still_open"] != float64(0) {
		t.Errorf("outputs = %s", jsonOf(out))
	}
}

// TestBackupEBSSnapshotRuns: on its host (here, this machine) the freeze
// script runs, then one CreateSnapshots call through the real SDK for
// every volume of the instance, then the thaw script; without a recorded
// answer the snapshot fails and the host is still thawed.
func TestBackupEBSSnapshotRuns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		answers  map[string][]string
		want     string
		snapshot bool
	}{
		{"snapshotted", map[string][]string{"ec2 CreateSnapshots": {ec2Response("CreateSnapshots", `<snapshotSet>
  <item><snapshotId>snap-0aaa</snapshotId><volumeId>vol-0root</volumeId><state>pending</state><volumeSize>8</volumeSize></item>
  <item><snapshotId>snap-0bbb</snapshotId><volumeId>vol-0data</volumeId><state>pending</state><volumeSize>100</volumeSize></item></snapshotSet>`)}},
			runbook.StatusSucceeded, true},
		{"refused", map[string][]string{}, runbook.StatusFailed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, tc.answers, exec.Options{AllowLocal: true})
			log := filepath.Join(t.TempDir(), "hooks.log")
			e, _ := h.runOn(t, false, "backup-ebs-snapshot", map[string]any{"instance_id": "i-0123456789abcdef0", "region": "us-east-1",
				"plan": "prod", "freeze": "echo frozen >> " + log, "thaw": "echo thawed >> " + log}, "local")
			if e.Status != tc.want {
				t.Fatalf("execution %s (%s), want %s\nsteps: %v", e.Status, e.Error, tc.want, h.steps(t, e))
			}
			expectOps(t, h, e, "ec2 CreateSnapshots")
			expectForm(t, h.aws.call(t, "ec2 CreateSnapshots", 0), map[string]string{"InstanceSpecification.InstanceId": "i-0123456789abcdef0",
				"CopyTagsFromSource": "volume", "TagSpecification.1.ResourceType": "snapshot", "TagSpecification.1.Tag.1.Key": "flywheel:backup-plan",
				"TagSpecification.1.Tag.1.Value": "prod", "TagSpecification.1.Tag.2.Value": e.ID})
			if b, _ := os.ReadFile(log); string(b) != "frozen\nthawed\n" {
				t.Errorf("hooks on the host: %q, want frozen then thawed", b)
			}
			if tc.snapshot {
				if out := decode(t, e.Outputs); jsonOf(out["snapshots"]) != `["snap-0aaa","snap-0bbb"]` {
					t.Errorf("outputs = %s", jsonOf(out))
				}
			}
		})
	}
}
