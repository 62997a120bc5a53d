package sns

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// pemTransport answers every request with the test signing certificate,
// so fuzzing exercises verification without a network.
type pemTransport struct{ pem []byte }

func (p pemTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{},
		Body: io.NopCloser(bytes.NewReader(p.pem)), Request: r,
	}, nil
}

// FuzzParse feeds arbitrary bodies to two adapters: one that skips
// verification (so bodies reach message decoding) and one that verifies
// against a fixed certificate (so the verification paths see them too).
// Neither may panic; every error must be a *intake.BadRequest; every
// result is a Control or well-formed events. The seed corpus in
// testdata/fuzz/FuzzParse holds the shared fixtures.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `[]`, `null`,
		`{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"plain text\nline 2","Subject":null}`,
		`{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"OK\",\"Trigger\":{\"Dimensions\":[{\"name\":\"InstanceId\",\"value\":\"i-1\"}]}}"}`,
		`{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"{\"detail-type\":\"X\",\"detail\":{}}"}`,
		`{"Type":"UnsubscribeConfirmation","MessageId":"m","TopicArn":"t","Message":"","SubscribeURL":"https://sns.us-east-1.amazonaws.com/"}`,
		`{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"x","SignatureVersion":"2","Signature":"AAAA","SigningCertURL":"https://sns.us-east-1.amazonaws.com/c.pem"}`,
	} {
		f.Add([]byte(s))
	}
	confirm := func(context.Context, string) error { return nil }
	skip, err := New(Config{AllowedTopics: []string{"*"}, SkipVerify: true, Confirm: confirm})
	if err != nil {
		f.Fatal(err)
	}
	verify, err := New(Config{
		AllowedTopics: []string{"*"}, Confirm: confirm,
		HTTPClient: &http.Client{Transport: pemTransport{getPKI(f).leafPEM}},
		Clock:      func() time.Time { return fixtureNow },
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, a := range []*Adapter{skip, verify} {
			res, err := a.Parse(context.Background(), intake.Request{Body: body, Header: http.Header{}})
			if err != nil {
				var br *intake.BadRequest
				if !errors.As(err, &br) || br.Message == "" {
					t.Fatalf("error %v (%T) is not a *intake.BadRequest with a message", err, err)
				}
				continue
			}
			if res.Control == nil && len(res.Events) == 0 {
				t.Fatal("neither a control nor events")
			}
			for _, ev := range res.Events {
				checkEvent(t, ev)
			}
		}
	})
}
