// Package placebo replays recorded AWS API responses through the real
// aws-sdk-go-v2 clients, and records them from a real account. It follows
// Cloud Custodian's placebo convention: a directory of files named
// <service>.<Operation>_<n>.json, each holding what the n-th call of that
// operation returned:
//
//	{"status_code": 200, "data": {"Reservations": [...], "NextToken": "..."}}
//	{"status_code": 400, "data": {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}}
//
// data uses the API's own member names (those of the SDK's output structs).
// A recording also has placebo.json, {"recorded_at": "2026-12-01T09:00:00Z"}:
// ages derived from a replayed account (days since a key was last used) are
// counted to then, so a recording reads the same on any day.
//
// A Pill plugs into an aws.Config's APIOptions. The SDK still validates
// and serializes the input, resolves the endpoint, runs its retryer and
// signs the request; the pill takes the place of the network and of the
// wire deserializer, answering from the next file for the operation. An
// error file becomes the API error the service would have returned, so the
// retryer retries a throttled call as it would against AWS. Every call is
// kept (Calls) so a test can assert what the code asked AWS to do.
package placebo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Response is one recorded file.
type Response struct {
	StatusCode int             `json:"status_code"`
	Data       json.RawMessage `json:"data"`
}

// Call is one API call a pill answered (or, recording, passed on).
type Call struct {
	Service   string // placebo service name: ec2, s3, iam, config, …
	Operation string // API operation name: DescribeInstances
	Region    string
	// Params is the operation's input as JSON, by API member names.
	Params json.RawMessage
	// AccessKeyID is the key the SDK signed the request with (SigV4);
	// empty if unsigned.
	AccessKeyID string
	// File is the file that answered, relative to the pill's directory.
	File string
}

// Input decodes the call's input into v (a map or the SDK input struct).
func (c Call) Input(v any) error { return json.Unmarshal(c.Params, v) }

// Pill replays (or records) one directory.
type Pill struct {
	dir    string   // recording: where files are written
	dirs   []string // replay: where files are read, the last first
	record bool

	mu    sync.Mutex
	next  map[string]int // "ec2.DescribeInstances" → index of its next file
	calls []Call
}

// MetaFile is the file holding a recording's metadata.
const MetaFile = "placebo.json"

// Meta is a recording's metadata.
type Meta struct {
	RecordedAt time.Time `json:"recorded_at"`
}

// RecordedAt returns when the recording in dir was made.
func RecordedAt(dir string) (time.Time, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return time.Time{}, fmt.Errorf("placebo: %w", err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil || m.RecordedAt.IsZero() {
		return time.Time{}, fmt.Errorf("placebo: %s: no recorded_at time (%v)", filepath.Join(dir, MetaFile), err)
	}
	return m.RecordedAt, nil
}

// Replay returns a pill answering from the files in dir. With more
// directories, each later one overlays the ones before it: a variant of a
// recorded account is the few responses that differ from it.
func Replay(dir string, overlays ...string) *Pill {
	return &Pill{dir: dir, dirs: append([]string{dir}, overlays...), next: map[string]int{}}
}

// read returns a response file, from the last directory holding it.
func (p *Pill) read(name string) ([]byte, error) {
	for i := len(p.dirs) - 1; i >= 0; i-- {
		b, err := os.ReadFile(filepath.Join(p.dirs[i], name))
		if !errors.Is(err, os.ErrNotExist) || i == 0 {
			return b, err
		}
	}
	return nil, os.ErrNotExist
}

// Record returns a pill that lets calls reach AWS and writes each
// response into dir, scrubbed (see Scrub).
func Record(dir string) *Pill {
	return &Pill{dir: dir, record: true, next: map[string]int{}}
}

// APIOptions returns the stack options that install the pill; append
// them to an aws.Config's APIOptions.
func (p *Pill) APIOptions() []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{p.install}
}

// Calls returns the calls made so far, in order.
func (p *Pill) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// CallsTo returns the calls made to one operation ("ec2.CreateTags").
func (p *Pill) CallsTo(name string) []Call {
	var out []Call
	for _, c := range p.Calls() {
		if c.Service+"."+c.Operation == name {
			out = append(out, c)
		}
	}
	return out
}

type paramsKey struct{}

func (p *Pill) install(s *middleware.Stack) error {
	// Initialize sees the typed input; keep it for the deserialize step,
	// which runs after serialization, the retryer and signing.
	keep := middleware.InitializeMiddlewareFunc("placebo.params", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		return next.HandleInitialize(middleware.WithStackValue(ctx, paramsKey{}, in.Parameters), in)
	})
	if err := s.Initialize.Add(keep, middleware.After); err != nil {
		return err
	}
	h := p.replay
	if p.record {
		h = p.recordCall
	}
	return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("placebo", h), middleware.Before)
}

// ServiceName is the placebo (boto3) name of an SDK service ID.
func ServiceName(serviceID string) string {
	switch serviceID {
	case "Config Service":
		return "config"
	case "CloudWatch Logs":
		return "logs"
	}
	return strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
}

func (p *Pill) call(ctx context.Context, in middleware.DeserializeInput) (Call, any) {
	params := middleware.GetStackValue(ctx, paramsKey{})
	c := Call{
		Service:   ServiceName(awsmiddleware.GetServiceID(ctx)),
		Operation: awsmiddleware.GetOperationName(ctx),
		Region:    awsmiddleware.GetRegion(ctx),
	}
	c.Params, _ = json.Marshal(params)
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		if cred, ok := strings.CutPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="); ok {
			c.AccessKeyID, _, _ = strings.Cut(cred, "/")
		}
	}
	return c, params
}

// take reserves the next file index of an operation.
func (p *Pill) take(c Call) string {
	key := c.Service + "." + c.Operation
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next[key]++
	return fmt.Sprintf("%s_%d.json", key, p.next[key])
}

func (p *Pill) keep(c Call) {
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
}

func (p *Pill) replay(ctx context.Context, in middleware.DeserializeInput, _ middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	var out middleware.DeserializeOutput
	var meta middleware.Metadata
	c, params := p.call(ctx, in)
	c.File = p.take(c)
	p.keep(c)
	b, err := p.read(c.File)
	if errors.Is(err, os.ErrNotExist) {
		return out, meta, fmt.Errorf("placebo: %s %s called once more than recorded: no %s in %s", c.Service, c.Operation, c.File, strings.Join(p.dirs, ", "))
	}
	if err != nil {
		return out, meta, fmt.Errorf("placebo: %w", err)
	}
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		return out, meta, fmt.Errorf("placebo: %s: %w", c.File, err)
	}
	if r.StatusCode == 0 {
		r.StatusCode = 200
	}
	out.RawResponse = &smithyhttp.Response{Response: &nethttp.Response{StatusCode: r.StatusCode, Header: nethttp.Header{}, Body: io.NopCloser(strings.NewReader(""))}}
	if r.StatusCode >= 300 {
		return out, meta, apiError(r, out.RawResponse.(*smithyhttp.Response), c.File)
	}
	result, err := decodeOutput(params, r.Data)
	if err != nil {
		return out, meta, fmt.Errorf("placebo: %s: %w", c.File, err)
	}
	out.Result = result
	return out, meta, nil
}

// apiError is the error the SDK's deserializer would have made of an
// error response: an API error (code, message) inside a response error
// carrying the status code, which the retryer classifies.
func apiError(r Response, resp *smithyhttp.Response, file string) error {
	var body struct {
		Error struct{ Code, Message, Type string }
	}
	if err := json.Unmarshal(r.Data, &body); err != nil || body.Error.Code == "" {
		return fmt.Errorf("placebo: %s: status %d without data.Error.Code", file, r.StatusCode)
	}
	fault := smithy.FaultClient
	if r.StatusCode >= 500 || body.Error.Type == "Receiver" {
		fault = smithy.FaultServer
	}
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: resp, Err: &smithy.GenericAPIError{Code: body.Error.Code, Message: body.Error.Message, Fault: fault}},
		RequestID:     "placebo",
	}
}

// decodeOutput decodes data into the output struct of the operation whose
// input is params. Unknown members are errors, so a hand-written file with
// a misspelt member fails loudly instead of reading as absent.
func decodeOutput(params any, data json.RawMessage) (any, error) {
	outType, err := outputType(reflect.TypeOf(params))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
	}
	delete(m, "ResponseMetadata") // boto3's, kept by Custodian's recordings
	b, _ := json.Marshal(m)
	v := reflect.New(outType)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, fmt.Errorf("data as %s: %w", outType.Name(), err)
	}
	return v.Interface(), nil
}

// TestAccessKeyID is the access key of LoadBase's static credentials.
const TestAccessKeyID = "AKIAPLACEBOEXAMPLE"

// LoadBase is a FactoryOptions.LoadBase for replay: static credentials
// that never leave the process (the profile is ignored).
func LoadBase(_ context.Context, _, region string) (aws.Config, error) {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(TestAccessKeyID, "placebo-secret", ""),
	}, nil
}

// Unused lists the response files in the pill's directory that no call
// has read: a test replaying a whole recording checks the code made every
// call the recording holds.
func (p *Pill) Unused() ([]string, error) {
	used := map[string]bool{}
	for _, c := range p.Calls() {
		used[c.File] = true
	}
	var out []string
	for _, dir := range p.dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if n := e.Name(); strings.HasSuffix(n, ".json") && n != MetaFile && !used[n] && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out, nil
}
