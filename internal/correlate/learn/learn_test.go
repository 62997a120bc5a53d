package learn_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/correlate/learn"
	"github.com/flywheel-ops/flywheel/internal/event"
)

var t0 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

func firing(name, cluster string, at time.Time) event.Event {
	return event.Event{Source: "alertmanager", Kind: event.KindAlert, Status: event.StatusFiring, Title: name, OccurredAt: at,
		Fingerprint: fmt.Sprintf("%s/%s/%d", name, cluster, at.Unix()), Labels: map[string]string{"alertname": name, "cluster": cluster}}
}

// TestMerges: five merges by people of the same two alert names make a
// candidate; four do not, nor five less a split.
func TestMerges(t *testing.T) {
	t.Parallel()
	merges := func(n, splits int) []learn.Merge {
		var ms []learn.Merge
		for range n {
			ms = append(ms, learn.Merge{A: "DiskIOHigh", B: "BackupSlow"})
		}
		for range splits {
			ms = append(ms, learn.Merge{A: "BackupSlow", B: "DiskIOHigh", Split: true})
		}
		return ms
	}
	if cs := learn.Candidates(nil, merges(5, 0), learn.Options{}, nil); len(cs) != 1 || cs[0].A != "BackupSlow" || cs[0].B != "DiskIOHigh" || cs[0].Merges != 5 ||
		!strings.Contains(cs[0].Why(), "people merged BackupSlow and DiskIOHigh 5 times") {
		t.Errorf("five merges: %+v", cs)
	}
	if cs := learn.Candidates(nil, merges(4, 0), learn.Options{}, nil); len(cs) != 0 {
		t.Errorf("four merges: %+v", cs)
	}
	if cs := learn.Candidates(nil, merges(5, 1), learn.Options{}, nil); len(cs) != 0 {
		t.Errorf("five merges and a split: %+v", cs)
	}
}

// TestChance: names that fire often but independently are no candidate,
// even when some firings happen to fall close together.
func TestChance(t *testing.T) {
	t.Parallel()
	var h []event.Event
	// Two busy alerts every 10 and 7 minutes for two days: they meet
	// within 2 minutes often, as chance makes them.
	for i := range 288 {
		h = append(h, firing("Busy", "c", t0.Add(time.Duration(i)*10*time.Minute)))
	}
	for i := range 411 {
		h = append(h, firing("Chatty", "c", t0.Add(time.Duration(i)*7*time.Minute)))
	}
	// Two that always fire together, 30 s apart, six times.
	for i := range 6 {
		at := t0.Add(time.Duration(i)*7*time.Hour + 3*time.Minute)
		h = append(h, firing("KafkaConsumerLag", "c", at), firing("OrderQueueDepthHigh", "c", at.Add(30*time.Second)))
	}
	cs := learn.Candidates(h, nil, learn.Options{}, nil)
	if len(cs) != 1 || cs[0].A != "KafkaConsumerLag" || cs[0].B != "OrderQueueDepthHigh" || cs[0].CoOccurred != 6 {
		t.Fatalf("candidates %+v; want only KafkaConsumerLag/OrderQueueDepthHigh", cs)
	}
	if !strings.Contains(cs[0].Rule, `in ["KafkaConsumerLag", "OrderQueueDepthHigh"]`) || cs[0].RuleName != "learned-kafkaconsumerlag-orderqueuedepthhigh" {
		t.Errorf("drafted rule %s:\n%s", cs[0].RuleName, cs[0].Rule)
	}
	// The same pair in different clusters does not co-occur.
	var apart []event.Event
	for i := range 6 {
		at := t0.Add(time.Duration(i) * 7 * time.Hour)
		apart = append(apart, firing("KafkaConsumerLag", "east", at), firing("OrderQueueDepthHigh", "west", at))
	}
	if cs := learn.Candidates(apart, nil, learn.Options{}, nil); len(cs) != 0 {
		t.Errorf("across clusters: %+v", cs)
	}
}
