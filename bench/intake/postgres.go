package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPG is the PostgreSQL server -db postgres uses unless -pg says.
func defaultPG() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// pgServer creates the run's databases on one PostgreSQL server and drops
// them at the end.
type pgServer struct {
	url     string
	created []string
}

// create makes a fresh database and returns its URL.
func (p *pgServer) create(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return "", fmt.Errorf("-db postgres: %w", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("flywheel_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	p.created = append(p.created, name)
	u, err := url.Parse(p.url)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func (p *pgServer) dropAll(ctx context.Context) {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dropping the bench databases:", err)
		return
	}
	defer conn.Close(ctx)
	for _, name := range p.created {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "drop", name+":", err)
		}
	}
}

// scaleResult is one replica count of the scaling scenario.
type scaleResult struct {
	Replicas int     `json:"replicas"`
	Load     string  `json:"load"`
	Accepted float64 `json:"accepted_alerts_per_s"`
	// Processed runs from the load's start until every accepted event is
	// deduplicated and correlated, summed over the replicas.
	Processed float64 `json:"processed_per_s"`
}

// runScaling is scenario s: 1, 2 and 3 replicas on a fresh database each,
// behind a round-robin proxy on this machine, driven by the same loads.
func runScaling(ctx context.Context, o options, bin, tmp string, load loader) ([]scaleResult, error) {
	pg := pgServer{url: o.pgURL}
	defer pg.dropAll(context.Background())
	total := func(n int) string {
		if o.quick {
			n /= 5
		}
		return fmt.Sprint(n)
	}
	loads := []struct{ name, args string }{
		{"batch 1, 2k alerts re-sent", "-format am2 -batch 1 -c 16 -total " + total(50000) + " -unique 2000"},
		{"batch 100, distinct alerts", "-format am2 -batch 100 -c 8 -total " + total(100000) + " -unique " + total(100000)},
	}
	var out []scaleResult
	for n := 1; n <= 3; n++ {
		db, err := pg.create(ctx)
		if err != nil {
			return nil, err
		}
		token := newToken()
		var reps []*flywheel
		stopAll := func() {
			for _, r := range reps {
				r.stop()
			}
		}
		for i := 0; i < n; i++ {
			f, err := startFlywheel(ctx, bin, tmp, fmt.Sprintf("flywheel-e%d-%d", n, i), db, token)
			if err != nil {
				stopAll()
				return nil, err
			}
			reps = append(reps, f)
		}
		front, closeFront, err := roundRobin(reps)
		if err != nil {
			stopAll()
			return nil, err
		}
		for _, l := range loads {
			step(fmt.Sprintf("scenario s: %d replica(s), %s", n, l.name))
			before, err := processedAll(reps)
			if err != nil {
				closeFront()
				stopAll()
				return nil, err
			}
			start := time.Now()
			r, err := load.run(front+"/api/v2/alerts", token, strings.Fields(l.args))
			if err != nil {
				closeFront()
				stopAll()
				return nil, fmt.Errorf("scenario s, %d replicas: %w", n, err)
			}
			got, err := drainAll(reps, before+r.ok, o.drainTimeout)
			if err != nil {
				closeFront()
				stopAll()
				return nil, err
			}
			out = append(out, scaleResult{Replicas: n, Load: l.name, Accepted: r.rate,
				Processed: round(float64(got-before) / time.Since(start).Seconds())})
		}
		closeFront()
		stopAll()
	}
	return out, nil
}

// roundRobin serves a proxy on a free loopback port that sends each
// request to the next replica, as a load balancer in front of replicas
// would; it returns its URL and a function that closes it.
func roundRobin(reps []*flywheel) (string, func(), error) {
	targets := make([]*url.URL, len(reps))
	for i, r := range reps {
		u, err := url.Parse(r.url)
		if err != nil {
			return "", nil, err
		}
		targets[i] = u
	}
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(targets[next.Add(1)%uint64(len(targets))])
			pr.Out.Host = pr.In.Host
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: proxy}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// processedAll sums the replicas' processed events.
func processedAll(reps []*flywheel) (int64, error) {
	var sum int64
	for _, r := range reps {
		n, err := r.processed()
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// drainAll waits until the replicas together have processed want events.
func drainAll(reps []*flywheel, want int64, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	for {
		n, err := processedAll(reps)
		if err != nil || n >= want {
			return n, err
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("the replicas did not catch up within %s (%d of %d events processed)", timeout, n, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func reportScaling(w io.Writer, rs []scaleResult) {
	fmt.Fprintln(w, "\nscaling (PostgreSQL, replicas behind a round-robin proxy on this machine):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "replicas\tload\taccepted alerts/s\tprocessed/s\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t\n", r.Replicas, r.Load, thousands(r.Accepted), thousands(r.Processed))
	}
	tw.Flush()
}
