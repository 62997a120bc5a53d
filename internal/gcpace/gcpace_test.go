package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, MaxPercent},
		{16 << 20, MaxPercent}, // 80 MiB in all: under the ceiling
		{25 << 20, MaxPercent}, // 125 MiB
		{32 << 20, 300},        // 32 + 96 = 128 MiB
		{40 << 20, 220},        // 40 + 88
		{64 << 20, MinPercent}, // half the ceiling: growth by itself
		{100 << 20, MinPercent},
		{4 << 30, MinPercent},
	} {
		if got := Percent(c.live); got != c.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// sink keeps the test's large allocation live across collections.
var sink []*[1 << 20]byte

// TestStartFollowsLiveHeap starts pacing and checks the percent after
// collections: the maximum with a small heap, the minimum while 256 MiB
// are live, the maximum again once they are garbage.
func TestStartFollowsLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	if Start(func(string) (string, bool) { return "50", true }) {
		t.Fatal("Start paced the collector although GOGC was set")
	}
	if !Start(func(string) (string, bool) { return "", false }) {
		t.Fatal("Start did not pace the collector without GOGC")
	}
	waitPercent(t, MaxPercent)
	for range 256 {
		sink = append(sink, new([1 << 20]byte))
	}
	waitPercent(t, MinPercent)
	sink = nil
	waitPercent(t, MaxPercent)
}

// waitPercent collects until the percent the finalizer sets is want.
func waitPercent(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for current() != want {
		if time.Now().After(deadline) {
			t.Fatalf("GC percent %d, want %d (live heap %d MiB)", current(), want, live()>>20)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
