package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Errors the fleet returns for the API to map.
var (
	// ErrUnauthenticated: no, a malformed, an unknown or a revoked agent
	// credential, or an invalid, used or expired enrollment token (401).
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrInvalid wraps a request that is wrong in a way the message
	// explains (400).
	ErrInvalid = errors.New("invalid request")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Agent is an authenticated agent.
type Agent struct {
	ID       string
	TenantID string
}

// Actor names the agent in audit records.
func (a Agent) Actor() string { return "agent:" + a.ID }

// newSecret returns a random secret with prefix instead of auth's "fw_".
func newSecret(prefix string) string {
	return prefix + strings.TrimPrefix(auth.NewSecret(), auth.SecretPrefix)
}

// Tag limits: what one agent or token may carry.
const (
	maxTags      = 64
	maxTagKey    = 128
	maxTagValue  = 256
	maxHostField = 255
)

var tagKey = regexp.MustCompile(`^[A-Za-z0-9_.:/-]+$`)

// CheckTags validates tags (from a token request or an agent).
func CheckTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return invalidf("%d tags; at most %d", len(tags), maxTags)
	}
	for k, v := range tags {
		if len(k) == 0 || len(k) > maxTagKey || !tagKey.MatchString(k) {
			return invalidf("tag key %q must be 1-%d characters of letters, digits and _ . : / -", k, maxTagKey)
		}
		if len(v) > maxTagValue {
			return invalidf("tag %q: value longer than %d characters", k, maxTagValue)
		}
	}
	return nil
}

// NewEnrollToken describes an enrollment token to issue.
type NewEnrollToken struct {
	TenantID  string
	CreatedBy string
	// TTL is the token's lifetime (0: the default).
	TTL  time.Duration
	Tags map[string]string
}

// CreateEnrollToken stores a one-time enrollment token in tx and returns
// it with its secret, which is never retrievable again.
func (s *Service) CreateEnrollToken(ctx context.Context, tx store.Tx, n NewEnrollToken) (store.EnrollToken, string, error) {
	if n.TTL == 0 {
		n.TTL = s.opts.EnrollTTL
	}
	if n.TTL < time.Minute || n.TTL > s.opts.MaxEnrollTTL {
		return store.EnrollToken{}, "", invalidf("expires_in %s must be from 1m to %s", n.TTL, s.opts.MaxEnrollTTL)
	}
	if err := CheckTags(n.Tags); err != nil {
		return store.EnrollToken{}, "", err
	}
	now := s.now()
	secret := newSecret(wire.EnrollTokenPrefix)
	t := store.EnrollToken{ID: store.NewID("etk", now), TenantID: n.TenantID, Prefix: auth.Prefix(secret), Tags: n.Tags,
		CreatedAt: now, CreatedBy: n.CreatedBy, ExpiresAt: now.Add(n.TTL)}
	if err := tx.CreateEnrollToken(ctx, t, auth.HashSecret(secret)); err != nil {
		return store.EnrollToken{}, "", err
	}
	return t, secret, nil
}

func checkHost(h wire.Host) error {
	for name, v := range map[string]string{"hostname": h.Hostname, "version": h.Version, "os": h.OS, "arch": h.Arch} {
		if len(v) > maxHostField {
			return invalidf("%s is longer than %d characters", name, maxHostField)
		}
	}
	if strings.TrimSpace(h.Hostname) == "" {
		return invalidf("hostname is required")
	}
	return nil
}

// Enroll trades a valid, unused, unexpired enrollment token for a new
// agent and its credential. The token is used up in the same transaction
// that creates the agent, so it enrolls exactly one.
func (s *Service) Enroll(ctx context.Context, req wire.EnrollRequest) (wire.EnrollResponse, error) {
	if err := checkHost(req.Host); err != nil {
		return wire.EnrollResponse{}, err
	}
	if err := CheckTags(req.Tags); err != nil {
		return wire.EnrollResponse{}, err
	}
	if !strings.HasPrefix(req.Token, wire.EnrollTokenPrefix) {
		return wire.EnrollResponse{}, fmt.Errorf("%w: not an enrollment token", ErrUnauthenticated)
	}
	now := s.now()
	var resp wire.EnrollResponse
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		et, err := tx.EnrollTokenByHash(ctx, auth.HashSecret(req.Token))
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: unknown enrollment token", ErrUnauthenticated)
		}
		if err != nil {
			return err
		}
		if et.UsedAt != nil {
			return fmt.Errorf("%w: enrollment token already used", ErrUnauthenticated)
		}
		if !now.Before(et.ExpiresAt) {
			return fmt.Errorf("%w: enrollment token expired", ErrUnauthenticated)
		}
		id := store.NewID("agt", now)
		if err := tx.UseEnrollToken(ctx, et.ID, id, now); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: enrollment token already used", ErrUnauthenticated)
		} else if err != nil {
			return err
		}
		tags := map[string]string{}
		for k, v := range req.Tags {
			tags[k] = v
		}
		for k, v := range et.Tags {
			tags[k] = v
		}
		secret := newSecret(wire.AgentSecretPrefix)
		a := store.Agent{ID: id, TenantID: et.TenantID, Hostname: req.Hostname, Version: req.Version, OS: req.OS, Arch: req.Arch,
			Tags: tags, EnrollTokenID: et.ID, ResourceID: resourceID(id), EnrolledAt: now}
		if err := tx.CreateAgent(ctx, a, auth.HashSecret(secret)); err != nil {
			return err
		}
		// The host resource exists from enrollment; inventory fills it.
		if err := tx.PutResource(ctx, hostResource(a, nil, now)); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, et.TenantID, now, audit.Entry{
			Actor: "agent:" + id, Action: "agent.enroll", Target: "agent/" + id,
			Detail: map[string]any{"hostname": a.Hostname, "version": a.Version, "enroll_token": et.ID, "tags": tags},
		}); err != nil {
			return err
		}
		resp = wire.EnrollResponse{AgentID: id, Secret: secret, TenantID: et.TenantID, ResourceID: a.ResourceID}
		if s.opts.UpdateKey != nil {
			resp.UpdateKey = base64.StdEncoding.EncodeToString(s.opts.UpdateKey.Public().(ed25519.PublicKey))
		}
		return nil
	})
	if err != nil {
		return wire.EnrollResponse{}, err
	}
	s.log.Info("agent enrolled", "agent", resp.AgentID, "tenant", resp.TenantID, "hostname", req.Hostname)
	return resp, nil
}

// ParseCredential reads "Agent <id>:<secret>".
func ParseCredential(header string) (id, secret string, ok bool) {
	scheme, rest, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, wire.AuthScheme) {
		return "", "", false
	}
	id, secret, found = strings.Cut(strings.TrimSpace(rest), ":")
	if !found || id == "" || len(id) > 64 || !strings.HasPrefix(secret, wire.AgentSecretPrefix) {
		return "", "", false
	}
	return id, secret, true
}

// Authenticate checks an agent's Authorization header. The credential is
// looked up on every call, so a revocation takes effect at once on every
// replica.
func (s *Service) Authenticate(ctx context.Context, header string) (Agent, error) {
	id, secret, ok := ParseCredential(header)
	if !ok {
		return Agent{}, fmt.Errorf("%w: missing agent credential (Authorization: Agent ID:SECRET)", ErrUnauthenticated)
	}
	c, err := s.st.AgentCredential(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Agent{}, fmt.Errorf("%w: invalid agent credential", ErrUnauthenticated)
	}
	if err != nil {
		return Agent{}, err
	}
	if subtle.ConstantTimeCompare([]byte(c.SecretHash), []byte(auth.HashSecret(secret))) != 1 {
		return Agent{}, fmt.Errorf("%w: invalid agent credential", ErrUnauthenticated)
	}
	if c.RevokedAt != nil {
		return Agent{}, fmt.Errorf("%w: agent credential revoked", ErrUnauthenticated)
	}
	return Agent{ID: id, TenantID: c.TenantID}, nil
}

// Revoke revokes an agent's credential in tx; call Revoked after commit so
// its waiting long-poll ends now.
func (s *Service) Revoke(ctx context.Context, tx store.Tx, tenant, id string) error {
	return tx.RevokeAgent(ctx, tenant, id, s.now())
}

// Revoked wakes agent's waiting long-polls, which then find the credential
// revoked.
func (s *Service) Revoked(id string) { s.hub.wakeAgent(id) }

// resourceID is the host resource of an agent: stable, derived from the
// agent ID.
func resourceID(agentID string) string { return "res_" + strings.TrimPrefix(agentID, "agt_") }

// Bundle is the enrollment bundle of token t (with its secret) for agents
// reaching the server at server: the CA to pin when the server has one
// (Options.CACert) and the token's tags.
func (s *Service) Bundle(server string, t store.EnrollToken, secret string) wire.Bundle {
	return wire.Bundle{Format: wire.BundleFormat, Server: strings.TrimRight(server, "/"), CACert: string(s.opts.CACert),
		Token: secret, Tenant: t.TenantID, Tags: t.Tags, ExpiresAt: t.ExpiresAt}
}
