package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/doctor"
	"github.com/flywheel-ops/flywheel/internal/intake/generic"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestDoctorReport: a server's setup check has the notification check
// (the library's rules notifying "security", no channel configured) and
// the AWS check, which names the AWS accounts findings came from.
func TestDoctorReport(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	dir := t.TempDir()
	a := startApp(t, config.Config{DataDir: dir}, &bytes.Buffer{})
	b, _ := os.ReadFile(filepath.Join(dir, AdminTokenFile))
	c := client.New("http://"+a.Addr(), strings.TrimSpace(string(b)))
	ctx := context.Background()
	var res map[string]any
	if err := c.Do(ctx, "POST", "/api/v1/intake/generic", generic.Alert{Source: "guardduty-export", Title: "Public bucket", Severity: "high",
		Labels: map[string]string{"account": "444455556666"}}, &res); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var l api.List[store.Event]
		if err := c.Do(ctx, "GET", "/api/v1/events", nil, &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event was not processed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var rep doctor.Report
	if err := c.Do(ctx, "GET", "/api/v1/doctor", nil, &rep); err != nil {
		t.Fatal(err)
	}
	n, ok := rep.Find("notifications")
	if !ok || n.Status != doctor.Todo || !strings.Contains(strings.Join(n.Details, "\n"), `"security"`) {
		t.Errorf("notifications check: %+v", n)
	}
	aws, ok := rep.Find("aws")
	if !ok || aws.Status != doctor.Todo || !strings.Contains(aws.Summary, "No AWS credentials") || !strings.Contains(aws.Summary, "block-s3-public-access") ||
		!strings.Contains(strings.Join(aws.Details, "\n"), "account 444455556666 (findings in tenant default): no credentials") {
		t.Errorf("aws check: %+v", aws)
	}
}
