// Package audit keeps Flywheel's tamper-evident log: every mutating API call
// and every automated action appends one record to its tenant's hash chain,
// in the same transaction as the change it describes.
//
// Each record's hash covers its fields and the previous record's hash, so
// altering a record breaks its own hash, deleting one breaks the next
// record's link, and truncating the tail is caught by the chain head and by
// periodic checkpoints (see Checkpoint).
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Entry is what a caller says about an action.
type Entry struct {
	// Actor: "token:<id>", "system:<component>", "agent:<id>".
	Actor  string
	Action string // "opsitem.update", "token.create", …
	Target string // "opsitem/oi_…"
	// Result: "ok", "denied", "failed: …".
	Result string
	// Detail is marshalled to JSON; callers must keep secrets out of it.
	Detail any
}

// Append adds e to tenant's chain inside tx, at time at.
func Append(ctx context.Context, tx store.Tx, tenant string, at time.Time, e Entry) (store.AuditRecord, error) {
	r := store.AuditRecord{TenantID: tenant, Time: at, Actor: e.Actor, Action: e.Action, Target: e.Target, Result: e.Result}
	if r.Result == "" {
		r.Result = "ok"
	}
	if e.Detail != nil {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return r, fmt.Errorf("audit detail: %w", err)
		}
		r.Detail = b
	}
	if err := tx.AppendAudit(ctx, &r, Hash); err != nil {
		return r, fmt.Errorf("append audit record: %w", err)
	}
	return r, nil
}

// Hash is the chain hash of r: SHA-256 over a length-prefixed encoding of
// every field but Hash itself, including PrevHash.
func Hash(r store.AuditRecord) string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field("flywheel-audit-v1")
	field(r.TenantID)
	field(strconv.FormatInt(r.Seq, 10))
	field(strconv.FormatInt(r.Time.UnixMicro(), 10))
	field(r.Actor)
	field(r.Action)
	field(r.Target)
	field(r.Result)
	field(string(r.Detail))
	field(r.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}
