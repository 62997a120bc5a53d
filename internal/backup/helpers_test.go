package backup_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	osexec "os/exec"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

const tenant = "acme"

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a backup service on a fresh store with one tenant, running its
// scripts on this machine (the "local" target) as an agent would.
type env struct {
	st      store.Store
	svc     *backup.Service
	plans   *backup.Catalog
	secrets map[string]string
}

func newEnv(t *testing.T, clk func() time.Time) *env {
	t.Helper()
	st := sqlitetest.Open(t)
	ctx := context.Background()
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "ACME", CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, plans: backup.NewCatalog(), secrets: map[string]string{}}
	e.svc = backup.New(backup.Options{Store: st, Clock: clk,
		Dispatcher: exec.New(exec.Options{AllowLocal: true, MaxOutput: 1 << 20}),
		Plans:      e.plans,
		Secret:     func(n string) (string, bool) { v, ok := e.secrets[n]; return v, ok }})
	return e
}

func (e *env) addPlan(t *testing.T, name string, s backup.Spec) *backup.Plan {
	t.Helper()
	p, err := backup.Compile(name, &s)
	if err != nil {
		t.Fatalf("plan %s: %v", name, err)
	}
	e.plans.Add("", p)
	return p
}

func (e *env) opsItems(t *testing.T) []store.OpsItem {
	t.Helper()
	items, _, err := e.st.ListOpsItems(context.Background(), tenant, store.OpsItemFilter{}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func randomName(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func runShell(t *testing.T, script string, env map[string]string) string {
	t.Helper()
	cmd := osexec.Command("/bin/sh", "-c", script)
	cmd.Env = append(os.Environ(), "RESTIC_CACHE_DIR="+t.TempDir())
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}
