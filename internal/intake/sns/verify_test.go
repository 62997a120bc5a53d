package sns

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// wantForbidden asserts err is a 403 *intake.BadRequest containing msg.
func wantForbidden(t *testing.T, err error, msg string) {
	t.Helper()
	br, ok := intake.AsBadRequest(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *intake.BadRequest", err, err)
	}
	if br.Status != http.StatusForbidden || !strings.Contains(br.Message, msg) {
		t.Fatalf("got %d %q, want 403 containing %q", br.Status, br.Message, msg)
	}
}

func parseErr(a *Adapter, body []byte) error {
	_, err := a.Parse(context.Background(), intake.Request{Body: body, Header: http.Header{}})
	return err
}

// TestVerifySigned re-signs the notification fixtures with the test key,
// in both signature versions, and checks they verify and normalize as the
// unverified fixtures do; the certificate is fetched once and cached.
func TestVerifySigned(t *testing.T) {
	t.Parallel()
	srv := newCertServer(t)
	a := srv.verifying(t, nil)
	plain := unverified(t, nil)
	for _, name := range []string{"sns-alarm-notification.json", "sns-alarm-ok.json"} {
		for _, version := range []string{"1", "2"} {
			body := sign(t, fixture(t, name), version, srv.certURL(), nil)
			got := mustParse(t, a, body).Events
			want := mustParse(t, plain, body).Events
			if len(got) != 1 || got[0].Fingerprint != want[0].Fingerprint || got[0].Status != want[0].Status {
				t.Errorf("%s v%s: got %+v, want %+v", name, version, got, want)
			}
		}
	}
	if n := srv.certHits.Load(); n != 1 {
		t.Errorf("certificate fetched %d times, want 1 (cached by URL)", n)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	srv := newCertServer(t)
	base := fixture(t, "sns-alarm-notification.json")

	t.Run("tampered message", func(t *testing.T) {
		t.Parallel()
		body := sign(t, base, "2", srv.certURL(), nil)
		body = []byte(strings.Replace(string(body), `\"NewStateValue\":\"ALARM\"`, `\"NewStateValue\":\"OK\"`, 1))
		if !strings.Contains(string(body), `\"NewStateValue\":\"OK\"`) {
			t.Fatal("tamper did not apply")
		}
		wantForbidden(t, parseErr(srv.verifying(t, nil), body), "signature verification failed: the signature does not match the message")
	})
	t.Run("subject removed", func(t *testing.T) {
		t.Parallel()
		body := sign(t, base, "1", srv.certURL(), nil)
		body = []byte(strings.Replace(string(body), `"Subject":`, `"Subjekt":`, 1))
		wantForbidden(t, parseErr(srv.verifying(t, nil), body), "does not match")
	})
	t.Run("version swapped", func(t *testing.T) {
		t.Parallel()
		body := sign(t, base, "1", srv.certURL(), nil)
		body = []byte(strings.Replace(string(body), `"SignatureVersion":"1"`, `"SignatureVersion":"2"`, 1))
		wantForbidden(t, parseErr(srv.verifying(t, nil), body), "does not match")
	})
	t.Run("unsupported version", func(t *testing.T) {
		t.Parallel()
		body := sign(t, base, "3", srv.certURL(), nil)
		wantForbidden(t, parseErr(srv.verifying(t, nil), body), `unsupported SignatureVersion "3"`)
	})
	t.Run("bad base64", func(t *testing.T) {
		t.Parallel()
		body := sign(t, base, "1", srv.certURL(), func(m map[string]any) {})
		body = []byte(strings.Replace(string(body), `"Signature":"`, `"Signature":"!!`, 1))
		wantForbidden(t, parseErr(srv.verifying(t, nil), body), "Signature is not valid base64")
	})
	t.Run("certificate expired", func(t *testing.T) {
		t.Parallel()
		a := srv.verifying(t, func(c *Config) { c.Clock = func() time.Time { return certNotAfter.Add(time.Hour) } })
		wantForbidden(t, parseErr(a, sign(t, base, "1", srv.certURL(), nil)), "signing certificate is not valid at 2027-01-01T01:00:00Z")
	})
	t.Run("certificate not found", func(t *testing.T) {
		t.Parallel()
		wantForbidden(t, parseErr(srv.verifying(t, nil), sign(t, base, "1", srv.URL+"/nope.pem", nil)), "signing certificate: 404 Not Found")
	})
	t.Run("redirect not followed", func(t *testing.T) {
		t.Parallel()
		local := newCertServer(t)
		err := parseErr(local.verifying(t, nil), sign(t, base, "1", local.URL+"/redirect.pem", nil))
		if err == nil {
			t.Fatal("a redirected certificate fetch verified")
		}
		if _, ok := intake.AsBadRequest(err); ok {
			t.Fatalf("a 3xx from the certificate host should be a server fault (retried), got %v", err)
		}
		if local.certHits.Load() != 0 {
			t.Fatal("the redirect was followed")
		}
	})
}

// TestCertHostAllowList checks that certificate URLs off the allow-list
// are refused before anything is fetched.
func TestCertHostAllowList(t *testing.T) {
	t.Parallel()
	srv := newCertServer(t)
	base := fixture(t, "sns-alarm-notification.json")
	for _, tc := range []struct {
		name, certURL string
		hosts         []string
		want          string
	}{
		{"default hosts refuse the test host", srv.certURL(), nil, "SigningCertURL host \"" + srv.host() + "\" is not an allow-listed SNS host"},
		{"lookalike host", srv.certURL(), []string{"sns.*.amazonaws.com"}, "is not an allow-listed SNS host"},
		{"plain http", strings.Replace(srv.certURL(), "https://", "http://", 1), []string{srv.host()}, `SigningCertURL must use https, got "http"`},
		{"other port", "https://127.0.0.1:1/cert.pem", []string{srv.host()}, "is not an allow-listed SNS host"},
		{"userinfo trick", "https://" + srv.host() + "@evil.example.com/cert.pem", []string{srv.host()}, "is not an allow-listed SNS host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := srv.verifying(t, func(c *Config) { c.CertHosts = tc.hosts })
			wantForbidden(t, parseErr(a, sign(t, base, "1", tc.certURL, nil)), tc.want)
		})
	}
	if n := srv.hits(); n != 0 {
		t.Errorf("server saw %d requests, want none", n)
	}
}

func TestHostAllowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://sns.us-east-1.amazonaws.com/x.pem", true},
		{"https://sns.eu-west-3.amazonaws.com:443/x.pem", true},
		{"https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem", true},
		{"https://sns.cn-north-1.amazonaws.com.cn/x.pem", true},
		{"https://sns.us-gov-west-1.amazonaws.com/x.pem", true},
		{"https://sns.us-east-1.amazonaws.com:8443/x.pem", false},
		{"https://sns.amazonaws.com/x.pem", false},
		{"https://sns.evil.us-east-1.amazonaws.com/x.pem", false},
		{"https://sns.us-east-1.amazonaws.com.evil.example/x.pem", false},
		{"https://snsxus-east-1.amazonaws.com/x.pem", false},
		{"https://s3.us-east-1.amazonaws.com/x.pem", false},
		{"https://sns..amazonaws.com/x.pem", false},
	} {
		a, err := New(Config{AllowedTopics: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.checkHostURL("SigningCertURL", tc.url) == nil; got != tc.want {
			t.Errorf("%s allowed = %v, want %v", tc.url, got, tc.want)
		}
	}
}

// TestSubscriptionConfirmation signs a confirmation whose SubscribeURL
// points at the test server and checks the default Confirm fetches it.
func TestSubscriptionConfirmation(t *testing.T) {
	t.Parallel()
	srv := newCertServer(t)
	body := sign(t, fixture(t, "sns-subscription-confirmation.json"), "1", srv.certURL(), func(m map[string]any) {
		m["SubscribeURL"] = srv.URL + "/confirm?Action=ConfirmSubscription&Token=abc"
	})
	res := mustParse(t, srv.verifying(t, nil), body)
	if res.Control == nil || res.Control.Status != 200 || res.Control.Message != "subscription confirmed for "+fixtureTopic || len(res.Events) != 0 {
		t.Fatalf("got %+v", res)
	}
	if n := srv.confirmHits.Load(); n != 1 {
		t.Errorf("SubscribeURL fetched %d times, want 1", n)
	}

	// A forged confirmation is refused before anything is confirmed.
	forged := []byte(strings.Replace(string(body), "Token=abc", "Token=abd", 1))
	wantForbidden(t, parseErr(srv.verifying(t, nil), forged), "does not match")
	if n := srv.confirmHits.Load(); n != 1 {
		t.Errorf("forged confirmation was confirmed")
	}
}

func TestSubscriptionRefused(t *testing.T) {
	t.Parallel()
	srv := newCertServer(t)
	a := srv.verifying(t, func(c *Config) {
		c.AllowedTopics = []string{"arn:aws:sns:*:444455556666:*"}
		c.Confirm = func(context.Context, string) error { t.Error("Confirm called for a refused topic"); return nil }
	})
	res := mustParse(t, a, sign(t, fixture(t, "sns-subscription-confirmation.json"), "1", srv.certURL(), nil))
	want := "topic " + fixtureTopic + " is not allow-listed; confirmation refused"
	if res.Control == nil || res.Control.Status != 403 || res.Control.Message != want || len(res.Events) != 0 {
		t.Fatalf("got %+v, want control 403 %q", res.Control, want)
	}
	// A notification from the topic is refused too.
	wantForbidden(t, parseErr(a, sign(t, fixture(t, "sns-alarm-notification.json"), "1", srv.certURL(), nil)), "is not allow-listed")
	if n := srv.hits(); n != 0 {
		t.Errorf("server saw %d requests for a refused topic, want none", n)
	}
}

func TestSubscribeURLAllowList(t *testing.T) {
	t.Parallel()
	a, err := New(Config{
		AllowedTopics: []string{"*"}, SkipVerify: true,
		Confirm: func(context.Context, string) error { t.Error("Confirm called"); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(fixture(t, "sns-subscription-confirmation.json")),
		"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription", "https://attacker.example.com/?Action=ConfirmSubscription", 1)
	wantForbidden(t, parseErr(a, []byte(body)), `SubscribeURL host "attacker.example.com" is not an allow-listed SNS host`)
}

func TestUnsubscribeConfirmation(t *testing.T) {
	t.Parallel()
	srv := newCertServer(t)
	body := sign(t, fixture(t, "sns-subscription-confirmation.json"), "2", srv.certURL(), func(m map[string]any) {
		m["Type"] = "UnsubscribeConfirmation"
	})
	res := mustParse(t, srv.verifying(t, nil), body)
	if res.Control == nil || res.Control.Type != "UnsubscribeConfirmation" || res.Control.Status != 200 || len(res.Events) != 0 {
		t.Fatalf("got %+v", res)
	}
}

func TestCertCacheBounded(t *testing.T) {
	t.Parallel()
	c := newCertCache(maxCachedCerts)
	leaf := getPKI(t).leaf
	for i := range maxCachedCerts + 10 {
		c.put("https://sns.us-east-1.amazonaws.com/"+string(rune('a'+i%26))+strings.Repeat("x", i)+".pem", leaf)
	}
	if n := c.len(); n != maxCachedCerts {
		t.Errorf("cache holds %d certificates, want %d", n, maxCachedCerts)
	}
	if _, ok := c.get("https://sns.us-east-1.amazonaws.com/a.pem"); ok {
		t.Error("oldest entry was not evicted")
	}
}
