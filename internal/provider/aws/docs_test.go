package aws_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/mdtest"
	provider "github.com/flywheel-ops/flywheel/internal/provider/aws"
	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
)

// TestDocExamples checks docs/aws.md: each recorded-response example
// (```json <file>) is replayed through the SDK, and each resource example
// (```json resource <type>) is exactly what the inventory of the recorded
// account stores for a resource of that type.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	calls := map[string]func(ctx context.Context, cfg sdkaws.Config) error{
		"s3.GetBucketVersioning_1.json": func(ctx context.Context, cfg sdkaws.Config) error {
			out, err := s3.NewFromConfig(cfg).GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: sdkaws.String("b")})
			if err == nil && (out.Status != "Enabled" || out.MFADelete != "Disabled") {
				t.Errorf("GetBucketVersioning example read as %+v", out)
			}
			return err
		},
		// The throttled call is retried; the retry finds no second answer.
		"ec2.DescribeVpcs_1.json": func(ctx context.Context, cfg sdkaws.Config) error {
			_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
			if err == nil || !strings.Contains(err.Error(), "ec2.DescribeVpcs_2.json") {
				t.Errorf("the throttled example was not retried: %v", err)
			}
			return nil
		},
	}
	res, _ := collect(t, acmeDir)
	files, resources, windows := 0, 0, 0
	for _, b := range mdtest.Blocks(t, "../../../docs/aws.md") {
		f := strings.Fields(b.Lang)
		switch {
		case len(f) == 2 && f[0] == "json":
			files++
			call, ok := calls[f[1]]
			if !ok {
				t.Errorf("docs/aws.md:%d: no replay for %s in this test", b.Line, f[1])
				continue
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, f[1]), []byte(b.Text()), 0o644); err != nil {
				t.Fatal(err)
			}
			pill := placebo.Replay(dir)
			cfg, err := provider.ReplayFactory(pill).Config(t.Context(), acme, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := call(t.Context(), cfg); err != nil {
				t.Errorf("docs/aws.md:%d: %v", b.Line, err)
			}
		case b.Lang == "yaml":
			windows++
			if _, err := content.Load(kinds.NewRegistry(), content.Builtin(),
				content.Source{Name: "docs", FS: fstest.MapFS{"windows/example.yaml": {Data: []byte(b.Text())}}}); err != nil {
				t.Errorf("docs/aws.md:%d: %v", b.Line, err)
			}
		case len(f) == 3 && f[0] == "json" && f[1] == "resource":
			resources++
			var want map[string]any
			if err := json.Unmarshal([]byte(b.Text()), &want); err != nil {
				t.Errorf("docs/aws.md:%d: %v", b.Line, err)
				continue
			}
			found := false
			for _, r := range res.Resources {
				var got map[string]any
				if r.Type == f[2] && json.Unmarshal(r.Config, &got) == nil && reflect.DeepEqual(got, want) {
					found = true
				}
			}
			if !found {
				t.Errorf("docs/aws.md:%d: no %s of the recorded account has this config", b.Line, f[2])
			}
		}
	}
	if files < 2 || resources < 1 || windows < 1 {
		t.Errorf("docs/aws.md has %d response and %d resource examples", files, resources)
	}
}
