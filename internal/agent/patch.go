package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/patch/apt"
)

// patch runs a patch operation with the host's package backend (apt, with
// the root and options of the agent's configuration). The operation's log
// is the command's output; its last line is the report. The exit code is
// 0 when everything asked was done, 1 when a package or a hook failed.
func (a *Agent) patch(ctx context.Context, req wire.PatchRequest, out io.Writer) (*int, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	b := apt.New(a.cfg.Apt)
	var (
		rep wire.PatchReport
		err error
	)
	if req.Operation == wire.PatchScan {
		rep, err = b.Scan(ctx, out)
	} else {
		rep, err = b.Install(ctx, req, out)
	}
	code := 0
	if err != nil {
		fmt.Fprintf(out, "patch %s: %v\n", req.Operation, err)
		code = 1
	}
	if rep.HookError != "" {
		code = 1
	}
	for _, r := range rep.InstallResults {
		if r.Status == "failed" {
			code = 1
		}
	}
	if rep.Backend != "" {
		line, _ := json.Marshal(rep)
		fmt.Fprintf(out, "\n%s%s\n", wire.PatchReportPrefix, line)
	}
	return &code, nil
}
