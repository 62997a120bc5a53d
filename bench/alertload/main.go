// Command alertload posts a synthetic alert stream to an HTTP endpoint and
// reports accepted alerts per second; bench/intake drives Flywheel and
// Alertmanager with it. It speaks two payload shapes:
//
//	-format am2      : Alertmanager v2 POST /api/v2/alerts body (JSON array)
//	-format amhook   : Alertmanager webhook v4 payload (what Alertmanager sends to receivers)
//
// The stream: -unique distinct alerts (fingerprints), each re-sent until -total
// alerts are posted, -batch alerts per request, -c concurrent senders.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type amAlert struct {
	Status       string            `json:"status,omitempty"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint,omitempty"`
}

func mkAlert(i int, now time.Time) amAlert {
	names := []string{"HighCPU", "DiskFull", "InstanceDown", "HighLatency", "OOMKilled", "Error5xx"}
	return amAlert{
		Status: "firing",
		Labels: map[string]string{
			"alertname": names[i%len(names)],
			"instance":  fmt.Sprintf("host-%04d:9100", i/len(names)),
			"job":       "node",
			"severity":  []string{"critical", "warning", "info"}[i%3],
			"env":       []string{"prod", "stage", "dev"}[i%3],
		},
		Annotations:  map[string]string{"summary": fmt.Sprintf("synthetic alert %d", i)},
		StartsAt:     now.Add(-time.Minute),
		EndsAt:       now.Add(10 * time.Minute),
		GeneratorURL: "http://prometheus.local/graph",
		Fingerprint:  fmt.Sprintf("%016x", i),
	}
}

func main() {
	url := flag.String("url", "http://127.0.0.1:9093/api/v2/alerts", "endpoint")
	format := flag.String("format", "am2", "am2 or amhook")
	unique := flag.Int("unique", 2000, "distinct alerts")
	total := flag.Int("total", 200000, "alerts to post")
	batch := flag.Int("batch", 100, "alerts per request")
	conc := flag.Int("c", 8, "concurrent senders")
	token := flag.String("token", os.Getenv("ALERTLOAD_TOKEN"), "bearer token sent as Authorization (default $ALERTLOAD_TOKEN)")
	flag.Parse()

	now := time.Now().UTC()
	alerts := make([]amAlert, *unique)
	for i := range alerts {
		alerts[i] = mkAlert(i, now)
	}
	nreq := (*total + *batch - 1) / *batch
	// Pre-encode enough rotating batches to cover every distinct alert (at least 64),
	// so the client stays cheap and the server really sees -unique distinct alerts.
	nbodies := (*unique + *batch - 1) / *batch
	if nbodies < 64 {
		nbodies = 64
	}
	bodies := make([][]byte, 0, nbodies)
	for b := 0; b < nbodies; b++ {
		chunk := make([]amAlert, *batch)
		for j := range chunk {
			chunk[j] = alerts[(b**batch+j)%*unique]
		}
		var v any = chunk
		if *format == "amhook" {
			v = map[string]any{"version": "4", "groupKey": fmt.Sprintf("{}:{b=\"%d\"}", b), "truncatedAlerts": 0,
				"status": "firing", "receiver": "flywheel", "groupLabels": map[string]string{},
				"commonLabels": map[string]string{}, "commonAnnotations": map[string]string{},
				"externalURL": "http://am.local", "alerts": chunk}
		}
		buf, _ := json.Marshal(v)
		bodies = append(bodies, buf)
	}
	var next, errs, okAlerts int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1) - 1
				if i >= int64(nreq) {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, *url, bytes.NewReader(bodies[i%int64(len(bodies))]))
				req.Header.Set("Content-Type", "application/json")
				if *token != "" {
					req.Header.Set("Authorization", "Bearer "+*token)
				}
				resp, err := client.Do(req)
				if err != nil {
					atomic.AddInt64(&errs, 1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					atomic.AddInt64(&okAlerts, int64(*batch))
				} else {
					atomic.AddInt64(&errs, 1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "requests=%d errors=%d seconds=%.2f\n", nreq, errs, el)
	fmt.Printf("alerts_per_s=%.0f ok_alerts=%d errors=%d\n", float64(okAlerts)/el, okAlerts, errs)
}
