package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// An agent's identity is fixed at enrollment: its hostname is the one it
// enrolled with (its ID, not a name it reports, is what commands target).
// A heartbeat or inventory claiming another hostname is refused, and raises
// one "agent identity conflict" security event per agent and claimed name:
// a rogue or cloned agent trying to pass as another host.

// ErrIdentity is returned for a report that claims another host's identity.
var ErrIdentity = errors.New("agent identity conflict")

// IdentityTitle starts the title of the conflict event.
const IdentityTitle = "Agent identity conflict"

// IdentityFingerprint is the fingerprint of agent's identity-conflict event.
func IdentityFingerprint(agentID string) string { return event.AgentIdentityPrefix + agentID }

// enrolledIDs caches enrolled hostnames by agent ID (they do not change for
// an agent ID) and remembers which conflicts were raised, so a rogue agent
// retrying every interval costs no event per attempt.
type enrolledIDs struct {
	mu     sync.Mutex
	hosts  map[string]string
	raised map[string]bool // agentID + "\x00" + claimed name
}

// maxEnrolledIDs bounds the caches; past it they start over.
const maxEnrolledIDs = 100_000

func newEnrolledIDs() *enrolledIDs {
	return &enrolledIDs{hosts: map[string]string{}, raised: map[string]bool{}}
}

// enrolledHost returns the hostname agent enrolled with.
func (s *Service) enrolledHost(ctx context.Context, a Agent) (store.Agent, error) {
	s.ids.mu.Lock()
	h, ok := s.ids.hosts[a.ID]
	s.ids.mu.Unlock()
	if ok {
		return store.Agent{ID: a.ID, TenantID: a.TenantID, Hostname: h}, nil
	}
	ag, err := s.st.GetAgent(ctx, a.TenantID, a.ID)
	if err != nil {
		return ag, err
	}
	s.ids.mu.Lock()
	if len(s.ids.hosts) >= maxEnrolledIDs {
		s.ids.hosts = map[string]string{}
	}
	s.ids.hosts[a.ID] = ag.Hostname
	s.ids.mu.Unlock()
	return ag, nil
}

// checkIdentity refuses a report of agent ag claiming hostname claimed
// (empty claims nothing), raising the conflict event once.
func (s *Service) checkIdentity(ctx context.Context, ag store.Agent, claimed, what string) error {
	claimed = strings.TrimSpace(claimed)
	if claimed == "" || ag.Hostname == "" || strings.EqualFold(claimed, ag.Hostname) {
		return nil
	}
	key := ag.ID + "\x00" + strings.ToLower(claimed)
	s.ids.mu.Lock()
	first := !s.ids.raised[key]
	if first {
		if len(s.ids.raised) >= maxEnrolledIDs {
			s.ids.raised = map[string]bool{}
		}
		s.ids.raised[key] = true
	}
	s.ids.mu.Unlock()
	s.log.Warn("agent report refused: identity conflict", "agent", ag.ID, "tenant", ag.TenantID, "enrolled", ag.Hostname,
		"claimed", clipName(claimed), "report", what)
	if first && s.opts.Sink != nil {
		ev := IdentityEvent(ag, claimed, what, s.now())
		if err := s.opts.Sink.Submit(ctx, ag.TenantID, ev); err != nil {
			s.ids.mu.Lock()
			delete(s.ids.raised, key) // raise it with the next attempt
			s.ids.mu.Unlock()
			return fmt.Errorf("submit %s: %w", ev.Fingerprint, err)
		}
		s.m.events.WithLabelValues("agent-identity-conflict", string(ev.Status)).Inc()
	}
	return fmt.Errorf("%w: agent %s enrolled as %q; a %s claiming %q is refused (an agent's identity is fixed at enrollment: enroll the host anew)",
		ErrIdentity, ag.ID, ag.Hostname, what, clipName(claimed))
}

// IdentityEvent is the security event of agent a claiming hostname claimed.
func IdentityEvent(a store.Agent, claimed, what string, at time.Time) event.Event {
	return event.Event{
		Source: EventSource, Kind: event.KindFinding, Severity: event.SeverityHigh, Status: event.StatusFiring,
		Title: IdentityTitle + ": agent " + a.ID + " of " + a.Hostname + " claims " + clipName(claimed),
		Description: fmt.Sprintf("Agent %s enrolled as host %s sent a %s claiming to be %s. The report was refused. "+
			"A cloned or compromised agent may be trying to pass as another host: check the machine, then revoke the agent "+
			"(flywheel agent revoke %s) or, if the host was renamed, enroll it anew.", a.ID, a.Hostname, what, clipName(claimed), a.ID),
		Resources:   []event.ResourceRef{{Type: ResourceTypeHost, ID: a.Hostname}},
		Labels:      map[string]string{"alertname": "AgentIdentityConflict", "agent": a.ID, "hostname": a.Hostname, "claimed_hostname": clipName(claimed)},
		OccurredAt:  at,
		Fingerprint: IdentityFingerprint(a.ID),
	}
}

// inventoryHostname is the hostname an inventory's host section claims.
func inventoryHostname(sections map[string]json.RawMessage) string {
	raw, ok := sections["host"]
	if !ok {
		return ""
	}
	var h struct {
		Hostname string `json:"hostname"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Hostname
}

// clipName bounds a claimed name for messages and events, as valid UTF-8.
func clipName(s string) string {
	if len(s) > maxHostField {
		s = s[:maxHostField]
	}
	return strings.ToValidUTF8(s, "")
}
