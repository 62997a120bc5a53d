package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ResourceTypeHost is the resource type of an agent's host.
const ResourceTypeHost = "host"

// Bounds on an inventory report.
const (
	maxSections    = 64
	maxInventory   = 8 << 20
	maxSectionName = 64
	// maxInventoryDepth bounds the nesting of a section (objects and
	// arrays): real sections are a few levels deep; a deeply nested one
	// would cost every later reader (API, UI tables) its depth in stack.
	maxInventoryDepth = 16
)

var sectionName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ErrNeedFull is returned for a diff when the server holds no full
// inventory to apply it to: the agent sends a full one (409).
var ErrNeedFull = errors.New("no inventory to apply a diff to; send a full inventory")

// Inventory stores an agent's inventory report as the configuration of its
// host resource: a full report replaces the sections, a diff replaces the
// sections it names and drops the removed ones.
func (s *Service) Inventory(ctx context.Context, a Agent, inv wire.Inventory) error {
	if len(inv.Sections) > maxSections || len(inv.Removed) > maxSections {
		return invalidf("more than %d sections", maxSections)
	}
	size := 0
	for name, v := range inv.Sections {
		if len(name) > maxSectionName || !sectionName.MatchString(name) {
			return invalidf("section name %q must be lower-case letters, digits and _", name)
		}
		if !json.Valid(v) {
			return invalidf("section %q is not valid JSON", name)
		}
		if !utf8.Valid(v) {
			// Stored as sent and served raw (GET /api/v1/resources):
			// JSON responses never carry invalid UTF-8.
			return invalidf("section %q is not valid UTF-8", name)
		}
		if d := jsonDepth(v); d > maxInventoryDepth {
			return invalidf("section %q nests %d levels deep, more than %d", name, d, maxInventoryDepth)
		}
		size += len(v)
	}
	if size > maxInventory {
		return invalidf("inventory of %d bytes is larger than %d", size, maxInventory)
	}
	now := s.now()
	// Read, derive and raise events first, write last: if an event cannot
	// be submitted the report fails and the agent sends it again, so a
	// "service stopped" transition is never lost.
	ag, err := s.st.GetAgent(ctx, a.TenantID, a.ID)
	if err != nil {
		return err
	}
	if err := s.checkIdentity(ctx, ag, inventoryHostname(inv.Sections), "inventory"); err != nil {
		return err
	}
	cur, created, err := s.hostConfig(ctx, ag)
	if err != nil {
		return err
	}
	if !inv.Full && cur == nil {
		return ErrNeedFull
	}
	next := map[string]json.RawMessage{}
	if !inv.Full {
		maps.Copy(next, cur)
		for _, r := range inv.Removed {
			delete(next, r)
		}
	}
	maps.Copy(next, inv.Sections)
	if _, changed := inv.Sections["services"]; changed || inv.Full {
		for _, ev := range serviceEvents(ag, s.opts.RequiredServices, cur, next, now) {
			if s.opts.Sink == nil {
				break
			}
			if err := s.opts.Sink.Submit(ctx, ag.TenantID, ev); err != nil {
				return fmt.Errorf("submit %s: %w", ev.Fingerprint, err)
			}
			s.m.events.WithLabelValues("required-service-stopped", string(ev.Status)).Inc()
		}
	}
	config, err := json.Marshal(next)
	if err != nil {
		return err
	}
	r := hostResource(ag, config, now)
	if !created.IsZero() {
		r.CreatedAt = created
	}
	return s.st.InTx(ctx, func(tx store.Tx) error { return tx.PutResource(ctx, r) })
}

// hostConfig returns the inventory sections stored for agent's host (nil
// when there are none) and when the resource was created.
func (s *Service) hostConfig(ctx context.Context, ag store.Agent) (map[string]json.RawMessage, time.Time, error) {
	res, err := s.st.GetResource(ctx, ag.TenantID, ag.ResourceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(res.Config) == 0 {
		return nil, res.CreatedAt, nil
	}
	var cur map[string]json.RawMessage
	if err := json.Unmarshal(res.Config, &cur); err != nil {
		return nil, res.CreatedAt, fmt.Errorf("resource %s: stored config: %w", res.ID, err)
	}
	if len(cur) == 0 {
		cur = nil
	}
	return cur, res.CreatedAt, nil
}

// hostResource is agent a's host resource with configuration config.
func hostResource(a store.Agent, config json.RawMessage, now time.Time) store.Resource {
	tags := map[string]string{}
	maps.Copy(tags, a.Tags)
	tags["agent"] = a.ID
	return store.Resource{ID: a.ResourceID, TenantID: a.TenantID, Type: ResourceTypeHost, Name: a.Hostname, Tags: tags,
		Config: config, AgentID: a.ID, CreatedAt: now, UpdatedAt: now}
}

// jsonDepth is how deeply valid JSON nests objects and arrays (a scalar:
// 0, {} or []: 1).
func jsonDepth(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
