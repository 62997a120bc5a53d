package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// stormResult is scenario e: storms of new distinct alerts at multiples of
// Flywheel's new-alert processing rate.
type stormResult struct {
	// Base is the processing rate the storms are multiples of (new
	// alerts/s): scenario c's from this run, or -storm-base.
	Base   float64      `json:"base_alerts_per_s"`
	ForS   float64      `json:"storm_s"`
	Levels []stormLevel `json:"levels"`
}

type stormLevel struct {
	Factor float64 `json:"factor"`
	Target float64 `json:"target_alerts_per_s"`
	// Sent is what the senders managed (alerts/s offered, accepted or
	// not): on a small machine the senders and the server share CPUs.
	Sent     float64 `json:"sent_alerts_per_s"`
	Accepted int64   `json:"accepted_alerts"`
	// Refused are alerts answered 503 (the backlog bound); not retried.
	Refused int64 `json:"refused_alerts"`
	Errors  int64 `json:"other_errors"`
	// Processed is from the storm's start until every accepted alert is
	// processed.
	Processed  float64 `json:"processed_per_s"`
	BacklogMax int64   `json:"backlog_max"`
	DrainS     float64 `json:"drain_s"`
	// Undrained is how many accepted alerts were still unprocessed when
	// the drain timeout ran out (0: drained; DrainS is then the timeout).
	Undrained int64   `json:"undrained_at_timeout,omitempty"`
	PeakRSSMB float64 `json:"fw_peak_rss_mb"`
	// Probes are distinct critical alerts sent one a request, probeRate a
	// second, during the storm: intake→OpsItem latency, as in d.
	Probes  int     `json:"probes"`
	Missing int     `json:"probes_never_seen"`
	P50ms   float64 `json:"probe_p50_ms"`
	P99ms   float64 `json:"probe_p99_ms"`
	MaxMs   float64 `json:"probe_max_ms"`
}

// probeRate is how many latency probes a second a storm carries.
const probeRate = 100

// stormBatch and stormSenders shape a storm's requests: as scenario c's.
const (
	stormBatch   = 100
	stormSenders = 8
)

// runStorm sends new distinct alerts at factor × base alerts/s for d (in
// requests of stormBatch from stormSenders concurrent senders, paced to the
// target), with latency probes among them, then waits until Flywheel has
// processed every accepted alert. first numbers the storm's alerts apart
// from every other storm's.
func runStorm(f *flywheel, factor, base float64, d time.Duration, first int, drainTimeout time.Duration) (stormLevel, error) {
	lv := stormLevel{Factor: factor, Target: round(factor * base)}
	before, err := f.processed()
	if err != nil {
		return lv, err
	}
	var accepted, refused, errs, sent atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	startsAt := strconv.Quote(time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano))
	interval := time.Duration(float64(time.Second) * stormBatch / lv.Target)
	nreq := int(d / interval)

	// Latency probes, polled as in d.
	probes := int(d.Seconds() * probeRate)
	prefix := "BenchStorm" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + "_"
	psent, pseen := make([]int64, probes), make([]int64, probes)
	var nseen, perrs atomic.Int64
	stopPoll, pollDone := make(chan struct{}), make(chan error, 1)
	go func() { pollDone <- pollOpsItems(f, prefix, psent, pseen, &nseen, stopPoll) }()

	// Backlog and RSS, sampled while the storm runs and drains.
	var backlogMax atomic.Int64
	var peakRSS atomic.Int64 // KiB
	stopSample, sampleDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if n, err := f.processed(); err == nil {
				if b := before + accepted.Load() - n; b > backlogMax.Load() {
					backlogMax.Store(b)
				}
			}
			if rss, _, err := rssMB(f.cmd.Process.Pid); err == nil && int64(rss*1024) > peakRSS.Load() {
				peakRSS.Store(int64(rss * 1024))
			}
			select {
			case <-stopSample:
				return
			case <-t.C:
			}
		}
	}()

	post := func(body []byte) (int, error) {
		req, _ := http.NewRequest(http.MethodPost, f.url+"/api/v2/alerts", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+f.token)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	start := time.Now()
	var wg sync.WaitGroup
	jobs := make(chan int, stormSenders)
	for range stormSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			for r := range jobs {
				body = stormBody(body[:0], first+r*stormBatch, stormBatch, startsAt)
				code, err := post(body)
				sent.Add(stormBatch)
				switch {
				case err != nil:
					errs.Add(stormBatch)
				case code == http.StatusOK:
					accepted.Add(stormBatch)
				case code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests:
					refused.Add(stormBatch)
				default:
					errs.Add(stormBatch)
				}
			}
		}()
	}
	pjobs := make(chan int, probeRate)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range pjobs {
				now := time.Now()
				body := fmt.Appendf(nil, `[{"labels":{"alertname":"%s%d","instance":"storm-probe-%d:9100","job":"bench","severity":"critical"},"annotations":{"summary":"storm latency probe"},"startsAt":%q}]`,
					prefix, i, i, now.UTC().Format(time.RFC3339Nano))
				atomic.StoreInt64(&psent[i], now.UnixNano())
				if code, err := post(body); err != nil || code != http.StatusOK {
					atomic.StoreInt64(&psent[i], 0) // not accepted: not waited for
					perrs.Add(1)
				} else {
					accepted.Add(1)
				}
			}
		}()
	}
	go func() {
		pint := time.Second / probeRate
		for i := range probes {
			if w := time.Until(start.Add(time.Duration(i) * pint)); w > 0 {
				time.Sleep(w)
			}
			pjobs <- i
		}
		close(pjobs)
	}()
	for r := range nreq {
		if w := time.Until(start.Add(time.Duration(r) * interval)); w > 0 {
			time.Sleep(w)
		}
		if time.Since(start) > d+d/10 {
			break // the senders cannot keep up: the storm lasts d, not more
		}
		jobs <- r
	}
	close(jobs)
	wg.Wait()
	end := time.Now()
	lv.Sent = round(float64(sent.Load()) / end.Sub(start).Seconds())
	lv.Accepted, lv.Refused, lv.Errors = accepted.Load(), refused.Load(), errs.Load()

	got, derr := f.drain(before+lv.Accepted, drainTimeout)
	if derr != nil && got > 0 {
		// Not drained in time: reported, and the next storm starts with
		// what is left (its drain waits for it too).
		lv.Undrained, derr = before+lv.Accepted-got, nil
	}
	drained := time.Now()
	lv.DrainS = round1(drained.Sub(end).Seconds())
	lv.Processed = round(float64(got-before) / drained.Sub(start).Seconds())
	// The probes are processed once drained; give the poller a moment.
	for deadline := time.Now().Add(5 * time.Second); nseen.Load() < int64(probes)-perrs.Load() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	close(stopPoll)
	close(stopSample)
	<-sampleDone
	if err := <-pollDone; err != nil {
		return lv, err
	}
	lv.BacklogMax, lv.PeakRSSMB = backlogMax.Load(), round1(float64(peakRSS.Load())/1024)
	var lats []float64
	for i := range probes {
		s, t := atomic.LoadInt64(&psent[i]), atomic.LoadInt64(&pseen[i])
		switch {
		case s == 0:
		case t == 0:
			lv.Missing++
		default:
			lats = append(lats, float64(t-s)/1e6)
		}
	}
	lv.Probes = probes - int(perrs.Load())
	slices.Sort(lats)
	if len(lats) > 0 {
		lv.P50ms, lv.P99ms, lv.MaxMs = round1(pct(lats, 50)), round1(pct(lats, 99)), round1(lats[len(lats)-1])
	}
	return lv, derr
}

// stormBody appends a JSON array of n distinct firing alerts numbered from
// first, labelled as bench/alertload labels its alerts (six alert names
// over hosts, a third each critical, warning and info), without fmt: at
// eight times the processing rate the senders build over 1,000 bodies a
// second on the server's CPUs.
func stormBody(b []byte, first, n int, startsAt string) []byte {
	names := [...]string{"HighCPU", "DiskFull", "InstanceDown", "HighLatency", "OOMKilled", "Error5xx"}
	sev := [...]string{"critical", "warning", "info"}
	env := [...]string{"prod", "stage", "dev"}
	b = append(b, '[')
	for j := range n {
		i := first + j
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"status":"firing","labels":{"alertname":"`...)
		b = append(b, names[i%len(names)]...)
		b = append(b, `","instance":"storm-`...)
		b = strconv.AppendInt(b, int64(i/len(names)), 10)
		b = append(b, `:9100","job":"node","severity":"`...)
		b = append(b, sev[i%3]...)
		b = append(b, `","env":"`...)
		b = append(b, env[i%3]...)
		b = append(b, `"},"annotations":{"summary":"storm alert `...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `"},"startsAt":`...)
		b = append(b, startsAt...)
		b = append(b, `,"generatorURL":"http://prometheus.local/graph"}`...)
	}
	return append(b, ']')
}

func reportStorm(w io.Writer, s *stormResult) {
	fmt.Fprintf(w, "\ne: storms of new distinct alerts for %.0f s at multiples of %s alerts/s (Flywheel's new-alert processing rate)\n", s.ForS, thousands(s.Base))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "storm\ttarget/s\tsent/s\taccepted\trefused (503)\tbacklog max\tdrain s\tprocessed/s\tprobe p50 ms\tprobe p99 ms\tunseen\tFW peak RSS MB\t")
	for _, l := range s.Levels {
		drain := fmt.Sprintf("%.1f", l.DrainS)
		if l.Undrained > 0 {
			drain = fmt.Sprintf(">%.0f (%s left)", l.DrainS, thousands(float64(l.Undrained)))
		}
		fmt.Fprintf(tw, "%.0fx\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%d\t%.1f\t\n", l.Factor, thousands(l.Target), thousands(l.Sent),
			thousands(float64(l.Accepted)), thousands(float64(l.Refused)), thousands(float64(l.BacklogMax)), drain, thousands(l.Processed),
			l.P50ms, l.P99ms, l.Missing, l.PeakRSSMB)
	}
	tw.Flush()
}
