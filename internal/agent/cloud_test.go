package agent_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/agent"
)

// TestCloudSection: the EC2 instance ID comes from the DMI board asset tag;
// anything else there is no cloud identity.
func TestCloudSection(t *testing.T) {
	dir := t.TempDir()
	if c := agent.CloudSection(dir); c != nil {
		t.Errorf("no DMI: %v", c)
	}
	os.WriteFile(filepath.Join(dir, "board_asset_tag"), []byte("i-0abc1234def567890\n"), 0o644)
	if c := agent.CloudSection(dir); c["instance_id"] != "i-0abc1234def567890" || c["provider"] != "aws" {
		t.Errorf("EC2: %v", c)
	}
	os.WriteFile(filepath.Join(dir, "board_asset_tag"), []byte("Default string\n"), 0o644)
	if c := agent.CloudSection(dir); c != nil {
		t.Errorf("not an instance ID: %v", c)
	}
}
