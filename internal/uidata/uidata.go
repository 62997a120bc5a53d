// Package uidata builds a realistic dataset in a running Flywheel server
// through its public API, as an operator and its alert sources would: the
// UI's screenshots and its every-page browser checks (overflow,
// accessibility) look at pages filled by it. The command bench/uidata runs
// it against any server; the tests of internal/web run it against a whole
// server of their own.
//
// Everything goes through the real API with the caller's token: alerts
// through the Alertmanager API and webhook, a GuardDuty finding through
// the EventBridge intake, generic events with long titles, OpsItems
// acknowledged, assigned, noted and resolved, runbook executions that
// succeed, fail and wait for an approval, silences, a maintenance window,
// an automation candidate (a recurring alert fixed by hand twice with a
// runbook), an operator token and an empty second tenant. A host agent
// of its own (agent.go) enrolls with an enrollment token and speaks the
// agent protocol as flywheel agent does — heartbeat, inventory, and the
// answer to the patch scan a maintenance window's run sends it — so the
// fleet, the host's patching page and the window's run have something
// to show; it runs nothing on the machine.
package uidata

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/client"
)

// Content holds the two runbooks the dataset runs (disk-usage-report,
// restart-with-approval). The server must have loaded them from its
// content directory; `bench/uidata -write-content DIR` writes them.
//
//go:embed content.yaml
var Content string

//go:embed payloads/guardduty-ssh-bruteforce.json
var guardDuty json.RawMessage

//go:embed payloads/alertmanager-disk-filling.json
var amWebhook json.RawMessage

// Dataset is what Build made.
type Dataset struct {
	// OpsItems are the IDs of the OpsItems, by title.
	OpsItems map[string]string
	// Executions by what they show: "succeeded", "failed", "waiting".
	Executions map[string]string
	// OperatorToken is the secret of an operator token of the tenant.
	OperatorToken string
	// EmptyTenant is a tenant with no events (admins only; "" otherwise).
	EmptyTenant string
	// Agent is the enrolled agent, Host its host resource (patch
	// scanned), Window the maintenance window that scanned it and
	// WindowRun its run.
	Agent, Host, Window, WindowRun string
	// Candidate is the ID of the automation candidate the hand fixes make.
	Candidate string
}

// Options tune Build.
type Options struct {
	// Wait bounds each wait for the pipeline, an execution or a window
	// run; default 2m (a server ticks its maintenance windows every 15s).
	Wait time.Duration
	// EmptyTenant is the ID of the empty tenant to create (platform admin
	// tokens only); "" creates none.
	EmptyTenant string
}

type opsItem struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status string `json:"status"`
}

type execution struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// amAlert is an alert of the Alertmanager v2 API (POST /api/v2/alerts).
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// Build fills the token's tenant through the API at c.
func Build(ctx context.Context, c *client.Client, o Options) (*Dataset, error) {
	if o.Wait <= 0 {
		o.Wait = 2 * time.Minute
	}
	d := &Dataset{OpsItems: map[string]string{}, Executions: map[string]string{}}
	now := time.Now().UTC()

	// Prometheus alerts, as Prometheus posts them; some twice, as
	// Prometheus re-sends a firing alert (occurrences).
	hosts := []string{"web-01", "web-02", "api-eu-west-1-prod-07", "db-orders-primary-0"}
	var alerts []amAlert
	for i, h := range hosts {
		alerts = append(alerts, amAlert{
			Labels: map[string]string{"alertname": "HighCPUUsage", "instance": h + ":9100", "job": "node-exporter",
				"severity": []string{"warning", "critical"}[i%2], "team": "platform", "cluster": "prod-eu-west-1"},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("CPU on %s above 90%% for 10 minutes", h),
				"description": fmt.Sprintf("node_cpu_seconds_total on %s shows 94%% busy over the last 10 minutes; the load average is 7.8 on 4 cores.", h),
				"runbook_url": "https://runbooks.example.net/node/HighCPUUsage",
			},
			StartsAt:     now.Add(-time.Duration(20+i*7) * time.Minute),
			GeneratorURL: "http://prometheus.example.net:9090/graph?g0.expr=node_cpu_busy%3E0.9",
		})
	}
	alerts = append(alerts, amAlert{
		Labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "checkout", "pod": "checkout-api-7d9c6b8f5-x2k9q",
			"container": "checkout-api", "severity": "critical", "team": "payments"},
		Annotations: map[string]string{
			"summary":     "Pod checkout/checkout-api-7d9c6b8f5-x2k9q (checkout-api) is in waiting state (reason: CrashLoopBackOff).",
			"description": "Pod checkout/checkout-api-7d9c6b8f5-x2k9q (checkout-api) is restarting 2.5 times / 10 minutes since the 14:02 deploy.",
		},
		StartsAt: now.Add(-45 * time.Minute), GeneratorURL: "http://prometheus.example.net:9090/graph?g0.expr=kube_pod_container_status_waiting_reason",
	})
	for range 2 {
		if err := c.Do(ctx, "POST", "/api/v2/alerts", alerts, nil); err != nil {
			return nil, fmt.Errorf("alertmanager v2 alerts: %w", err)
		}
	}
	// An Alertmanager webhook (a receiver pointing at Flywheel).
	if err := c.Do(ctx, "POST", "/api/v1/intake/alertmanager", amWebhook, nil); err != nil {
		return nil, fmt.Errorf("alertmanager webhook: %w", err)
	}
	// A GuardDuty finding through EventBridge.
	if err := c.Do(ctx, "POST", "/api/v1/intake/eventbridge", guardDuty, nil); err != nil {
		return nil, fmt.Errorf("eventbridge: %w", err)
	}
	// Generic events: long titles and resource names, every severity.
	generic := []map[string]any{
		{"source": "ci", "title": "Deployment of payments-gateway v2.14.3 to prod-eu-west-1 failed health checks on 3 of 12 instances after the canary stage; rollback was not triggered automatically",
			"severity": "high", "resource": "payments-gateway-prod-eu-west-1", "kind": "alert",
			"labels": map[string]string{"service": "payments-gateway", "env": "prod", "pipeline": "deploy-prod-eu"}},
		{"source": "backup", "title": "Nightly snapshot of vol-0a1b2c3d4e5f67890 (orders database) missing for 2 days", "severity": "medium",
			"resource": "vol-0a1b2c3d4e5f67890", "labels": map[string]string{"service": "orders", "plan": "daily-ebs"}},
		{"source": "cost", "title": "Idle load balancer staging-internal-alb-2 has had no traffic for 14 days", "severity": "low",
			"resource": "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/staging-internal-alb-2/50dc6c495c0c9188",
			"labels":   map[string]string{"env": "staging"}},
		{"source": "uptime", "title": "TLS certificate for shop.example.com expires in 9 days", "severity": "medium", "resource": "shop.example.com",
			"description": "The certificate issued by R11 for shop.example.com, www.shop.example.com expires on the 16th; renewal by the ACME client failed twice (HTTP-01 challenge: 404).",
			"labels":      map[string]string{"service": "shop"}},
		{"source": "patching", "title": "Kernel update pending reboot on 4 hosts", "severity": "info", "resource": "web-01"},
		{"source": "shop", "title": "Payments queue backlog above 10 000 messages", "severity": "critical",
			"resource": "payments-queue", "labels": map[string]string{"service": "payments"}},
	}
	for _, g := range generic {
		if err := c.Do(ctx, "POST", "/api/v1/intake/generic", g, nil); err != nil {
			return nil, fmt.Errorf("generic event %q: %w", g["title"], err)
		}
	}
	// The same backlog alert again, twice: it joins its OpsItem.
	for range 2 {
		if err := c.Do(ctx, "POST", "/api/v1/intake/generic", generic[len(generic)-1], nil); err != nil {
			return nil, err
		}
	}

	items, err := waitItems(ctx, c, 10, o.Wait)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		d.OpsItems[it.Title] = it.ID
	}

	// People at work: acknowledge, assign, note, resolve.
	for i, it := range items {
		base := "/api/v1/opsitems/" + it.ID
		switch i % 4 {
		case 0:
			if err := c.Do(ctx, "POST", base+"/acknowledge", map[string]string{"comment": "looking"}, nil); err != nil {
				return nil, fmt.Errorf("acknowledge %s: %w", it.ID, err)
			}
			if err := c.Do(ctx, "POST", base+"/assign", map[string]string{"assignee": "dana.kowalski@example.com"}, nil); err != nil {
				return nil, fmt.Errorf("assign %s: %w", it.ID, err)
			}
		case 1:
			if err := c.Do(ctx, "POST", base+"/notes", map[string]string{"text": "Started after the 14:02 deploy; checking the release notes."}, nil); err != nil {
				return nil, fmt.Errorf("note %s: %w", it.ID, err)
			}
		case 2:
			if i > 4 {
				if err := c.Do(ctx, "POST", base+"/resolve", map[string]string{"comment": "fixed by hand"}, nil); err != nil {
					return nil, fmt.Errorf("resolve %s: %w", it.ID, err)
				}
			}
		}
	}

	// Executions: one that succeeds, one that fails, one waiting for an
	// approval, when the server has the runbooks (Content).
	var rbs struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/runbooks", nil, &rbs); err != nil {
		return nil, fmt.Errorf("runbooks: %w", err)
	}
	have := map[string]bool{}
	for _, r := range rbs.Items {
		have[r.Name] = true
	}
	target := items[0].ID
	runs := []struct {
		key, runbook string
		params       map[string]any
	}{
		{"succeeded", "disk-usage-report", map[string]any{"mountpoint": "/var/lib/postgresql", "used_percent": 91, "nodename": "pg-orders-primary-0"}},
		{"failed", "disk-usage-report", map[string]any{"mountpoint": "/var/log", "used_percent": 98, "nodename": "web-02"}},
		{"waiting", "restart-with-approval", map[string]any{"service": "checkout-api"}},
	}
	for _, r := range runs {
		if !have[r.runbook] {
			continue
		}
		var ex execution
		if err := c.Do(ctx, "POST", "/api/v1/opsitems/"+target+"/runbooks/"+r.runbook, map[string]any{"parameters": r.params}, &ex); err != nil {
			return nil, fmt.Errorf("run %s: %w", r.runbook, err)
		}
		d.Executions[r.key] = ex.ID
	}
	for key, id := range d.Executions {
		want := map[string]string{"succeeded": "succeeded", "failed": "failed", "waiting": "waiting_approval"}[key]
		if err := waitExecution(ctx, c, id, want, o.Wait); err != nil {
			return nil, err
		}
	}

	// Silences and a maintenance window.
	for _, s := range []map[string]any{
		{"matchers": []string{`alertname="KubePodCrashLooping"`, `namespace="checkout"`, `pod=~"checkout-api-.*"`}, "duration": "2h",
			"comment": "checkout-api rollout in progress (CHG-20931), expected restarts until the new ReplicaSet is healthy"},
		{"matchers": []string{`env="staging"`}, "duration": "24h", "comment": "staging rebuild"},
	} {
		if err := c.Do(ctx, "POST", "/api/v1/silences", s, nil); err != nil {
			return nil, fmt.Errorf("silence: %w", err)
		}
	}
	start := now.Add(26 * time.Hour).Truncate(time.Hour)
	mw := map[string]any{"name": "orders-db-patching",
		"schedule": map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)},
		"targets":  map[string]any{"matchers": []string{`service="orders"`, `cluster="prod-eu-west-1"`}},
		"comment":  "monthly kernel patching of the orders database"}
	if err := c.Do(ctx, "POST", "/api/v1/maintenance-windows", mw, nil); err != nil {
		return nil, fmt.Errorf("maintenance window: %w", err)
	}

	if err := handFixes(ctx, c, o, d, have["disk-usage-report"]); err != nil {
		return nil, err
	}
	if err := scannedHost(ctx, c, o, d); err != nil {
		return nil, err
	}

	// An operator (for role-aware pages) and an empty tenant (onboarding).
	var tok struct {
		Secret string `json:"secret"`
	}
	if err := c.Do(ctx, "POST", "/api/v1/tokens", map[string]any{"name": "on-call operator", "role": "operator"}, &tok); err != nil {
		return nil, fmt.Errorf("operator token: %w", err)
	}
	d.OperatorToken = tok.Secret
	if o.EmptyTenant != "" {
		err := c.Do(ctx, "POST", "/api/v1/tenants", map[string]string{"id": o.EmptyTenant, "name": "New customer"}, nil)
		var ce *client.Error
		if err != nil && !(errors.As(err, &ce) && ce.Status == 409) {
			return nil, fmt.Errorf("tenant: %w", err)
		}
		d.EmptyTenant = o.EmptyTenant
	}
	return d, nil
}

// waitItems waits until the tenant has at least n OpsItems (the pipeline
// works asynchronously) and returns them, newest first.
func waitItems(ctx context.Context, c *client.Client, n int, wait time.Duration) ([]opsItem, error) {
	var items []opsItem
	err := poll(ctx, wait, func() (bool, error) {
		var l struct {
			Items []opsItem `json:"items"`
		}
		if err := c.Do(ctx, "GET", "/api/v1/opsitems?limit=100", nil, &l); err != nil {
			return false, fmt.Errorf("list OpsItems: %w", err)
		}
		items = l.Items
		return len(items) >= n, nil
	})
	if errors.Is(err, errWaited) {
		return nil, fmt.Errorf("after %s the tenant has %d OpsItems, want %d", wait, len(items), n)
	}
	return items, err
}

// waitExecution waits until the execution reaches status.
func waitExecution(ctx context.Context, c *client.Client, id, status string, wait time.Duration) error {
	var ex execution
	err := poll(ctx, wait, func() (bool, error) {
		if err := c.Do(ctx, "GET", "/api/v1/executions/"+id, nil, &ex); err != nil {
			return false, fmt.Errorf("execution %s: %w", id, err)
		}
		return ex.Status == status, nil
	})
	if errors.Is(err, errWaited) {
		return fmt.Errorf("execution %s is %s after %s, want %s", id, ex.Status, wait, status)
	}
	return err
}

// errWaited is poll's answer when the wait ran out.
var errWaited = errors.New("waited long enough")

// poll calls done every 100ms until it says so or fails, ctx ends, or
// wait has passed (errWaited): the server works asynchronously, and the
// dataset waits for what it asked for as a person watching would.
func poll(ctx context.Context, wait time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(wait)
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return errWaited
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
