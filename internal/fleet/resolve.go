package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// AliasTag is the agent (and host resource) tag that lists further names
// of a host, separated by commas: DNS aliases, a load balancer's name for
// it, the name a monitoring system gives it.
const AliasTag = "aliases"

// Resolution is what a host reference resolved to.
type Resolution struct {
	// ResourceID is the host resource of the agent that runs on the host
	// ("" when none does).
	ResourceID string
	// AgentID is that agent.
	AgentID string
	// By says which of the host's names matched: "id", "agent", "hostname",
	// "short name", "fqdn", "ip", "instance-id", "alias", "loopback port".
	By string
	// Reason says why a reference did not resolve.
	Reason string
}

// Resolved reports whether the reference names a host an agent runs on.
func (r Resolution) Resolved() bool { return r.ResourceID != "" }

// hostIndex is a tenant's agent hosts under every name they go by.
type hostIndex struct {
	hosts []agentHost
}

// agentHost is one agent's host and its names.
type agentHost struct {
	resourceID, agentID string
	// names maps a lower-case name (hostname, FQDN, short name, IP,
	// instance ID, alias) to how it was learnt.
	names map[string]string
	// ports are the TCP ports the host listens on (its exporters).
	ports []int
}

// HostReader is what host resolution reads: the tenant's host resources.
type HostReader interface {
	GetResource(ctx context.Context, tenantID, id string) (store.Resource, error)
	ListResources(ctx context.Context, tenantID string, f store.ResourceFilter, page store.Page) ([]store.Resource, string, error)
}

// ResolveHost matches a loose host reference — a resource or agent ID, a
// hostname, FQDN or short name, an IP, an EC2 instance ID, an alias, with
// or without a port — to the host of one of the tenant's agents. A
// loopback address with a port ("127.0.0.1:9100", Prometheus's label for a
// target on its own machine) resolves to the one agent host that listens
// on that port. Two hosts matching is no match (no guessing which); so is
// none: Reason says which.
func ResolveHost(ctx context.Context, r HostReader, tenant, ref string) (Resolution, error) {
	return (*Resolver)(nil).Resolve(ctx, r, tenant, ref)
}

// Resolver is ResolveHost with each tenant's index of agent hosts (read
// only when a reference is not an ID or an exact hostname) kept for TTL:
// reading every host resource with its inventory for each alert naming an
// unknown host would cost a storm of such alerts dearly. A host enrolled
// within the TTL is found by its hostname at once, by its other names once
// the index is read again. A nil *Resolver keeps nothing.
type Resolver struct {
	TTL time.Duration
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedIndex
}

type cachedIndex struct {
	idx *hostIndex
	at  time.Time
}

// maxCachedTenants bounds the tenants a Resolver keeps an index for.
const maxCachedTenants = 1000

func (rv *Resolver) index(ctx context.Context, r HostReader, tenant string) (*hostIndex, error) {
	if rv == nil || rv.TTL <= 0 {
		return loadHostIndex(ctx, r, tenant)
	}
	now := time.Now
	if rv.Now != nil {
		now = rv.Now
	}
	rv.mu.Lock()
	c, ok := rv.cache[tenant]
	rv.mu.Unlock()
	if ok && now().Sub(c.at) < rv.TTL {
		return c.idx, nil
	}
	idx, err := loadHostIndex(ctx, r, tenant)
	if err != nil {
		return nil, err
	}
	rv.mu.Lock()
	if rv.cache == nil || len(rv.cache) >= maxCachedTenants {
		rv.cache = map[string]cachedIndex{}
	}
	rv.cache[tenant] = cachedIndex{idx: idx, at: now()}
	rv.mu.Unlock()
	return idx, nil
}

// Resolve is ResolveHost through the resolver's cache.
func (rv *Resolver) Resolve(ctx context.Context, r HostReader, tenant, ref string) (Resolution, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Resolution{Reason: "no host named"}, nil
	}
	// An ID: the agent's own host resource, or an agent.
	if id, ok := AgentOfTarget(ref); ok {
		resID := "res_" + strings.TrimPrefix(id, "agt_")
		res, err := r.GetResource(ctx, tenant, resID)
		switch {
		case err == nil && res.AgentID != "":
			by := "id"
			if strings.HasPrefix(ref, "agt_") {
				by = "agent"
			}
			return Resolution{ResourceID: res.ID, AgentID: res.AgentID, By: by}, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return Resolution{}, err
		}
	}
	host, port := splitPort(strings.ToLower(ref))
	if host == "" {
		return Resolution{Reason: fmt.Sprintf("%q names no host", ref)}, nil
	}
	// The common case first: the agent's hostname, one indexed query.
	if rs, _, err := r.ListResources(ctx, tenant, store.ResourceFilter{Type: ResourceTypeHost, Name: host}, store.Page{Limit: 2}); err != nil {
		return Resolution{}, err
	} else if len(rs) == 1 && rs[0].AgentID != "" {
		return Resolution{ResourceID: rs[0].ID, AgentID: rs[0].AgentID, By: "hostname"}, nil
	}
	idx, err := rv.index(ctx, r, tenant)
	if err != nil {
		return Resolution{}, err
	}
	return idx.resolve(ref, host, port), nil
}

// splitPort separates a port from a host reference, strips a URL's scheme
// and path and IPv6 brackets.
func splitPort(ref string) (host string, port int) {
	h := ref
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
		if j := strings.IndexAny(h, "/?#"); j >= 0 {
			h = h[:j]
		}
	}
	if hp, p, err := net.SplitHostPort(h); err == nil {
		h = hp
		port, _ = strconv.Atoi(p)
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	if h == "" || len(h) > 253 || strings.ContainsAny(h, " /\\@,;\"'") {
		return "", 0
	}
	return h, port
}

func isLoopback(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

func (idx *hostIndex) resolve(ref, host string, port int) Resolution {
	var found []agentHost
	by := ""
	if isLoopback(host) {
		if port == 0 {
			return Resolution{Reason: fmt.Sprintf("%q is a loopback address without a port: it could be any host", ref)}
		}
		for _, h := range idx.hosts {
			if slices.Contains(h.ports, port) {
				found = append(found, h)
			}
		}
		by = "loopback port"
	} else {
		if ip := net.ParseIP(host); ip != nil {
			host = ip.String()
		}
		for _, h := range idx.hosts {
			if how, ok := h.names[host]; ok {
				found, by = append(found, h), how
			}
		}
		// A short name matches one host's FQDN, an FQDN one host's short
		// name (the hostname an agent reports is often either).
		if short, _, ok := strings.Cut(host, "."); len(found) == 0 && ok && net.ParseIP(host) == nil {
			for _, h := range idx.hosts {
				if h.names[short] == "hostname" || h.names[short] == "short name" {
					found, by = append(found, h), "short name"
				}
			}
		}
	}
	switch len(found) {
	case 1:
		return Resolution{ResourceID: found[0].resourceID, AgentID: found[0].agentID, By: by}
	case 0:
		if by == "loopback port" {
			return Resolution{Reason: fmt.Sprintf("%q: no agent's host listens on port %d", ref, port)}
		}
		return Resolution{Reason: fmt.Sprintf("%q is not the hostname, an address, the instance ID or an alias of any enrolled agent's host", ref)}
	}
	ids := make([]string, len(found))
	for i, h := range found {
		ids[i] = h.resourceID
	}
	return Resolution{Reason: fmt.Sprintf("%q matches %d agents' hosts (%s): not guessing which", ref, len(found), strings.Join(ids, ", "))}
}

// loadHostIndex reads the tenant's agent hosts and their names.
func loadHostIndex(ctx context.Context, r HostReader, tenant string) (*hostIndex, error) {
	idx := &hostIndex{}
	for res, err := range pages(func(p store.Page) ([]store.Resource, string, error) {
		return r.ListResources(ctx, tenant, store.ResourceFilter{Type: ResourceTypeHost}, p)
	}) {
		if err != nil {
			return nil, err
		}
		if res.AgentID == "" {
			continue
		}
		idx.hosts = append(idx.hosts, hostOf(res))
	}
	return idx, nil
}

// hostOf collects a host resource's names: its hostname (and short name),
// the addresses its inventory reports, its cloud instance ID,
// its name tags and aliases, and the ports it listens on.
func hostOf(res store.Resource) agentHost {
	h := agentHost{resourceID: res.ID, agentID: res.AgentID, names: map[string]string{}}
	add := func(name, how string) {
		name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
		if name == "" || isLoopback(name) {
			return
		}
		if ip := net.ParseIP(name); ip != nil {
			name, how = ip.String(), "ip"
		}
		if _, ok := h.names[name]; !ok {
			h.names[name] = how
		}
		if short, _, ok := strings.Cut(name, "."); ok && net.ParseIP(name) == nil {
			if _, ok := h.names[short]; !ok {
				h.names[short] = "short name"
			}
		}
	}
	add(res.Name, "hostname")
	var cfg struct {
		Host struct {
			Hostname string `json:"hostname"`
		} `json:"host"`
		Network struct {
			IPs       []string `json:"ips"`
			Listening []int    `json:"listening"`
		} `json:"network"`
		Cloud struct {
			InstanceID string `json:"instance_id"`
		} `json:"cloud"`
	}
	_ = json.Unmarshal(res.Config, &cfg)
	add(cfg.Host.Hostname, "hostname")
	for _, ip := range cfg.Network.IPs {
		add(ip, "ip")
	}
	add(cfg.Cloud.InstanceID, "instance-id")
	for _, k := range hostTags {
		add(res.Tags[k], "alias")
	}
	for _, a := range strings.Split(res.Tags[AliasTag], ",") {
		add(a, "alias")
	}
	h.ports = cfg.Network.Listening
	return h
}
