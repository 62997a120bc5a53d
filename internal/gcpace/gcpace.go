// Package gcpace sets the garbage collector's pace for the server from the
// size of its live heap.
//
// Intake allocates per request (net/http's request, the body, the parsed
// events) and keeps little, so at Go's default (GOGC=100) the collector
// runs every few megabytes of requests: a sixth of the CPU of a batch-1
// alert flood. A higher GOGC cuts that but multiplies the peak of a burst
// whose events are briefly all live (100,000 alerts in flight made a heap
// of 500 MB at GOGC=400). So the pace follows the live heap: a small heap
// may grow by up to four times itself, but the heap's total (live and
// growth) up to Ceiling only, unless the live heap is more than half of it
// (then Go's default: growth by the live heap itself). Before, the growth
// was a fixed 128 MiB on top of any live heap up to 128 MiB: a storm that
// held 80 MiB live let the heap reach 208 MiB before a collection, a peak
// resident set above Alertmanager's; with the ceiling it is 160 MiB.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Bounds on the GC percent, and the heap size the pace aims under.
const (
	MinPercent = 100
	MaxPercent = 400
	Ceiling    = 128 << 20
)

// Percent is the GC percent for a live heap of live bytes: the heap may
// grow to Ceiling before the next collection, but by no less than the
// live heap itself (MinPercent) and no more than four times it
// (MaxPercent).
func Percent(live uint64) int {
	if live == 0 {
		return MaxPercent
	}
	if live >= Ceiling {
		return MinPercent
	}
	return int(min(max((Ceiling-live)*100/live, MinPercent), MaxPercent))
}

var started atomic.Bool

// Start paces the collector from now on, for the rest of the process:
// after each collection it sets the GC percent for the live heap that
// collection left. When GOGC is set it does nothing (the operator's choice
// stands) and returns false; a second Start changes nothing.
func Start(lookupEnv func(string) (string, bool)) bool {
	if _, set := lookupEnv("GOGC"); set {
		return false
	}
	if started.CompareAndSwap(false, true) {
		debug.SetGCPercent(MaxPercent)
		arm()
	}
	return true
}

// arm sets a finalizer on a new object: it runs after the next collection
// that finds the object unreachable, which is the next collection.
func arm() {
	s := new([16]byte) // a tiny object is batched with others and may not be finalized
	runtime.SetFinalizer(s, func(*[16]byte) {
		if p := Percent(live()); p != current() {
			debug.SetGCPercent(p)
		}
		arm()
	})
}

// current is the GC percent in effect.
func current() int {
	return int(read("/gc/gogc:percent"))
}

func live() uint64 { return read("/gc/heap/live:bytes") }

func read(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
