package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// The "Host without an agent" event: one fingerprint per host, so a
// resolved event resolves its OpsItem when an agent for the host enrolls.
const (
	UnmanagedTitle    = "Host without an agent"
	unmanagedFPPrefix = event.UnmanagedPrefix
)

// UnmanagedFingerprint is the fingerprint of host's "without an agent" event.
func UnmanagedFingerprint(host string) string { return unmanagedFPPrefix + host }

// HostResourceTypes are the resource types that are hosts an agent could
// run on: the agent's own, and cloud instances as providers and events
// name them.
var HostResourceTypes = []string{ResourceTypeHost, "ec2-instance", "aws.ec2.instance"}

// IsHostType reports whether resources of type t are hosts an agent could
// run on.
func IsHostType(t string) bool { return hostType(t) }

func hostType(t string) bool {
	for _, h := range HostResourceTypes {
		if strings.EqualFold(t, h) {
			return true
		}
	}
	return false
}

// Labels of events that name a host (Prometheus's instance label carries a
// port, stripped).
var hostLabels = []string{"instance", "host", "hostname", "nodename", "instance_id", "instance-id"}

// Tags of resources and agents that give further names of a host.
var hostTags = []string{"hostname", "ip", "private_ip", "public_ip", "instance_id", "instance-id", "ec2:instance-id"}

var instanceID = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

// NormalizeHost turns a loose reference into a host key and its kind
// (hostname, ip, instance-id): lower case, port and brackets stripped; ""
// when it names no host (a URL path, an empty string, an ARN of another
// service…).
func NormalizeHost(ref string) (host, kind string) {
	h := strings.ToLower(strings.TrimSpace(ref))
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
		if j := strings.IndexAny(h, "/?#"); j >= 0 {
			h = h[:j]
		}
	}
	if strings.HasPrefix(h, "arn:aws:ec2:") {
		if _, id, ok := strings.Cut(h, ":instance/"); ok {
			h = id
		}
	}
	if hp, _, err := net.SplitHostPort(h); err == nil {
		h = hp
	}
	h = strings.Trim(h, "[]")
	switch {
	case h == "" || len(h) > 253 || strings.ContainsAny(h, " /\\@,;\"'"):
		return "", ""
	case net.ParseIP(h) != nil:
		ip := net.ParseIP(h)
		if ip.IsLoopback() || ip.IsUnspecified() {
			return "", ""
		}
		return ip.String(), "ip"
	case instanceID.MatchString(h):
		return h, "instance-id"
	case h == "localhost":
		return "", ""
	}
	return h, "hostname"
}

// UnmanagedOptions configure the detection of hosts without an agent.
type UnmanagedOptions struct {
	// Disabled turns detection off.
	Disabled bool
	// ExcludeTag leaves out resources with this tag and events with this
	// label (any value).
	ExcludeTag string
	// Every is how often the drift check looks (default 1m).
	Every time.Duration
	// Lookback is how far back the first look reads events (default 24h).
	Lookback time.Duration
	// MaxRaises bounds the hosts one look reports per tenant (default 100);
	// the others are recorded and reported by the next looks. An alert
	// storm naming thousands of hosts then opens OpsItems for them over
	// minutes instead of all at once, in the middle of the storm.
	MaxRaises int
}

// maxEventsPerTenant bounds one look's event reads per tenant.
const maxEventsPerTenant = 5000

// UnmanagedResult says what one look found.
type UnmanagedResult struct {
	Raised   []string // hosts newly reported
	Resolved []string // hosts an agent now covers
}

// identities are the names under which a tenant's agents are known.
type identities map[string]bool

func (ids identities) add(ref string) {
	if h, _ := NormalizeHost(ref); h != "" {
		ids[h] = true
		if short, _, ok := strings.Cut(h, "."); ok && net.ParseIP(h) == nil {
			ids[short] = true
		}
	}
}

func (ids identities) covers(host string) bool {
	if ids[host] {
		return true
	}
	short, _, ok := strings.Cut(host, ".")
	return ok && net.ParseIP(host) == nil && ids[short]
}

// candidate is a host seen somewhere, with the other names it goes by
// (a resource's IP and hostname tags): an agent known by any covers it.
type candidate struct {
	host, kind, source, resourceID, typ string
	aliases                             []string
}

func (c candidate) coveredBy(ids identities) bool {
	if ids.covers(c.host) {
		return true
	}
	for _, a := range c.aliases {
		if ids.covers(a) {
			return true
		}
	}
	return false
}

// CheckUnmanaged looks for hosts without an agent in every tenant: host
// resources no agent reports and hosts named by events received since the
// last look, that match no live agent by hostname, IP or instance ID. Each
// new one raises a "Host without an agent" event (deployment, low); one an
// agent now covers resolves it.
func (s *Service) CheckUnmanaged(ctx context.Context) (UnmanagedResult, error) {
	var res UnmanagedResult
	if s.opts.Unmanaged.Disabled {
		return res, nil
	}
	now := s.now()
	s.umu.Lock()
	since := s.unmanagedSince
	if since.IsZero() {
		since = now.Add(-s.opts.Unmanaged.Lookback)
	}
	s.umu.Unlock()
	var errs []error
	page := store.Page{Limit: 500}
	for {
		tenants, next, err := s.st.ListTenants(ctx, page)
		if err != nil {
			return res, err
		}
		for _, t := range tenants {
			if err := s.checkTenantUnmanaged(ctx, t.ID, since, now, &res); err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: %w", t.ID, err))
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if len(errs) == 0 {
		s.umu.Lock()
		// Events stored while this look ran are read again next time.
		s.unmanagedSince = now.Add(-time.Minute)
		s.umu.Unlock()
	}
	return res, errors.Join(errs...)
}

func (s *Service) checkTenantUnmanaged(ctx context.Context, tenant string, since, now time.Time, res *UnmanagedResult) error {
	ids := identities{}
	var cands []candidate
	// excludedRes are host resources tagged to be left out: a host raised
	// from one before it was tagged is cleared.
	excludedRes := map[string]bool{}
	for a, err := range pages(func(p store.Page) ([]store.Agent, string, error) { return s.st.ListAgents(ctx, tenant, p) }) {
		if err != nil {
			return err
		}
		if a.RevokedAt != nil {
			continue
		}
		ids.add(a.Hostname)
		for _, k := range hostTags {
			ids.add(a.Tags[k])
		}
	}
	for _, typ := range HostResourceTypes {
		for r, err := range pages(func(p store.Page) ([]store.Resource, string, error) {
			return s.st.ListResources(ctx, tenant, store.ResourceFilter{Type: typ}, p)
		}) {
			if err != nil {
				return err
			}
			if r.AgentID != "" {
				for _, name := range reportedNames(r) {
					ids.add(name)
				}
				continue
			}
			if _, excluded := r.Tags[s.opts.Unmanaged.ExcludeTag]; excluded {
				excludedRes[r.ID] = true
				continue
			}
			c := candidate{source: "resource " + r.ID, resourceID: r.ID, typ: r.Type}
			if c.host, c.kind = NormalizeHost(r.Name); c.host == "" {
				c.host, c.kind = NormalizeHost(r.ID)
			}
			for _, k := range hostTags {
				if h, _ := NormalizeHost(r.Tags[k]); h != "" && h != c.host {
					c.aliases = append(c.aliases, h)
				}
			}
			cands = append(cands, c)
		}
	}
	// Events list newest received first (their IDs sort by receipt), so
	// reading stops at the last look, whatever time the events claim.
	n := 0
	for e, err := range pages(func(p store.Page) ([]store.Event, string, error) {
		return s.st.ListEvents(ctx, tenant, store.EventFilter{}, p)
	}) {
		if err != nil {
			return err
		}
		if n++; n > maxEventsPerTenant || e.ReceivedAt.Before(since) {
			break
		}
		cands = append(cands, s.eventHosts(e)...)
	}

	known := map[string]store.UnmanagedHost{}
	for h, err := range pages(func(p store.Page) ([]store.UnmanagedHost, string, error) {
		return s.st.ListUnmanagedHosts(ctx, tenant, p)
	}) {
		if err != nil {
			return err
		}
		known[h.Host] = h
	}
	var errs []error
	// Covered now (by an agent, under this name or another name of the
	// same resource), or excluded since: resolve and forget.
	byHost := map[string]candidate{}
	for _, c := range cands {
		byHost[c.host] = c
	}
	for host, h := range known {
		c, ok := byHost[host]
		covered := ids.covers(host) || (ok && c.coveredBy(ids))
		if !covered && !(h.ResourceID != "" && excludedRes[h.ResourceID]) {
			continue
		}
		if err := s.unmanagedEvent(ctx, h, event.StatusResolved, now); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := s.st.InTx(ctx, func(tx store.Tx) error { return tx.DeleteUnmanagedHost(ctx, tenant, host) }); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		delete(known, host)
		res.Resolved = append(res.Resolved, host)
		s.log.Info("host no longer unmanaged", "tenant", tenant, "host", host, "covered", covered)
	}
	// Hosts recorded by an earlier look but not reported yet (past its
	// MaxRaises) are candidates again.
	for host, h := range known {
		if _, ok := byHost[host]; !ok && h.RaisedAt == nil {
			cands = append(cands, candidate{host: host, kind: h.Kind, source: h.Source, resourceID: h.ResourceID})
		}
	}
	seen := map[string]bool{}
	var put, raised []store.UnmanagedHost
	waiting := 0
	for _, c := range cands {
		if c.host == "" || seen[c.host] || c.coveredBy(ids) {
			continue
		}
		seen[c.host] = true
		h, ok := known[c.host]
		if !ok {
			h = store.UnmanagedHost{TenantID: tenant, Host: c.host, FirstSeen: now}
		}
		h.Kind, h.Source, h.ResourceID, h.LastSeen = c.kind, c.source, c.resourceID, now
		put = append(put, h)
		if h.RaisedAt != nil {
			continue
		}
		if len(raised) == s.opts.Unmanaged.MaxRaises {
			waiting++
			continue
		}
		// Raise first, record after: a failed submission is retried on the
		// next look (the pipeline deduplicates repeats).
		if err := s.unmanagedEvent(ctx, h, event.StatusFiring, now); err != nil {
			errs = append(errs, err)
			continue
		}
		raised = append(raised, h)
	}
	// Recorded together, a few hundred hosts a transaction: one each held
	// the database's writer thousands of times during a storm.
	for len(put) > 0 || len(raised) > 0 {
		p, r := put[:min(len(put), 256)], raised[:min(len(raised), 256)]
		put, raised = put[len(p):], raised[len(r):]
		err := s.st.InTx(ctx, func(tx store.Tx) error {
			for _, h := range p {
				if err := tx.PutUnmanagedHost(ctx, h); err != nil {
					return err
				}
			}
			for _, h := range r {
				if err := tx.SetUnmanagedHostRaised(ctx, tenant, h.Host, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, h := range r {
			res.Raised = append(res.Raised, h.Host)
			s.log.Info("host without an agent", "tenant", tenant, "host", h.Host, "source", h.Source)
		}
	}
	if waiting > 0 {
		s.log.Info("more hosts without an agent wait for the next looks", "tenant", tenant, "hosts", waiting, "per_look", s.opts.Unmanaged.MaxRaises)
	}
	return errors.Join(errs...)
}

// eventHosts are the hosts an event names: host-like resource references
// and host labels. The fleet's own events and excluded ones name none.
func (s *Service) eventHosts(e store.Event) []candidate {
	if event.IsOwn(e.Source) {
		return nil
	}
	if _, excluded := e.Labels[s.opts.Unmanaged.ExcludeTag]; excluded {
		return nil
	}
	// A Kubernetes target's address is a pod's: not a host either.
	if e.Labels["pod"] != "" || e.Labels["namespace"] != "" {
		return nil
	}
	var out []candidate
	var refs []event.ResourceRef
	_ = json.Unmarshal(e.Resources, &refs)
	for _, r := range refs {
		if !hostType(r.Type) {
			continue
		}
		if h, kind := NormalizeHost(r.ID); h != "" {
			out = append(out, candidate{host: h, kind: kind, source: "event " + e.Source, typ: r.Type})
		}
	}
	// A URL is a probed site (blackbox), not a host an agent would run on.
	for _, l := range hostLabels {
		v := e.Labels[l]
		if strings.Contains(v, "://") {
			continue
		}
		if h, kind := NormalizeHost(v); h != "" {
			out = append(out, candidate{host: h, kind: kind, source: "event " + e.Source, typ: ResourceTypeHost})
		}
	}
	return mergeNames(out)
}

// mergeNames makes the hosts one event names one host: an alert about
// "10.0.3.41:9100" with nodename "web-03" is about one machine, known by
// its name (a hostname is preferred to an address or an instance ID) with
// the others as aliases, so it is reported once and an agent known by any
// of the names covers it.
func mergeNames(cs []candidate) []candidate {
	if len(cs) < 2 {
		return cs
	}
	primary := 0
	for i, c := range cs {
		if c.kind == "hostname" {
			primary = i
			break
		}
	}
	m := cs[primary]
	seen := map[string]bool{m.host: true}
	for _, c := range cs {
		for _, h := range append([]string{c.host}, c.aliases...) {
			if !seen[h] {
				seen[h] = true
				m.aliases = append(m.aliases, h)
			}
		}
	}
	return []candidate{m}
}

// reportedNames reads the IPs and the cloud instance ID an agent's
// inventory reports.
func reportedNames(r store.Resource) []string {
	var cfg struct {
		Network struct {
			IPs []string `json:"ips"`
		} `json:"network"`
		Cloud struct {
			InstanceID string `json:"instance_id"`
		} `json:"cloud"`
	}
	_ = json.Unmarshal(r.Config, &cfg)
	return append(cfg.Network.IPs, cfg.Cloud.InstanceID)
}

// UnmanagedEvent is the event raised (firing) or cleared (resolved) for
// host h.
func UnmanagedEvent(h store.UnmanagedHost, status event.Status, at time.Time) event.Event {
	desc := fmt.Sprintf("%s (%s) is known to Flywheel from %s but no enrolled agent runs on it: its alerts cannot be remediated on the host. "+
		"Install the agent (flywheel agent token create --bundle), or tag the resource %q to leave it out.", h.Host, h.Kind, h.Source, "flywheel-no-agent")
	if status == event.StatusResolved {
		desc = fmt.Sprintf("An agent now runs on %s.", h.Host)
	}
	typ := ResourceTypeHost
	if h.Kind == "instance-id" {
		typ = "ec2-instance"
	}
	return event.Event{
		Source: EventSource, Kind: event.KindChange, Severity: event.SeverityLow, Status: status,
		Title: UnmanagedTitle + ": " + h.Host, Description: desc,
		Resources:   []event.ResourceRef{{Type: typ, ID: h.Host}},
		Labels:      map[string]string{"alertname": "HostWithoutAgent", "host": h.Host, "host_kind": h.Kind, "category": "deployment"},
		OccurredAt:  at,
		Fingerprint: UnmanagedFingerprint(h.Host),
	}
}

func (s *Service) unmanagedEvent(ctx context.Context, h store.UnmanagedHost, status event.Status, at time.Time) error {
	if s.opts.Sink == nil {
		return nil
	}
	if err := s.opts.Sink.Submit(ctx, h.TenantID, UnmanagedEvent(h, status, at)); err != nil {
		return fmt.Errorf("host %s: submit %s event: %w", h.Host, status, err)
	}
	s.m.events.WithLabelValues("host-without-agent", string(status)).Inc()
	return nil
}

// pages iterates over every item of a paginated listing.
func pages[T any](list func(store.Page) ([]T, string, error)) func(yield func(T, error) bool) {
	return func(yield func(T, error) bool) {
		page := store.Page{Limit: 500}
		for {
			items, next, err := list(page)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			page.Cursor = next
		}
	}
}
