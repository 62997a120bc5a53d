package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Enrollment tokens.

const enrollTokenCols = "id, tenant_id, prefix, tags, created_at, created_by, expires_at, used_at, used_by"

func scanEnrollToken(r Row) (store.EnrollToken, error) {
	var t store.EnrollToken
	var tags string
	var created, expires, used int64
	if err := r.Scan(&t.ID, &t.TenantID, &t.Prefix, &tags, &created, &t.CreatedBy, &expires, &used, &t.UsedBy); err != nil {
		return t, err
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromTS(created), fromTS(expires), fromTSPtr(used)
	var err error
	if t.Tags, err = unmarshalMap(tags); err != nil {
		return t, fmt.Errorf("enrollment token %s: tags: %w", t.ID, err)
	}
	return t, nil
}

func (r reader) EnrollTokenByHash(ctx context.Context, hash string) (store.EnrollToken, error) {
	t, err := scanEnrollToken(r.q.QueryRow(ctx, "SELECT "+enrollTokenCols+" FROM agent_enroll_tokens WHERE secret_hash = $1", hash))
	return t, r.notFound(err, "enrollment token")
}

func (r reader) ListEnrollTokens(ctx context.Context, tenantID string, page store.Page) ([]store.EnrollToken, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	return listPage(ctx, r.q, enrollTokenCols, "agent_enroll_tokens", "id", w, page,
		func(rows Rows) (store.EnrollToken, error) { return scanEnrollToken(rows) },
		func(t store.EnrollToken) string { return t.ID })
}

func (t *tx) CreateEnrollToken(ctx context.Context, et store.EnrollToken, hash string) error {
	tags, err := marshalMap(et.Tags)
	if err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, "INSERT INTO agent_enroll_tokens ("+enrollTokenCols+", secret_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
		et.ID, et.TenantID, et.Prefix, tags, ts(et.CreatedAt), et.CreatedBy, ts(et.ExpiresAt), tsPtr(et.UsedAt), et.UsedBy, hash)
	return conflict(t.b, err, "enrollment token "+et.ID)
}

func (t *tx) UseEnrollToken(ctx context.Context, id, agentID string, at time.Time) error {
	n, err := t.h.Exec(ctx, "UPDATE agent_enroll_tokens SET used_at = $1, used_by = $2 WHERE id = $3 AND used_at = 0", ts(at), agentID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("unused enrollment token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// Agents.

const agentCols = "id, tenant_id, hostname, version, os, arch, tags, enroll_token_id, resource_id, enrolled_at, last_seen, started_at, interval_us, stale_after, not_reporting_since, revoked_at, update_status"

func scanAgent(r Row) (store.Agent, error) {
	var a store.Agent
	var tags string
	var enrolled, seen, started, interval, stale, notReporting, revoked int64
	if err := r.Scan(&a.ID, &a.TenantID, &a.Hostname, &a.Version, &a.OS, &a.Arch, &tags, &a.EnrollTokenID, &a.ResourceID,
		&enrolled, &seen, &started, &interval, &stale, &notReporting, &revoked, &a.Update); err != nil {
		return a, err
	}
	a.EnrolledAt, a.LastSeenAt, a.StartedAt, a.StaleAfter = fromTS(enrolled), fromTSPtr(seen), fromTSPtr(started), fromTSPtr(stale)
	a.Interval = time.Duration(interval) * time.Microsecond
	a.NotReportingSince, a.RevokedAt = fromTSPtr(notReporting), fromTSPtr(revoked)
	var err error
	if a.Tags, err = unmarshalMap(tags); err != nil {
		return a, fmt.Errorf("agent %s: tags: %w", a.ID, err)
	}
	return a, nil
}

func (r reader) GetAgent(ctx context.Context, tenantID, id string) (store.Agent, error) {
	a, err := scanAgent(r.q.QueryRow(ctx, "SELECT "+agentCols+" FROM agents WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return a, r.notFound(err, "agent "+id)
}

func (r reader) ListAgents(ctx context.Context, tenantID string, page store.Page) ([]store.Agent, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	return listPage(ctx, r.q, agentCols, "agents", "id", w, page,
		func(rows Rows) (store.Agent, error) { return scanAgent(rows) },
		func(a store.Agent) string { return a.ID })
}

func (r reader) AgentCredential(ctx context.Context, id string) (store.AgentCredential, error) {
	c := store.AgentCredential{AgentID: id}
	var revoked int64
	err := r.q.QueryRow(ctx, "SELECT tenant_id, secret_hash, revoked_at FROM agents WHERE id = $1", id).Scan(&c.TenantID, &c.SecretHash, &revoked)
	c.RevokedAt = fromTSPtr(revoked)
	return c, r.notFound(err, "agent "+id)
}

func (r reader) AgentsStaleAt(ctx context.Context, at time.Time, limit int) ([]store.Agent, error) {
	return deflectionRows(ctx, r.q, fmt.Sprintf("SELECT %s FROM agents WHERE not_reporting_since = 0 AND stale_after > 0 AND stale_after < $1 AND revoked_at = 0 ORDER BY stale_after LIMIT %d", agentCols, limit),
		func(rows Rows) (store.Agent, error) { return scanAgent(rows) }, ts(at))
}

func (r reader) AgentsReturnedAt(ctx context.Context, at time.Time, limit int) ([]store.Agent, error) {
	return deflectionRows(ctx, r.q, fmt.Sprintf("SELECT %s FROM agents WHERE not_reporting_since > 0 AND (stale_after >= $1 OR revoked_at > 0) ORDER BY stale_after LIMIT %d", agentCols, limit),
		func(rows Rows) (store.Agent, error) { return scanAgent(rows) }, ts(at))
}

func (t *tx) CreateAgent(ctx context.Context, a store.Agent, secretHash string) error {
	tags, err := marshalMap(a.Tags)
	if err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, "INSERT INTO agents ("+agentCols+", secret_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
		a.ID, a.TenantID, a.Hostname, a.Version, a.OS, a.Arch, tags, a.EnrollTokenID, a.ResourceID, ts(a.EnrolledAt),
		tsPtr(a.LastSeenAt), tsPtr(a.StartedAt), a.Interval.Microseconds(), tsPtr(a.StaleAfter), tsPtr(a.NotReportingSince),
		tsPtr(a.RevokedAt), a.Update, secretHash)
	return conflict(t.b, err, "agent "+a.ID)
}

func (t *tx) RevokeAgent(ctx context.Context, tenantID, id string, at time.Time) error {
	n, err := t.h.Exec(ctx, "UPDATE agents SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at = 0", ts(at), tenantID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("agent %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func (t *tx) RecordHeartbeats(ctx context.Context, hbs []store.AgentHeartbeat) error {
	for _, hb := range hbs {
		if _, err := t.h.Exec(ctx, `UPDATE agents SET last_seen = $1, hostname = $2, version = $3, os = $4, arch = $5,
			started_at = $6, interval_us = $7, stale_after = $8 WHERE id = $9 AND last_seen <= $1`,
			ts(hb.At), hb.Hostname, hb.Version, hb.OS, hb.Arch, ts(hb.StartedAt), hb.Interval.Microseconds(), ts(hb.StaleAfter), hb.AgentID); err != nil {
			return fmt.Errorf("heartbeat of agent %s: %w", hb.AgentID, err)
		}
	}
	return nil
}

func (t *tx) SetAgentReporting(ctx context.Context, tenantID, id string, reporting bool, since time.Time) error {
	v := ts(since)
	if reporting {
		v = 0
	}
	n, err := t.h.Exec(ctx, "UPDATE agents SET not_reporting_since = $1 WHERE tenant_id = $2 AND id = $3", v, tenantID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("agent %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func (t *tx) SetAgentUpdate(ctx context.Context, tenantID, id, status string) error {
	n, err := t.h.Exec(ctx, "UPDATE agents SET update_status = $1 WHERE tenant_id = $2 AND id = $3", status, tenantID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("agent %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// Commands.

const commandCols = "id, tenant_id, agent_id, spec, status, exit_code, has_exit_code, error, output, output_bytes, truncated, cancel_requested, created_at, created_by, started_at, ended_at, deadline"

func scanCommand(r Row) (store.AgentCommand, error) {
	var c store.AgentCommand
	var spec string
	var exit int64
	var hasExit, truncated, cancel int
	var created, started, ended, deadline int64
	if err := r.Scan(&c.ID, &c.TenantID, &c.AgentID, &spec, &c.Status, &exit, &hasExit, &c.Error, &c.Output, &c.OutputBytes,
		&truncated, &cancel, &created, &c.CreatedBy, &started, &ended, &deadline); err != nil {
		return c, err
	}
	if hasExit != 0 {
		code := int(exit)
		c.ExitCode = &code
	}
	c.Truncated, c.CancelRequested = truncated != 0, cancel != 0
	c.CreatedAt, c.StartedAt, c.EndedAt, c.Deadline = fromTS(created), fromTSPtr(started), fromTSPtr(ended), fromTS(deadline)
	if err := json.Unmarshal([]byte(spec), &c.Spec); err != nil {
		return c, fmt.Errorf("command %s: spec: %w", c.ID, err)
	}
	return c, nil
}

func (r reader) GetAgentCommand(ctx context.Context, tenantID, id string) (store.AgentCommand, error) {
	c, err := scanCommand(r.q.QueryRow(ctx, "SELECT "+commandCols+" FROM agent_commands WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return c, r.notFound(err, "command "+id)
}

func (r reader) ListAgentCommands(ctx context.Context, tenantID string, f store.AgentCommandFilter, page store.Page) ([]store.AgentCommand, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	if f.AgentID != "" {
		w.add("agent_id = ?", f.AgentID)
	}
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	return listPage(ctx, r.q, commandCols, "agent_commands", "id", w, page,
		func(rows Rows) (store.AgentCommand, error) { return scanCommand(rows) },
		func(c store.AgentCommand) string { return c.ID })
}

func (r reader) PendingAgentCommands(ctx context.Context, agentID string) (queued, cancels bool, err error) {
	rows, err := r.q.Query(ctx, `SELECT status, cancel_requested FROM agent_commands
		WHERE agent_id = $1 AND (status = 'queued' OR (status = 'running' AND cancel_requested = 1)) LIMIT 2`, agentID)
	if err != nil {
		return false, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var cancel int
		if err := rows.Scan(&status, &cancel); err != nil {
			return false, false, err
		}
		if status == store.CommandQueued {
			queued = true
		} else {
			cancels = true
		}
	}
	return queued, cancels, rows.Err()
}

func (r reader) CancelRequestedCommands(ctx context.Context, agentID string) ([]string, error) {
	return deflectionRows(ctx, r.q, "SELECT id FROM agent_commands WHERE agent_id = $1 AND status = 'running' AND cancel_requested = 1 ORDER BY id",
		func(rows Rows) (string, error) {
			var id string
			return id, rows.Scan(&id)
		}, agentID)
}

func (t *tx) CreateAgentCommand(ctx context.Context, c store.AgentCommand) error {
	spec, err := json.Marshal(c.Spec)
	if err != nil {
		return err
	}
	exit, hasExit := 0, 0
	if c.ExitCode != nil {
		exit, hasExit = *c.ExitCode, 1
	}
	_, err = t.h.Exec(ctx, "INSERT INTO agent_commands ("+commandCols+", timeout_us, output_kept) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
		c.ID, c.TenantID, c.AgentID, string(spec), c.Status, exit, hasExit, c.Error, cleanText(c.Output), c.OutputBytes,
		boolInt(c.Truncated), boolInt(c.CancelRequested), ts(c.CreatedAt), c.CreatedBy, tsPtr(c.StartedAt), tsPtr(c.EndedAt),
		ts(c.Deadline), c.Spec.Timeout.Microseconds(), len(cleanText(c.Output)))
	return conflict(t.b, err, "command "+c.ID)
}

func (t *tx) ClaimAgentCommands(ctx context.Context, agentID string, n int, at time.Time, grace time.Duration) ([]store.AgentCommand, error) {
	if n <= 0 {
		return nil, nil
	}
	// The outer status test makes a concurrent claim on PostgreSQL re-check
	// the row after waiting for its lock: a command is handed out once.
	rows, err := t.h.Query(ctx, fmt.Sprintf(`UPDATE agent_commands SET status = 'running', started_at = $1, deadline = $1 + timeout_us + $2
		WHERE status = 'queued' AND id IN (SELECT id FROM agent_commands WHERE agent_id = $3 AND status = 'queued' ORDER BY id LIMIT %d)
		RETURNING %s`, n, commandCols), ts(at), grace.Microseconds(), agentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AgentCommand
	for rows.Next() {
		c, err := scanCommand(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.AgentCommand) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// cleanText makes command output storable as TEXT on both databases:
// PostgreSQL refuses NUL bytes and invalid UTF-8.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a character.
func cutUTF8(s string, n int) string {
	if n >= len(s) {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (t *tx) AppendAgentCommandOutput(ctx context.Context, agentID, id string, offset int64, data string, limit int) error {
	var kept, total int64
	var status string
	err := t.h.QueryRow(ctx, "SELECT output_kept, output_bytes, status FROM agent_commands WHERE agent_id = $1 AND id = $2", agentID, id).Scan(&kept, &total, &status)
	if err != nil {
		if t.b.IsNoRows(err) {
			return fmt.Errorf("command %s of agent %s: %w", id, agentID, store.ErrNotFound)
		}
		return err
	}
	if status != store.CommandRunning {
		return fmt.Errorf("running command %s: %w", id, store.ErrNotFound)
	}
	if offset < total {
		// A retried chunk: keep only what was not counted yet.
		skip := total - offset
		if skip >= int64(len(data)) {
			return nil
		}
		data = data[skip:]
	}
	clean := cleanText(data)
	piece := cutUTF8(clean, limit-int(kept))
	truncated := 0
	if len(piece) < len(clean) {
		truncated = 1
	}
	_, err = t.h.Exec(ctx, `UPDATE agent_commands SET output = output || $1, output_kept = output_kept + $2,
		output_bytes = output_bytes + $3, truncated = CASE WHEN $4 = 1 THEN 1 ELSE truncated END WHERE id = $5`,
		piece, len(piece), len(data), truncated, id)
	return err
}

func (t *tx) FinishAgentCommand(ctx context.Context, agentID, id string, r store.AgentCommandResult) error {
	exit, hasExit := 0, 0
	if r.ExitCode != nil {
		exit, hasExit = *r.ExitCode, 1
	}
	n, err := t.h.Exec(ctx, `UPDATE agent_commands SET status = $1, exit_code = $2, has_exit_code = $3, error = $4, ended_at = $5,
		output_bytes = CASE WHEN output_bytes < $8 THEN $8 ELSE output_bytes END,
		truncated = CASE WHEN output_kept < $8 THEN 1 ELSE truncated END
		WHERE agent_id = $6 AND id = $7 AND status = 'running'`, r.Status, exit, hasExit, cleanText(r.Error), ts(r.At), agentID, id, r.OutputBytes)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("running command %s of agent %s: %w", id, agentID, store.ErrNotFound)
	}
	return nil
}

func (t *tx) RequestAgentCommandCancel(ctx context.Context, tenantID, id string, at time.Time) (store.AgentCommand, error) {
	c, err := t.GetAgentCommand(ctx, tenantID, id)
	if err != nil {
		return c, err
	}
	switch c.Status {
	case store.CommandQueued:
		_, err = t.h.Exec(ctx, "UPDATE agent_commands SET status = 'cancelled', cancel_requested = 1, ended_at = $1, error = 'cancelled before an agent took it' WHERE id = $2 AND status = 'queued'", ts(at), id)
	case store.CommandRunning:
		_, err = t.h.Exec(ctx, "UPDATE agent_commands SET cancel_requested = 1 WHERE id = $1", id)
	default:
		return c, fmt.Errorf("unfinished command %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, err
	}
	return t.GetAgentCommand(ctx, tenantID, id)
}

func (t *tx) FailAgentCommands(ctx context.Context, agentID string, keep []string, at time.Time) (int64, error) {
	q := "UPDATE agent_commands SET status = 'lost', ended_at = $1, error = 'the agent no longer runs it (it restarted)' WHERE agent_id = $2 AND status = 'running'"
	args := []any{ts(at), agentID}
	if len(keep) > 0 {
		q += " AND id NOT IN (" + inList(len(keep), 3) + ")"
		for _, k := range keep {
			args = append(args, k)
		}
	}
	return t.h.Exec(ctx, q, args...)
}

func (t *tx) ExpireAgentCommands(ctx context.Context, at time.Time) (int64, error) {
	return t.h.Exec(ctx, `UPDATE agent_commands SET status = 'timed-out', ended_at = $1,
		error = CASE WHEN status = 'queued' THEN 'no agent took the command in time' ELSE 'no result from the agent before the deadline' END
		WHERE status IN ('queued', 'running') AND deadline < $1`, ts(at))
}

// Resources.

const resourceCols = "id, tenant_id, type, name, tags, config, agent_id, created_at, updated_at"

func scanResource(r Row) (store.Resource, error) {
	var res store.Resource
	var tags, config string
	var created, updated int64
	if err := r.Scan(&res.ID, &res.TenantID, &res.Type, &res.Name, &tags, &config, &res.AgentID, &created, &updated); err != nil {
		return res, err
	}
	res.CreatedAt, res.UpdatedAt = fromTS(created), fromTS(updated)
	if config != "" {
		res.Config = json.RawMessage(config)
	}
	var err error
	if res.Tags, err = unmarshalMap(tags); err != nil {
		return res, fmt.Errorf("resource %s: tags: %w", res.ID, err)
	}
	return res, nil
}

func (r reader) GetResource(ctx context.Context, tenantID, id string) (store.Resource, error) {
	res, err := scanResource(r.q.QueryRow(ctx, "SELECT "+resourceCols+" FROM resources WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return res, r.notFound(err, "resource "+id)
}

func (r reader) ListResources(ctx context.Context, tenantID string, f store.ResourceFilter, page store.Page) ([]store.Resource, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	if f.Type != "" {
		w.add("type = ?", f.Type)
	}
	if f.Name != "" {
		w.add("name = ?", f.Name)
	}
	if f.AgentID != "" {
		w.add("agent_id = ?", f.AgentID)
	}
	if !f.UpdatedSince.IsZero() {
		w.add("updated_at >= ?", ts(f.UpdatedSince))
	}
	return listPage(ctx, r.q, resourceCols, "resources", "id", w, page,
		func(rows Rows) (store.Resource, error) { return scanResource(rows) },
		func(res store.Resource) string { return res.ID })
}

func (t *tx) PutResource(ctx context.Context, res store.Resource) error {
	tags, err := marshalMap(res.Tags)
	if err != nil {
		return err
	}
	// The ID is global: another tenant's resource with this ID is a
	// conflict, never overwritten.
	n, err := t.h.Exec(ctx, `INSERT INTO resources (`+resourceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (id) DO UPDATE SET type = excluded.type, name = excluded.name, tags = excluded.tags,
		config = excluded.config, agent_id = excluded.agent_id, updated_at = excluded.updated_at
		WHERE resources.tenant_id = excluded.tenant_id`,
		res.ID, res.TenantID, res.Type, res.Name, tags, string(res.Config), res.AgentID, ts(res.CreatedAt), ts(res.UpdatedAt))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("resource %s: %w", res.ID, store.ErrConflict)
	}
	return nil
}
