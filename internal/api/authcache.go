package api

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/flywheel-ops/flywheel/internal/auth"
)

// DefaultAuthCacheTTL is how long a successful token check is reused.
const DefaultAuthCacheTTL = 5 * time.Second

// authCacheSize bounds the remembered tokens; past it the cache starts over.
const authCacheSize = 4096

// authCache remembers successful authentications for a short TTL, so a
// sender posting thousands of requests a second (Prometheus, Alertmanager)
// costs one token lookup per TTL instead of one per request. A token revoked
// through this server stops working at once (revocation clears the cache);
// revoked elsewhere (another replica, the database) within the TTL. Entries
// never outlive the token's own expiry. Failed checks are not cached.
type authCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[[sha256.Size]byte]authEntry
}

type authEntry struct {
	p       auth.Principal
	expires time.Time
}

func newAuthCache(ttl time.Duration) *authCache {
	if ttl <= 0 {
		return nil
	}
	return &authCache{ttl: ttl, m: map[[sha256.Size]byte]authEntry{}}
}

// The key is the secret's hash: the cache holds no secrets.
func authKey(secret string) [sha256.Size]byte {
	var b [128]byte // tokens are shorter: hashing them copies nothing to the heap
	if len(secret) <= len(b) {
		return sha256.Sum256(append(b[:0], secret...))
	}
	return sha256.Sum256([]byte(secret))
}

func (c *authCache) get(secret string, now time.Time) (auth.Principal, bool) {
	if c == nil {
		return auth.Principal{}, false
	}
	c.mu.RLock()
	e, ok := c.m[authKey(secret)]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return auth.Principal{}, false
	}
	return e.p, true
}

func (c *authCache) put(secret string, p auth.Principal, tokenExpires *time.Time, now time.Time) {
	if c == nil {
		return
	}
	exp := now.Add(c.ttl)
	if tokenExpires != nil && tokenExpires.Before(exp) {
		exp = *tokenExpires
	}
	c.mu.Lock()
	if len(c.m) >= authCacheSize {
		clear(c.m)
	}
	c.m[authKey(secret)] = authEntry{p: p, expires: exp}
	c.mu.Unlock()
}

// reset forgets every entry (a token was revoked).
func (c *authCache) reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
