package servercmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestAWSRecordedInventory reads the recorded account offline, as the
// help's example does from the repository's root.
func TestAWSRecordedInventory(t *testing.T) {
	t.Parallel()
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		root := NewRoot(Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
		root.SetArgs(args)
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	out, err := run("aws", "inventory", "--recorded", "../../testdata/aws/acme", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rs []store.Resource
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 33 {
		t.Fatalf("%d resources (%v)", len(rs), err)
	}
	table, err := run("aws", "inventory", "--recorded", "../../testdata/aws/acme", "--overlay", "../../testdata/aws/acme-remediated")
	if err != nil || !strings.Contains(table, "AWS::S3::Bucket") || !strings.Contains(table, "arn:aws:s3:::acme-public-assets") {
		t.Errorf("table: %v\n%s", err, table)
	}
	if _, err := run("aws", "inventory"); err == nil || !strings.Contains(err.Error(), "name the account") {
		t.Errorf("no account: %v", err)
	}
	if _, err := run("aws", "inventory", "--recorded", t.TempDir()); err == nil || !strings.Contains(err.Error(), "placebo.json") {
		t.Errorf("an empty directory: %v", err)
	}
}
