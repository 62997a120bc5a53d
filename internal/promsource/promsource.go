// Package promsource reads hosts' disk, memory and CPU series from a
// tenant's Prometheus (node-exporter metrics, through the HTTP API's
// query_range) as the metric samples the capacity forecasts and the
// idle/oversized waste checks read: the same series an agent's inventory
// gives, from the other source.
//
// Each series' `instance` label is matched to an agent host with
// fleet.ResolveHost; a series whose instance names no agent host is
// skipped (Result.Unresolved says which). Requests go through the
// outbound guard: a Prometheus on a private address must be allowed in
// the server's outbound_allow.
package promsource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	nethttp "net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Metric names the samples are recorded under: package forecast's and
// package cost's, the inventory's.
const (
	DiskPrefix   = forecast.DiskPrefix
	MetricMemory = cost.MetricMemory
	MetricCPU    = cost.MetricCPU
)

var _ forecast.Source = (*Source)(nil)

// Queries are the PromQL expressions read, by the metric they fill (the
// disk's by its mountpoint label). The disk's used percentage is df's:
// used over used plus what is available to users, so reserved blocks do
// not count as free (which filesystems node-exporter reports is its own
// configuration: by default not overlay, proc and the like); memory's is MemTotal less MemAvailable; CPU's is the
// busy share of all CPUs over five minutes.
var Queries = []struct{ Metric, Expr string }{
	{DiskPrefix, `100 * (node_filesystem_size_bytes - node_filesystem_free_bytes) / ` +
		`(node_filesystem_size_bytes - node_filesystem_free_bytes + node_filesystem_avail_bytes)`},
	{MetricMemory, `100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)`},
	{MetricCPU, `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))`},
}

// Point is one value of a series.
type Point struct {
	At    time.Time
	Value float64
}

// Series is one labelled series of a matrix.
type Series struct {
	Labels map[string]string
	Points []Point
}

// APIError is an error response of the Prometheus HTTP API.
type APIError struct {
	Status    int
	ErrorType string
	Message   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("prometheus: %s: %s (HTTP %d)", e.ErrorType, e.Message, e.Status)
}

// MaxResponse bounds a query_range response read.
const MaxResponse = 32 << 20

// ParseQueryRange reads a query_range response body as the HTTP API
// documents it: {"status": "success", "data": {"resultType": "matrix",
// "result": [{"metric": {…}, "values": [[<unix seconds>, "<value>"], …]}]}}.
// An error response becomes an *APIError; NaN and infinite values are
// dropped (a division by a zero-sized filesystem).
func ParseQueryRange(body []byte) ([]Series, error) {
	var r struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string   `json:"metric"`
				Values [][]json.RawMessage `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("prometheus: response is not the API's JSON: %w", err)
	}
	switch r.Status {
	case "success":
	case "error":
		return nil, &APIError{ErrorType: r.ErrorType, Message: r.Error}
	default:
		return nil, fmt.Errorf("prometheus: response status %q is neither success nor error", r.Status)
	}
	if r.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("prometheus: query_range result type %q, want matrix", r.Data.ResultType)
	}
	out := make([]Series, 0, len(r.Data.Result))
	for i, res := range r.Data.Result {
		s := Series{Labels: res.Metric, Points: make([]Point, 0, len(res.Values))}
		for j, v := range res.Values {
			if len(v) != 2 {
				return nil, fmt.Errorf("prometheus: result %d value %d: want [time, \"value\"], got %d elements", i, j, len(v))
			}
			var sec float64
			var val string
			if err := json.Unmarshal(v[0], &sec); err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 || sec > 1e11 {
				return nil, fmt.Errorf("prometheus: result %d value %d: time %s is not a unix timestamp", i, j, v[0])
			}
			if err := json.Unmarshal(v[1], &val); err != nil {
				return nil, fmt.Errorf("prometheus: result %d value %d: value %s is not a quoted number", i, j, v[1])
			}
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return nil, fmt.Errorf("prometheus: result %d value %d: value %q is not a number", i, j, val)
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
			whole, frac := math.Modf(sec)
			s.Points = append(s.Points, Point{At: time.Unix(int64(whole), int64(math.Round(frac*1e3))*1e6).UTC(), Value: f})
		}
		out = append(out, s)
	}
	return out, nil
}

// Client queries one Prometheus.
type Client struct {
	// URL is the server's base URL ("https://prometheus.example.com",
	// with a path prefix when it is served under one).
	URL string
	// Token, when set, is sent as a bearer token.
	Token string
	// HTTP is the client requests go through: the outbound guard's.
	HTTP *nethttp.Client
}

// ValidateURL checks a connection's URL: http or https, a host, no
// credentials in it (a token goes to the secret store), no query.
func ValidateURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("prometheus url %q does not parse: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("prometheus url %q: the scheme must be http or https", raw)
	case u.Host == "":
		return fmt.Errorf("prometheus url %q has no host", raw)
	case u.User != nil:
		return fmt.Errorf("prometheus url %q holds credentials: give a bearer token instead", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("prometheus url %q: no query or fragment, the base URL only", raw)
	}
	return nil
}

// QueryRange evaluates expr over [start, end] every step.
func (c *Client) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	if err := ValidateURL(c.URL); err != nil {
		return nil, err
	}
	form := url.Values{"query": {expr}, "start": {unix(start)}, "end": {unix(end)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, strings.TrimSuffix(c.URL, "/")+"/api/v1/query_range",
		bytes.NewBufferString(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		return nil, errors.New("prometheus: no HTTP client (the outbound guard's)")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("prometheus: reading the response: %w", err)
	}
	if len(body) > MaxResponse {
		return nil, fmt.Errorf("prometheus: response larger than %d bytes: narrow the range or widen the step", MaxResponse)
	}
	series, err := ParseQueryRange(body)
	var ae *APIError
	if errors.As(err, &ae) {
		ae.Status = resp.StatusCode
	} else if err != nil && resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("prometheus: HTTP %d from %s", resp.StatusCode, req.URL.Redacted())
	}
	return series, err
}

func unix(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', -1, 64)
}

// Result is what Samples read.
type Result struct {
	Samples []store.MetricSample
	// Unresolved are the instances no agent host matched, with why.
	Unresolved map[string]string
}

// Samples reads Queries over [start, end] every step and returns them as
// tenant's metric samples, each series on the agent host its instance
// label resolves to.
func Samples(ctx context.Context, c *Client, hosts fleet.HostReader, tenant string, start, end time.Time, step time.Duration) (Result, error) {
	r := Result{Unresolved: map[string]string{}}
	resolved := map[string]string{}
	for _, q := range Queries {
		series, err := c.QueryRange(ctx, q.Expr, start, end, step)
		if err != nil {
			return r, err
		}
		for _, s := range series {
			metric := q.Metric
			if metric == DiskPrefix {
				mp := s.Labels["mountpoint"]
				if mp == "" {
					continue
				}
				metric += mp
			}
			inst := s.Labels["instance"]
			id, ok := resolved[inst]
			if !ok {
				res, err := fleet.ResolveHost(ctx, hosts, tenant, inst)
				if err != nil {
					return r, err
				}
				id = res.ResourceID
				resolved[inst] = id
				if !res.Resolved() {
					r.Unresolved[inst] = res.Reason
				}
			}
			if id == "" {
				continue
			}
			for _, p := range s.Points {
				r.Samples = append(r.Samples, store.MetricSample{TenantID: tenant, ResourceID: id, Metric: metric, At: p.At,
					Value: math.Round(p.Value*100) / 100})
			}
		}
	}
	sort.SliceStable(r.Samples, func(i, j int) bool { return r.Samples[i].At.Before(r.Samples[j].At) })
	return r, nil
}

// Source is the Prometheus series source of package forecast's engine:
// each tick it reads the span since the previous tick from the tenant's
// connection, if it has one.
type Source struct {
	Hosts fleet.HostReader
	// Connect returns tenant's client, nil when the tenant connected no
	// Prometheus.
	Connect func(ctx context.Context, tenant string) (*Client, error)
	// Step is the resolution read (default 5m).
	Step time.Duration
}

// Samples implements forecast.Source.
func (s *Source) Samples(ctx context.Context, tenant string, since, now time.Time) ([]store.MetricSample, error) {
	c, err := s.Connect(ctx, tenant)
	if err != nil || c == nil {
		return nil, err
	}
	step := s.Step
	if step <= 0 {
		step = 5 * time.Minute
	}
	r, err := Samples(ctx, c, s.Hosts, tenant, since, now, step)
	return r.Samples, err
}

// ValidateTokenEnv checks a connection's token_env: "" or the name of a
// FLYWHEEL_* environment variable (the server's secrets, like a
// notification channel's url_env).
func ValidateTokenEnv(name string) error {
	if name == "" {
		return nil
	}
	if !strings.HasPrefix(name, "FLYWHEEL_") || strings.TrimLeft(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
		return fmt.Errorf("prometheus token_env %q: name a FLYWHEEL_* environment variable (capitals, digits, _)", name)
	}
	return nil
}

// Connections are the tenants' Prometheus connections as clients: the
// URL from the store, the bearer token from the environment variable the
// connection names, requests through Guard.
type Connections struct {
	Store  store.PrometheusReader
	Guard  *outbound.Guard
	Lookup func(string) (string, bool)
}

// Connect returns tenant's client, nil when it has no connection.
func (c *Connections) Connect(ctx context.Context, tenant string) (*Client, error) {
	conn, err := c.Store.GetPrometheusConnection(ctx, tenant)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cl := &Client{URL: conn.URL, HTTP: c.Guard.Client()}
	if conn.TokenEnv != "" {
		tok, ok := c.Lookup(conn.TokenEnv)
		if !ok || tok == "" {
			return nil, fmt.Errorf("prometheus connection of %s: the environment variable %s is not set", tenant, conn.TokenEnv)
		}
		cl.Token = tok
	}
	return cl, nil
}
