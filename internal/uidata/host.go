package uidata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/client"
)

// scannedHost enrolls the host web-01 with an agent (an admin's
// enrollment token), which heartbeats and reports its inventory, and
// schedules a maintenance window that opens seconds later on it with the
// library's patch-scan task: the server's window scheduler starts the
// run, the runbook sends the agent a patch scan, and the agent's report
// becomes the host's patch state.
func scannedHost(ctx context.Context, c *client.Client, o Options, d *Dataset) error {
	a, err := enrollAgent(ctx, c, webHost, map[string]string{"env": "prod", "role": "web"})
	if err != nil {
		return err
	}
	d.Agent, d.Host = a.id, a.resourceID
	if err := a.heartbeat(ctx, time.Now().Add(-3*time.Hour)); err != nil {
		return err
	}
	if err := a.inventory(ctx, webInventory(a.serverTime)); err != nil {
		return err
	}
	actx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.serve(actx, webScan) }()
	err = scanWindow(ctx, c, o, d, a)
	stop()
	if serr := <-served; serr != nil {
		err = errors.Join(err, serr)
	}
	return err
}

// scanWindow creates the window, waits for its run to succeed and checks
// the host's patch state is recorded.
func scanWindow(ctx context.Context, c *client.Client, o Options, d *Dataset, a *agent) error {
	// The window opens a moment after the server's clock (which the
	// heartbeat answered with): a one-off window runs its tasks for an
	// opening after it was made.
	start := a.serverTime.Add(2 * time.Second)
	end := start.Add(time.Hour)
	in := apiv1.MaintenanceWindowInput{Name: "web-01-patch-scan", Comment: "weekly package scan of the web tier",
		Schedule: apiv1.MaintenanceSchedule{Start: &start, End: &end},
		Targets:  apiv1.MaintenanceTargets{ResourceIDs: []string{a.resourceID}},
		Tasks:    []apiv1.MaintenanceTask{{Name: "scan", Runbook: "patch-scan"}}}
	var w apiv1.MaintenanceWindow
	if err := c.Do(ctx, "POST", "/api/v1/maintenance-windows", in, &w); err != nil {
		return fmt.Errorf("patch-scan window: %w", err)
	}
	d.Window = w.ID
	var run apiv1.WindowRun
	err := poll(ctx, o.Wait, func() (bool, error) {
		var runs apiv1.List[apiv1.WindowRun]
		if err := c.Do(ctx, "GET", "/api/v1/maintenance-windows/"+w.ID+"/runs", nil, &runs); err != nil {
			return false, fmt.Errorf("runs of %s: %w", w.Name, err)
		}
		if len(runs.Items) == 0 {
			return false, nil
		}
		switch run = runs.Items[0]; run.Status {
		case "pending", "running":
			return false, nil
		case "succeeded":
			return true, nil
		}
		return false, fmt.Errorf("window run %s of %s is %s: %s", run.ID, w.Name, run.Status, run.Error)
	})
	if errors.Is(err, errWaited) {
		return fmt.Errorf("window %s has no finished run after %s (last: %q %s)", w.Name, o.Wait, run.ID, run.Status)
	}
	if err != nil {
		return err
	}
	d.WindowRun = run.ID
	var h apiv1.HostCompliance
	if err := c.Do(ctx, "GET", "/api/v1/patch/hosts/"+a.resourceID, nil, &h); err != nil {
		return fmt.Errorf("patch state of %s after run %s: %w", a.host.Hostname, run.ID, err)
	}
	return nil
}
