package sns

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// fixtureDir is testdata/events/cloudwatch at the module root.
const fixtureDir = "../../../testdata/events/cloudwatch"

const fixtureTopic = "arn:aws:sns:us-east-1:111122223333:flywheel-cloudwatch-alarms"

func fixtures(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixtures in %s (err %v)", fixtureDir, err)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, ok := fixtures(tb)[name]
	if !ok {
		tb.Fatalf("fixture %s missing", name)
	}
	return b
}

// unverified returns an adapter that trusts signatures, as the fixture
// signatures are random bytes, and records confirmations instead of
// fetching.
func unverified(tb testing.TB, confirmed *[]string) *Adapter {
	tb.Helper()
	a, err := New(Config{
		AllowedTopics: []string{fixtureTopic},
		SkipVerify:    true,
		Confirm: func(_ context.Context, u string) error {
			if confirmed != nil {
				*confirmed = append(*confirmed, u)
			}
			return nil
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func mustParse(tb testing.TB, a *Adapter, body []byte) intake.Result {
	tb.Helper()
	res, err := a.Parse(context.Background(), intake.Request{Body: body, Header: http.Header{}})
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return res
}

// testPKI is a local CA and a leaf signing certificate issued by it,
// standing in for the certificate SNS publishes.
type testPKI struct {
	caKey, leafKey *rsa.PrivateKey
	caCert, leaf   *x509.Certificate
	leafPEM        []byte
}

var (
	pkiOnce sync.Once
	pki     *testPKI
)

// notBefore/notAfter bracket the fixture times; tests inject a clock.
var (
	certNotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	fixtureNow    = time.Date(2026, 3, 10, 15, 1, 0, 0, time.UTC)
)

func getPKI(tb testing.TB) *testPKI {
	tb.Helper()
	pkiOnce.Do(func() {
		p := &testPKI{}
		var err error
		if p.caKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if p.leafKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		caTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Flywheel Test Root CA"},
			NotBefore: certNotBefore, NotAfter: certNotAfter,
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &p.caKey.PublicKey, p.caKey)
		if err != nil {
			panic(err)
		}
		if p.caCert, err = x509.ParseCertificate(caDER); err != nil {
			panic(err)
		}
		leafTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "sns.us-east-1.amazonaws.com"},
			NotBefore: certNotBefore, NotAfter: certNotAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		}
		leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, p.caCert, &p.leafKey.PublicKey, p.caKey)
		if err != nil {
			panic(err)
		}
		if p.leaf, err = x509.ParseCertificate(leafDER); err != nil {
			panic(err)
		}
		if err := p.leaf.CheckSignatureFrom(p.caCert); err != nil {
			panic(err)
		}
		p.leafPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
		pki = p
	})
	return pki
}

// certServer serves the leaf certificate over TLS and counts requests.
type certServer struct {
	*httptest.Server
	certHits, confirmHits, otherHits atomic.Int64
}

func newCertServer(tb testing.TB) *certServer {
	tb.Helper()
	p := getPKI(tb)
	s := &certServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/SimpleNotificationService-test.pem", func(w http.ResponseWriter, _ *http.Request) {
		s.certHits.Add(1)
		w.Write(p.leafPEM)
	})
	mux.HandleFunc("/confirm", func(w http.ResponseWriter, _ *http.Request) {
		s.confirmHits.Add(1)
		w.Write([]byte("<ConfirmSubscriptionResponse/>"))
	})
	mux.HandleFunc("/redirect.pem", func(w http.ResponseWriter, r *http.Request) {
		s.otherHits.Add(1)
		http.Redirect(w, r, "/SimpleNotificationService-test.pem", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		s.otherHits.Add(1)
		http.NotFound(w, nil)
	})
	s.Server = httptest.NewTLSServer(mux)
	tb.Cleanup(s.Close)
	return s
}

func (s *certServer) host() string {
	u, _ := url.Parse(s.URL)
	return u.Host
}

func (s *certServer) certURL() string { return s.URL + "/SimpleNotificationService-test.pem" }

func (s *certServer) hits() int64 {
	return s.certHits.Load() + s.confirmHits.Load() + s.otherHits.Load()
}

// verifying returns an adapter that verifies against the test server.
func (s *certServer) verifying(tb testing.TB, mutate func(*Config)) *Adapter {
	tb.Helper()
	cfg := Config{
		AllowedTopics: []string{fixtureTopic},
		CertHosts:     []string{s.host()},
		HTTPClient:    s.Client(),
		Clock:         func() time.Time { return fixtureNow },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// sign re-signs an SNS body with the test leaf key. It builds the string
// to sign itself, from the SNS developer guide, rather than with the code
// under test. edit, when set, changes fields before signing.
func sign(tb testing.TB, body []byte, version, certURL string, edit func(map[string]any)) []byte {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatal(err)
	}
	m["SignatureVersion"] = version
	m["SigningCertURL"] = certURL
	if edit != nil {
		edit(m)
	}
	keys := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != "Notification" {
		keys = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	sort.Strings(keys)
	var text []byte
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		text = append(text, k+"\n"+v.(string)+"\n"...)
	}
	var digest []byte
	hash := crypto.SHA1
	if version == "2" {
		hash = crypto.SHA256
		s := sha256.Sum256(text)
		digest = s[:]
	} else {
		s := sha1.Sum(text)
		digest = s[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, getPKI(tb).leafKey, hash, digest)
	if err != nil {
		tb.Fatal(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// checkEvent asserts the invariants every normalized event must hold.
func checkEvent(t *testing.T, ev event.Event) {
	t.Helper()
	switch {
	case ev.Source == "", ev.Kind == "", ev.Title == "", ev.Fingerprint == "":
		t.Fatalf("event missing source, kind, title or fingerprint: %+v", ev)
	case !ev.Severity.Valid():
		t.Fatalf("invalid severity %q", ev.Severity)
	case ev.Status != event.StatusFiring && ev.Status != event.StatusResolved:
		t.Fatalf("invalid status %q", ev.Status)
	case len(ev.Raw) == 0:
		t.Fatal("empty raw")
	}
	if _, err := json.Marshal(ev); err != nil {
		t.Fatalf("event does not encode: %v", err)
	}
}
