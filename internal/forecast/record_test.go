package forecast

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/testenv"
)

var record = flag.Bool("record", false, "record testdata/filling-disk.csv by filling a real tmpfs volume (root)")

// recordPeriod is the compressed "day" of the recording: the writer's
// rate follows a daily rhythm repeated every recordPeriod, so that a few
// minutes hold several cycles. The tests read one recorded second as one
// hour (a 24 s period is a day).
const recordPeriod = 24 * time.Second

// TestRecordFillingDisk makes the recording the forecast tests replay:
// `go test -run TestRecordFillingDisk -record ./internal/forecast` mounts
// a 16 MiB tmpfs, writes files into it at a rate that rises and falls
// with the compressed day (busy "daytime", quiet "night"), and samples
// the volume's used percentage with statfs — df's definition, as the
// agent reports it — every 250 ms until the volume is full.
func TestRecordFillingDisk(t *testing.T) {
	if !*record {
		t.Skip("pass -record to make a new recording")
	}
	dir := testenv.Volume(t, 16)
	out := []string{"# elapsed_ms,used_percent — a 16 MiB tmpfs filled by TestRecordFillingDisk on " + time.Now().UTC().Format(time.RFC3339)}
	start := time.Now()
	chunk := make([]byte, 4096)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	const meanBytesPerSec = 16 << 20 / 150 // full in about 150 s
	var owed float64
	var f *os.File
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastSample, prev := time.Duration(-1), time.Duration(0)
	// rate integrates the rhythm over elapsed time (not per tick: a tick
	// the ticker drops on a busy machine must not drop its bytes).
	written := func(el time.Duration) float64 {
		w := 2 * math.Pi / recordPeriod.Seconds()
		return meanBytesPerSec * (el.Seconds() + 0.9*(1-math.Cos(w*el.Seconds()))/w)
	}
	for n := 0; ; n++ {
		<-tick.C
		el := time.Since(start)
		owed += written(el) - written(prev)
		prev = el
		if f == nil || n%40 == 0 {
			if f != nil {
				f.Close()
			}
			var err error
			if f, err = os.Create(filepath.Join(dir, fmt.Sprintf("log.%d", n))); err != nil {
				t.Fatal(err)
			}
		}
		full := false
		for owed >= float64(len(chunk)) {
			if _, err := f.Write(chunk); err != nil {
				full = true
				break
			}
			owed -= float64(len(chunk))
		}
		if el/(250*time.Millisecond) != lastSample {
			lastSample = el / (250 * time.Millisecond)
			var s syscall.Statfs_t
			if err := syscall.Statfs(dir, &s); err != nil {
				t.Fatal(err)
			}
			used, avail := (s.Blocks-s.Bfree)*uint64(s.Bsize), s.Bavail*uint64(s.Bsize)
			pct := float64(used) / float64(used+avail) * 100
			out = append(out, fmt.Sprintf("%d,%.2f", el.Milliseconds(), pct))
			if pct >= 100 || full {
				break
			}
		}
	}
	f.Close()
	if err := os.WriteFile("testdata/filling-disk.csv", []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d samples over %s", len(out)-1, time.Since(start))
}
