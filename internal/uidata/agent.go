package uidata

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/version"
)

// agent is a host agent of the dataset speaking the agent protocol
// (internal/fleet/wire) as `flywheel agent` does: it enrolls with a
// one-time token, heartbeats, reports its inventory, long-polls for
// commands and answers a patch scan with the report apt would give on a
// Debian 12 host. It runs no command: anything but a patch scan fails.
type agent struct {
	c          *client.Client // the agent protocol's, authorized as the agent once enrolled
	host       wire.Host
	id         string
	resourceID string
	instance   string
	// interval is the heartbeat period the agent announces: long, so the
	// host still reports a while after the dataset is built.
	interval time.Duration
	// serverTime is the server's clock at the last heartbeat.
	serverTime time.Time
}

// enrollAgent creates an enrollment token with c (an admin's) and enrolls
// a host with it.
func enrollAgent(ctx context.Context, c *client.Client, host wire.Host, tags map[string]string) (*agent, error) {
	var tok apiv1.CreatedEnrollToken
	if err := c.Do(ctx, "POST", "/api/v1/enrollment-tokens", apiv1.EnrollTokenInput{ExpiresIn: "1h", Tags: tags}, &tok); err != nil {
		return nil, fmt.Errorf("enrollment token: %w", err)
	}
	var inst [8]byte
	_, _ = rand.Read(inst[:])
	a := &agent{c: &client.Client{BaseURL: c.BaseURL, HTTP: &http.Client{Timeout: time.Minute}}, host: host, instance: hex.EncodeToString(inst[:]),
		interval: 15 * time.Minute}
	var en wire.EnrollResponse
	if err := a.c.Do(ctx, "POST", wire.PathEnroll, wire.EnrollRequest{Token: tok.Token, Host: host}, &en); err != nil {
		return nil, fmt.Errorf("enroll %s: %w", host.Hostname, err)
	}
	a.id, a.resourceID, a.c.Authorization = en.AgentID, en.ResourceID, wire.AuthScheme+" "+en.AgentID+":"+en.Secret
	return a, nil
}

// heartbeat says the agent is alive, as it does every interval.
func (a *agent) heartbeat(ctx context.Context, started time.Time) error {
	var r wire.HeartbeatResponse
	if err := a.c.Do(ctx, "POST", wire.PathHeartbeat, wire.Heartbeat{Host: a.host, StartedAt: started, Interval: a.interval}, &r); err != nil {
		return fmt.Errorf("heartbeat of %s: %w", a.host.Hostname, err)
	}
	a.serverTime = r.ServerTime
	return nil
}

// inventory sends a full inventory report of the given sections.
func (a *agent) inventory(ctx context.Context, sections map[string]any) error {
	inv := wire.Inventory{Full: true, Sections: map[string]json.RawMessage{}}
	for k, v := range sections {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		inv.Sections[k] = b
	}
	if err := a.c.Do(ctx, "PUT", wire.PathInventory, inv, nil); err != nil {
		return fmt.Errorf("inventory of %s: %w", a.host.Hostname, err)
	}
	return nil
}

// serve long-polls for commands until ctx ends and answers each: a patch
// scan with scan's report, anything else with a failure. Errors other
// than ctx's end it.
func (a *agent) serve(ctx context.Context, scan wire.PatchReport) error {
	first := true
	for ctx.Err() == nil {
		q := url.Values{"wait": {"5s"}, "slots": {"1"}, "instance": {a.instance}}
		if first {
			q.Set("first", "1")
		}
		var p wire.Poll
		if err := a.c.Do(ctx, "GET", wire.PathCommands+"?"+q.Encode(), nil, &p); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("poll of %s: %w", a.host.Hostname, err)
		}
		first = false
		for _, c := range p.Commands {
			if err := a.run(ctx, c, scan); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
	return nil
}

// run answers one command: its output, then its result.
func (a *agent) run(ctx context.Context, c wire.Command, scan wire.PatchReport) error {
	res := wire.Result{Status: wire.StatusFailed, Error: "the dataset's agent runs patch scans only"}
	if p := c.Spec.Patch; p != nil && p.Operation == wire.PatchScan {
		rep, err := json.Marshal(scan)
		if err != nil {
			return err
		}
		out := aptUpdateLog + "\n" + wire.PatchReportPrefix + string(rep) + "\n"
		if err := a.c.Do(ctx, "POST", wire.CommandOutputPath(c.ID), wire.Output{Offset: 0, Data: out}, nil); err != nil {
			return fmt.Errorf("output of %s: %w", c.ID, err)
		}
		zero := 0
		res = wire.Result{Status: wire.StatusSucceeded, ExitCode: &zero, OutputBytes: int64(len(out))}
	}
	if err := a.c.Do(ctx, "POST", wire.CommandResultPath(c.ID), res, nil); err != nil {
		return fmt.Errorf("result of %s: %w", c.ID, err)
	}
	return nil
}

// aptUpdateLog is what a scan prints before its report: apt refreshing
// its lists.
const aptUpdateLog = `Hit:1 http://deb.debian.org/debian bookworm InRelease
Get:2 http://deb.debian.org/debian bookworm-updates InRelease [55.4 kB]
Get:3 http://security.debian.org/debian-security bookworm-security InRelease [48.0 kB]
Get:4 http://security.debian.org/debian-security bookworm-security/main amd64 Packages [241 kB]
Fetched 345 kB in 1s (412 kB/s)
Reading package lists...`

// webHost is the dataset's enrolled host: a Debian 12 web server.
var webHost = wire.Host{Hostname: "web-01", Version: version.Version, OS: "linux", Arch: "amd64"}

// webInventory is its inventory, in the agent's sections.
func webInventory(now time.Time) map[string]any {
	return map[string]any{
		"host": map[string]any{"hostname": "web-01", "arch": "amd64", "kernel": "6.1.0-26-amd64", "boot_time": now.Add(-41 * 24 * time.Hour).Truncate(time.Minute),
			"os": map[string]string{"id": "debian", "version_id": "12", "name": "Debian GNU/Linux", "pretty_name": "Debian GNU/Linux 12 (bookworm)"}},
		"cpu":    map[string]any{"count": 4, "model": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"},
		"memory": map[string]any{"total_bytes": int64(16) << 30, "available_bytes": int64(9) << 30, "swap_total_bytes": 0, "swap_free_bytes": 0},
		"load":   map[string]any{"cpus": 4, "load1": 1.42, "load5": 1.18, "load15": 0.97},
		"network": map[string]any{"ips": []string{"10.20.1.11"}, "listening": []int{22, 80, 443, 9100},
			"interfaces": []map[string]any{{"name": "ens5", "mac": "0a:1b:2c:3d:4e:5f", "up": true, "addresses": []string{"10.20.1.11/24"}}}},
		"disks": []map[string]any{
			{"device": "/dev/nvme0n1p1", "mount": "/", "fstype": "ext4", "total_bytes": int64(40) << 30, "used_bytes": int64(17) << 30},
			{"device": "/dev/nvme1n1", "mount": "/var/log", "fstype": "xfs", "total_bytes": int64(20) << 30, "used_bytes": int64(11) << 30}},
		"packages": map[string]string{"nginx": "1.22.1-9", "openssl": "3.0.14-1~deb12u2", "linux-image-amd64": "6.1.112-1", "curl": "7.88.1-10+deb12u7"},
		"services": map[string]string{"nginx.service": "active", "ssh.service": "active", "prometheus-node-exporter.service": "active"},
		"agent":    map[string]any{"version": version.Version, "os": "linux", "arch": "amd64"},
	}
}

// webScan is the host's patch scan: two security updates (approved at
// once by the debian-default baseline), one update of an optional
// package, and a kernel that waits for a reboot.
var webScan = wire.PatchReport{Backend: "apt", Installed: 612,
	Updates: []wire.PackageUpdate{
		{Name: "openssl", Installed: "3.0.14-1~deb12u2", Candidate: "3.0.15-1~deb12u1", Origins: []string{"Debian-Security:12/stable-security"},
			Section: "utils", Priority: "optional", Security: true},
		{Name: "linux-image-amd64", Installed: "6.1.112-1", Candidate: "6.1.115-1", Origins: []string{"Debian-Security:12/stable-security"},
			Section: "kernel", Priority: "optional", Security: true},
		{Name: "curl", Installed: "7.88.1-10+deb12u7", Candidate: "7.88.1-10+deb12u8", Origins: []string{"Debian:12.8/stable"},
			Section: "web", Priority: "optional"},
	},
	PendingReboot: true, RebootPackages: []string{"linux-image-6.1.0-26-amd64"},
}
