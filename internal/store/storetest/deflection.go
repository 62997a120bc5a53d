package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func newSilence(tenant string, i int, starts, ends time.Time) store.Silence {
	at := t0.Add(time.Duration(i) * time.Second)
	return store.Silence{
		ID: store.NewID("sil", at), TenantID: tenant,
		Matchers: []string{`alertname="DiskFull"`, fmt.Sprintf(`instance=~"db-%d.*"`, i)},
		StartsAt: starts, EndsAt: ends, Comment: fmt.Sprintf("patching db-%d", i), CreatedBy: "token:tok_1", CreatedAt: at,
	}
}

func silenceIDs(list []store.Silence) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ID
	}
	return out
}

func testSilences(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")

	// One of each shape: running, pending, recurring, already over.
	running := newSilence("acme", 1, t0.Add(-time.Hour), t0.Add(time.Hour))
	pending := newSilence("acme", 2, t0.Add(time.Hour), t0.Add(2*time.Hour))
	recurring := newSilence("acme", 3, t0.Add(-time.Hour), t0.Add(30*24*time.Hour))
	recurring.Recurrence = &store.Recurrence{Days: []string{"sat", "sun"}, Start: "02:00", Duration: "4h", Timezone: "Europe/Berlin"}
	recurring.Matchers = []string{`"service.name"="quoted \"name\""`, `msg="a\nb, c"`}
	over := newSilence("acme", 4, t0.Add(-2*time.Hour), t0.Add(-time.Hour))
	foreign := newSilence("globex", 5, t0.Add(-time.Hour), t0.Add(time.Hour))
	for _, sil := range []store.Silence{running, pending, recurring, over, foreign} {
		mustTx(t, s, func(tx store.Tx) error { return tx.CreateSilence(ctx, sil) })
	}
	for _, want := range []store.Silence{running, recurring, foreign} {
		got, err := s.GetSilence(ctx, want.TenantID, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetSilence = %+v\nwant %+v", got, want)
		}
	}
	if _, err := s.GetSilence(ctx, "globex", running.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSilence across tenants: %v, want ErrNotFound", err)
	}
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateSilence(ctx, running) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate silence: %v, want ErrConflict", err)
	}

	list := func(f store.SilenceFilter) []string {
		t.Helper()
		l, next, err := s.ListSilences(ctx, "acme", f, store.Page{})
		if err != nil || next != "" {
			t.Fatalf("ListSilences(%+v) = %v, %q, %v", f, l, next, err)
		}
		return silenceIDs(l)
	}
	if got, want := list(store.SilenceFilter{Now: t0}), []string{recurring.ID, pending.ID, running.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("unexpired silences = %v, want newest first %v", got, want)
	}
	if got, want := list(store.SilenceFilter{Expired: true, Now: t0}), []string{over.ID, recurring.ID, pending.ID, running.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("all silences = %v, want %v", got, want)
	}
	if got := list(store.SilenceFilter{}); len(got) != 4 {
		t.Errorf("without Now, only early-expired silences are left out: got %v", got)
	}

	active, err := s.ActiveSilences(ctx, "acme", t0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := silenceIDs(active), []string{recurring.ID, pending.ID, running.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("ActiveSilences = %v, want %v", got, want)
	}
	if active[0].Recurrence == nil || active[0].Recurrence.Timezone != "Europe/Berlin" {
		t.Errorf("recurrence lost: %+v", active[0])
	}

	// Expiring: not across tenants, then for real, then not twice.
	at := t0.Add(time.Minute)
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.ExpireSilence(ctx, "globex", running.ID, at, "token:tok_x") })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cross-tenant expire: %v", err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.ExpireSilence(ctx, "acme", running.ID, at, "token:tok_2") })
	got, _ := s.GetSilence(ctx, "acme", running.ID)
	if !got.EndsAt.Equal(at) || got.ExpiredAt == nil || !got.ExpiredAt.Equal(at) || got.ExpiredBy != "token:tok_2" || !got.StartsAt.Equal(running.StartsAt) {
		t.Errorf("after expire: %+v", got)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.ExpireSilence(ctx, "acme", running.ID, at.Add(time.Second), "token:tok_2")
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second expire: %v, want ErrNotFound", err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.ExpireSilence(ctx, "acme", over.ID, at, "token:tok_2") })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expiring an ended silence: %v, want ErrNotFound", err)
	}
	// A pending silence expires before it starts: StartsAt moves back too.
	mustTx(t, s, func(tx store.Tx) error { return tx.ExpireSilence(ctx, "acme", pending.ID, at, "token:tok_2") })
	got, _ = s.GetSilence(ctx, "acme", pending.ID)
	if !got.StartsAt.Equal(at) || !got.EndsAt.Equal(at) {
		t.Errorf("expired pending silence: %+v", got)
	}
	if got, want := list(store.SilenceFilter{Now: at}), []string{recurring.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("after expiring, unexpired = %v, want %v", got, want)
	}
	if got := list(store.SilenceFilter{}); len(got) != 2 {
		t.Errorf("without Now: %v, want the two not expired early", got)
	}
	if active, _ := s.ActiveSilences(ctx, "globex", at); len(active) != 1 || active[0].ID != foreign.ID {
		t.Errorf("globex's active silences = %v", silenceIDs(active))
	}
}

func testSilencePagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	var want []string
	for i := range 7 {
		sil := newSilence("acme", i, t0, t0.Add(time.Hour))
		mustTx(t, s, func(tx store.Tx) error { return tx.CreateSilence(ctx, sil) })
		want = append([]string{sil.ID}, want...)
	}
	var got []string
	page := store.Page{Limit: 3}
	for range 5 {
		l, next, err := s.ListSilences(ctx, "acme", store.SilenceFilter{Now: t0}, page)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, silenceIDs(l)...)
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paged silences = %v, want %v", got, want)
	}
}

func newWindow(tenant string, i int, name string) store.MaintenanceWindow {
	at := t0.Add(time.Duration(i) * time.Second)
	return store.MaintenanceWindow{
		ID: store.NewID("mw", at), TenantID: tenant, Name: name, Timezone: "Europe/Berlin",
		Targets:   store.MaintenanceTargets{Matchers: []string{`env="prod"`}},
		Comment:   "monthly patching",
		CreatedBy: "token:tok_1", CreatedAt: at,
	}
}

func testMaintenanceWindows(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")

	start, end := t0.Add(-time.Hour), t0.Add(time.Hour)
	oneOff := newWindow("acme", 1, "db-upgrade")
	oneOff.Schedule = store.MaintenanceSchedule{Start: &start, End: &end}
	oneOff.Targets = store.MaintenanceTargets{
		Matchers: []string{`alertname=~"Disk.*"`}, ResourceIDs: []string{"i-123", "i-456"},
		Tags: map[string]string{"patch-group": "db", "env": "prod"},
	}
	weekly := newWindow("acme", 2, "weekend-patching")
	weekly.Schedule = store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"sat", "sun"}, Start: "02:00", Duration: "4h"}}
	pastStart, pastEnd := t0.Add(-3*time.Hour), t0.Add(-2*time.Hour)
	past := newWindow("acme", 3, "last-week")
	past.Schedule = store.MaintenanceSchedule{Start: &pastStart, End: &pastEnd}
	foreign := newWindow("globex", 4, "db-upgrade") // same name, other tenant: fine
	foreign.Schedule = oneOff.Schedule
	// A cron window that runs tasks, ending before t0: its end date
	// plus a week (its longest opening) is after t0, so it is still active.
	endDate, startDate := t0.Add(-time.Hour), t0.Add(-30*24*time.Hour)
	tasks := newWindow("globex", 5, "patching")
	tasks.Schedule = store.MaintenanceSchedule{Expression: "cron(30 23 ? * TUE#3 *)"}
	tasks.ScheduleOffset, tasks.Duration, tasks.Cutoff, tasks.StartDate, tasks.EndDate = 2, "4h", "1h", &startDate, &endDate
	tasks.Tasks = []store.MaintenanceTask{{Name: "patch", Runbook: "patch-linux", Parameters: map[string]any{"reboot": true}, Priority: 1,
		MaxConcurrency: "2", MaxErrors: "10%", CutoffBehavior: "cancel", OnFailure: "continue"}, {Runbook: "report", Priority: 2}}
	for _, w := range []store.MaintenanceWindow{oneOff, weekly, past, foreign, tasks} {
		mustTx(t, s, func(tx store.Tx) error { return tx.CreateMaintenanceWindow(ctx, w) })
	}
	for _, want := range []store.MaintenanceWindow{oneOff, weekly, foreign, tasks} {
		got, err := s.GetMaintenanceWindow(ctx, want.TenantID, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetMaintenanceWindow = %+v\nwant %+v", got, want)
		}
	}
	if _, err := s.GetMaintenanceWindow(ctx, "globex", oneOff.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMaintenanceWindow across tenants: %v", err)
	}
	dup := newWindow("acme", 9, "db-upgrade")
	dup.Schedule = oneOff.Schedule
	err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateMaintenanceWindow(ctx, dup) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate window name: %v, want ErrConflict", err)
	}

	l, next, err := s.ListMaintenanceWindows(ctx, "acme", store.Page{Limit: 2})
	if err != nil || len(l) != 2 || next == "" || l[0].ID != past.ID || l[1].ID != weekly.ID {
		t.Fatalf("ListMaintenanceWindows page 1 = %v, %q, %v", l, next, err)
	}
	l, next, err = s.ListMaintenanceWindows(ctx, "acme", store.Page{Limit: 2, Cursor: next})
	if err != nil || len(l) != 1 || next != "" || l[0].ID != oneOff.ID {
		t.Fatalf("ListMaintenanceWindows page 2 = %v, %q, %v", l, next, err)
	}

	active, err := s.ActiveMaintenanceWindows(ctx, "acme", t0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range active {
		ids = append(ids, w.ID)
	}
	if want := []string{weekly.ID, oneOff.ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ActiveMaintenanceWindows = %v, want %v (the past one-off left out)", ids, want)
	}

	if active, err := s.ActiveMaintenanceWindows(ctx, "globex", t0); err != nil || len(active) != 2 || active[0].ID != tasks.ID {
		t.Errorf("ActiveMaintenanceWindows(globex) = %v, %v; want the cron window and the one-off", active, err)
	}
	if active, err := s.ActiveMaintenanceWindows(ctx, "globex", t0.Add(8*24*time.Hour)); err != nil || len(active) != 0 {
		t.Errorf("ActiveMaintenanceWindows(globex) after the end date and a week = %v, %v; want none", active, err)
	}

	err = s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteMaintenanceWindow(ctx, "globex", oneOff.ID) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cross-tenant delete: %v", err)
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.DeleteMaintenanceWindow(ctx, "acme", oneOff.ID) })
	if _, err := s.GetMaintenanceWindow(ctx, "acme", oneOff.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteMaintenanceWindow(ctx, "acme", oneOff.ID) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	// The name is free again.
	again := newWindow("acme", 10, "db-upgrade")
	again.Schedule = oneOff.Schedule
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateMaintenanceWindow(ctx, again) })
	if got, err := s.GetMaintenanceWindow(ctx, "globex", foreign.ID); err != nil || got.Name != "db-upgrade" {
		t.Errorf("globex's window after acme's delete: %+v, %v", got, err)
	}
}
