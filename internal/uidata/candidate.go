package uidata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/client"
)

// handFixes makes an automation candidate as a team makes one: the same
// problem (a log volume filling up) comes back on two hosts, and each
// time a person acknowledges it, runs disk-usage-report by hand (when the
// server has it) and resolves it. Two hand fixes of one title pattern
// are a candidate (internal/stats' MinRecurrence); the days of history a real team
// has are not needed, only resolutions within the candidates' period.
func handFixes(ctx context.Context, c *client.Client, o Options, d *Dataset, haveRunbook bool) error {
	fixes := []struct {
		host string
		used int
	}{{"web-02", 91}, {"web-05", 93}}
	var titles []string
	for _, f := range fixes {
		title := fmt.Sprintf("Disk /var/log on %s is %d%% full", f.host, f.used)
		titles = append(titles, title)
		ev := map[string]any{"source": "node", "title": title, "severity": "high", "resource": f.host, "kind": "alert",
			"description": fmt.Sprintf("/var/log on %s is %d%% full and grew 4%% in the last day; nginx access logs are the largest.", f.host, f.used),
			"labels":      map[string]string{"mountpoint": "/var/log", "team": "platform"}}
		if err := c.Do(ctx, "POST", "/api/v1/intake/generic", ev, nil); err != nil {
			return fmt.Errorf("event %q: %w", title, err)
		}
	}
	ids, err := waitTitles(ctx, c, titles, o.Wait)
	if err != nil {
		return err
	}
	for i, f := range fixes {
		id := ids[titles[i]]
		d.OpsItems[titles[i]] = id
		base := "/api/v1/opsitems/" + id
		if err := c.Do(ctx, "POST", base+"/acknowledge", apiv1.HandlingInput{Comment: "on it"}, nil); err != nil {
			return fmt.Errorf("acknowledge %s: %w", id, err)
		}
		if haveRunbook {
			var ex execution
			params := map[string]any{"mountpoint": "/var/log", "used_percent": f.used, "nodename": f.host}
			if err := c.Do(ctx, "POST", base+"/runbooks/disk-usage-report", map[string]any{"parameters": params}, &ex); err != nil {
				return fmt.Errorf("run disk-usage-report on %s: %w", id, err)
			}
			if err := waitExecution(ctx, c, ex.ID, "succeeded", o.Wait); err != nil {
				return err
			}
		}
		if err := c.Do(ctx, "POST", base+"/resolve", apiv1.HandlingInput{Comment: "compressed and removed rotated nginx logs by hand"}, nil); err != nil {
			return fmt.Errorf("resolve %s: %w", id, err)
		}
	}
	var cs apiv1.List[apiv1.Candidate]
	if err := c.Do(ctx, "GET", "/api/v1/automation/candidates", nil, &cs); err != nil {
		return fmt.Errorf("automation candidates: %w", err)
	}
	for _, cd := range cs.Items {
		for _, ex := range cd.Examples {
			if ex.ID == ids[titles[0]] && cd.Count >= len(fixes) {
				d.Candidate = cd.ID
				return nil
			}
		}
	}
	return fmt.Errorf("no automation candidate of %q after two hand fixes (%d candidates)", titles[0], len(cs.Items))
}

// waitTitles waits until the tenant has an OpsItem of each title and
// returns their IDs by title.
func waitTitles(ctx context.Context, c *client.Client, titles []string, wait time.Duration) (map[string]string, error) {
	ids, missing := map[string]string{}, ""
	err := poll(ctx, wait, func() (bool, error) {
		var l struct {
			Items []opsItem `json:"items"`
		}
		if err := c.Do(ctx, "GET", "/api/v1/opsitems?limit=100", nil, &l); err != nil {
			return false, fmt.Errorf("list OpsItems: %w", err)
		}
		for _, it := range l.Items {
			ids[it.Title] = it.ID
		}
		missing = ""
		for _, t := range titles {
			if ids[t] == "" {
				missing = t
			}
		}
		return missing == "", nil
	})
	if errors.Is(err, errWaited) {
		return nil, fmt.Errorf("after %s there is no OpsItem %q", wait, missing)
	}
	return ids, err
}
