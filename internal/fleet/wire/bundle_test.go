package wire_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
	"github.com/flywheel-ops/flywheel/internal/tlsutil"
)

// testCA is a real CA certificate, made once.
var testCA = func() string {
	dir, err := os.MkdirTemp("", "bundle-ca-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	f, err := tlsutil.Auto(dir, nil, time.Now())
	if err != nil {
		panic(err)
	}
	b, err := os.ReadFile(f.CACert)
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func TestParseBundle(t *testing.T) {
	good := wire.Bundle{Format: wire.BundleFormat, Server: "https://flywheel.example.com:8443", CACert: testCA, Token: "fwe_abc", Tags: map[string]string{"env": "prod"}}
	b, _ := json.Marshal(good)
	got, err := wire.ParseBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Server != good.Server || got.CACert != testCA || got.Tags["env"] != "prod" {
		t.Errorf("parsed = %+v", got)
	}
	for _, tc := range []struct{ in, want string }{
		{`{`, "not an enrollment bundle"},
		{`{"format":"flywheel-enrollment/v1","server":"https://x","token":"fwe_a","extra":1}`, "unknown field"},
		{`{"format":"v0","server":"https://x","token":"fwe_a"}`, "format"},
		{`{"format":"flywheel-enrollment/v1","server":"ftp://x","token":"fwe_a"}`, "server"},
		{`{"format":"flywheel-enrollment/v1","server":"https://x","token":"fw_admin"}`, "token"},
		{`{"format":"flywheel-enrollment/v1","server":"https://x","token":"fwe_a","ca_cert":"junk"}`, "ca_cert"},
		{`{"format":"flywheel-enrollment/v1","server":"https://x","token":"fwe_a","ca_cert":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}`, "PRIVATE KEY"},
		{`{"format":"flywheel-enrollment/v1","server":"https://x","token":"fwe_a"} {}`, "trailing"},
		{`{"format":"flywheel-enrollment/v1","server":"https://x","token":"fwe_a","ca_cert":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}`, "ca_cert:"},
		{strings.Repeat(" ", wire.MaxBundleSize+1), "more than"},
	} {
		if _, err := wire.ParseBundle([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseBundle(%.60q) = %v, want mention of %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseBundle(f *testing.F) {
	good, _ := json.Marshal(wire.Bundle{Format: wire.BundleFormat, Server: "https://h:1", CACert: testCA, Token: "fwe_x"})
	f.Add(good)
	f.Add([]byte(`{"format":"flywheel-enrollment/v1","server":"http://127.0.0.1:8080","token":"fwe_a","tags":{"a":"b"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := wire.ParseBundle(data)
		if err != nil {
			return
		}
		if b.Format != wire.BundleFormat || !strings.HasPrefix(b.Token, wire.EnrollTokenPrefix) ||
			!(strings.HasPrefix(b.Server, "http://") || strings.HasPrefix(b.Server, "https://")) {
			t.Fatalf("accepted an invalid bundle: %+v", b)
		}
	})
}
