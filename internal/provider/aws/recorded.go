package aws

import (
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/provider/aws/placebo"
)

// Recorded returns an Inventory that reads a recorded account (dir, with
// overlays on it) instead of AWS, through the real SDK, with its clock at
// the recording's time; and the pill, whose Calls show what was asked.
func Recorded(dir string, overlays ...string) (*Inventory, *placebo.Pill, error) {
	at, err := placebo.RecordedAt(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("recorded account: %w", err)
	}
	pill := placebo.Replay(dir, overlays...)
	return NewInventory(ReplayFactory(pill), InventoryOptions{Now: func() time.Time { return at }}), pill, nil
}

// ReplayFactory is a Factory whose clients answer from pill, with static
// credentials and no waiting between retries.
func ReplayFactory(pill *placebo.Pill) *Factory {
	return NewFactory(FactoryOptions{LoadBase: placebo.LoadBase, APIOptions: pill.APIOptions(), MaxBackoff: time.Millisecond})
}
