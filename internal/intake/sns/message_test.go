package sns

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "AllowedTopics is empty"},
		{Config{AllowedTopics: []string{" "}}, "AllowedTopics[0] is empty"},
		{Config{AllowedTopics: []string{"*"}, CertHosts: []string{"https://sns.x"}}, `CertHosts[0] "https://sns.x" is not a host`},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", tc.cfg, err, tc.want)
		}
	}
	a, err := New(Config{AllowedTopics: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.cfg.SkipVerify || len(a.cfg.CertHosts) != 2 || a.cfg.HTTPClient == nil || a.cfg.Clock == nil || a.cfg.Confirm == nil {
		t.Errorf("defaults not applied: %+v", a.cfg)
	}
	if a.Name() != "sns" {
		t.Errorf("Name() = %q", a.Name())
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", fixtureTopic, true},
		{fixtureTopic, fixtureTopic, true},
		{fixtureTopic, fixtureTopic + "-2", false},
		{"arn:aws:sns:*:111122223333:*", fixtureTopic, true},
		{"arn:aws:sns:*:444455556666:*", fixtureTopic, false},
		{"arn:aws:sns:us-east-1:111122223333:flywheel-*", fixtureTopic, true},
		{"arn:aws:sns:us-east-1:111122223333:*-alarms", fixtureTopic, true},
		{"*alarms*", fixtureTopic, true},
		{"**", "", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "x", false},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// TestStringToSign pins the exact text against the SNS developer guide's
// layout.
func TestStringToSign(t *testing.T) {
	t.Parallel()
	msg, subj := "hello\nworld", "Hi"
	n := &message{Type: "Notification", MessageID: "m-1", TopicARN: "arn:t", Subject: &subj, Message: &msg, Timestamp: "2026-03-10T15:00:41.618Z", SubscribeURL: "ignored", Token: "ignored"}
	want := "Message\nhello\nworld\nMessageId\nm-1\nSubject\nHi\nTimestamp\n2026-03-10T15:00:41.618Z\nTopicArn\narn:t\nType\nNotification\n"
	if got := stringToSign(n); got != want {
		t.Errorf("notification:\n%q\nwant\n%q", got, want)
	}
	n.Subject = nil
	want = "Message\nhello\nworld\nMessageId\nm-1\nTimestamp\n2026-03-10T15:00:41.618Z\nTopicArn\narn:t\nType\nNotification\n"
	if got := stringToSign(n); got != want {
		t.Errorf("notification without subject:\n%q\nwant\n%q", got, want)
	}
	c := &message{Type: "SubscriptionConfirmation", MessageID: "m-2", TopicARN: "arn:t", Message: &msg, Timestamp: "T", SubscribeURL: "https://s/", Token: "tok", Subject: &subj}
	want = "Message\nhello\nworld\nMessageId\nm-2\nSubscribeURL\nhttps://s/\nTimestamp\nT\nToken\ntok\nTopicArn\narn:t\nType\nSubscriptionConfirmation\n"
	if got := stringToSign(c); got != want {
		t.Errorf("confirmation:\n%q\nwant\n%q", got, want)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	a, err := New(Config{AllowedTopics: []string{fixtureTopic}, SkipVerify: true, Confirm: func(context.Context, string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	note := func(extra string) string {
		return `{"Type":"Notification","MessageId":"m","TopicArn":"` + fixtureTopic + `","Timestamp":"2026-03-10T15:00:41.618Z"` + extra + `}`
	}
	for _, tc := range []struct {
		name, body string
		header     http.Header
		status     int
		want       string
	}{
		{"empty", "", nil, 400, "request body is empty"},
		{"not json", "Type=Notification", nil, 400, "request body is not valid JSON"},
		{"truncated", `{"Type":"Notification","Message":"`, nil, 400, "invalid JSON: unexpected end of input"},
		{"array", `[1,2]`, nil, 400, "expected an SNS message object, got array of numbers"},
		{"no type", `{"MessageId":"m"}`, nil, 400, "Type is required"},
		{"unknown type", `{"Type":"Telegram","TopicArn":"t"}`, nil, 400, `unknown SNS message Type "Telegram"`},
		{"unknown type from header", `{"TopicArn":"t"}`, http.Header{"X-Amz-Sns-Message-Type": {"Telegram"}}, 400, `unknown SNS message Type "Telegram"`},
		{"header disagrees", note(`,"Message":"x"`), http.Header{"X-Amz-Sns-Message-Type": {"SubscriptionConfirmation"}}, 400, `x-amz-sns-message-type header "SubscriptionConfirmation" does not match Type "Notification"`},
		{"topic header disagrees", note(`,"Message":"x"`), http.Header{"X-Amz-Sns-Topic-Arn": {"arn:aws:sns:us-east-1:111122223333:other"}}, 400, "x-amz-sns-topic-arn header"},
		{"message type", note(`,"Message":{"a":1}`), nil, 400, "Message: expected string, got JSON object"},
		{"no message", note(``), nil, 400, "Message is required"},
		{"no topic", `{"Type":"Notification","MessageId":"m","Message":"x"}`, nil, 400, "TopicArn is required"},
		{"no message id", `{"Type":"Notification","TopicArn":"t","Message":"x"}`, nil, 400, "MessageId is required"},
		{"topic not allowed", `{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:x","Message":"x"}`, nil, 403, "topic arn:aws:sns:us-east-1:1:x is not allow-listed"},
		{"alarm field type", note(`,"Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"ALARM\",\"Trigger\":\"x\"}"`), nil, 400, "Message: Trigger: expected "},
		{"alarm without state", note(`,"Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"\"}"`), nil, 400, "Message.NewStateValue is required"},
		{"eventbridge inside", note(`,"Message":"{\"detail-type\":\"GuardDuty Finding\",\"detail\":{}}"`), nil, 400, "Message: detail.id is required"},
		{"no subscribe url", `{"Type":"SubscriptionConfirmation","MessageId":"m","TopicArn":"` + fixtureTopic + `","Message":"x"}`, nil, 400, "SubscribeURL is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			_, err := a.Parse(context.Background(), intake.Request{Body: []byte(tc.body), Header: h})
			br, ok := intake.AsBadRequest(err)
			if !ok {
				t.Fatalf("error %v (%T) is not a *intake.BadRequest", err, err)
			}
			if br.Status != tc.status || !strings.Contains(br.Message, tc.want) {
				t.Errorf("got %d %q, want %d containing %q", br.Status, br.Message, tc.status, tc.want)
			}
		})
	}
}

// notification builds an unsigned Notification body around message.
func notification(t *testing.T, subject *string, msg string) []byte {
	t.Helper()
	m := map[string]any{
		"Type": "Notification", "MessageId": "3f1c", "TopicArn": fixtureTopic, "Message": msg,
		"Timestamp": "2026-03-10T16:20:00.000Z", "SignatureVersion": "1", "Signature": "AAAA",
		"SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem",
	}
	if subject != nil {
		m["Subject"] = *subject
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMessageShapes(t *testing.T) {
	t.Parallel()
	a := unverified(t, nil)
	one := func(t *testing.T, body []byte) event.Event {
		t.Helper()
		evs := mustParse(t, a, body).Events
		if len(evs) != 1 {
			t.Fatalf("got %d events, want 1", len(evs))
		}
		checkEvent(t, evs[0])
		return evs[0]
	}

	t.Run("text with subject", func(t *testing.T) {
		subj := "Budget alert: 80% of monthly budget used"
		ev := one(t, notification(t, &subj, "Your budget ops-prod has exceeded 80%.\nDetails follow."))
		if ev.Source != "sns" || ev.Title != subj || ev.Severity != event.SeverityInfo || ev.Kind != event.KindAlert ||
			ev.Description != "Your budget ops-prod has exceeded 80%.\nDetails follow." || ev.SourceID != "3f1c" ||
			ev.OccurredAt.Format("15:04:05") != "16:20:00" || ev.Labels["topic"] != "flywheel-cloudwatch-alarms" {
			t.Errorf("got %+v", ev)
		}
		again := one(t, notification(t, &subj, "a different body"))
		if again.Fingerprint != ev.Fingerprint {
			t.Error("same topic and subject should share a fingerprint")
		}
	})
	t.Run("text without subject", func(t *testing.T) {
		ev := one(t, notification(t, nil, "\n  RDS instance orders-db restarted  \nsecond line"))
		if ev.Title != "RDS instance orders-db restarted" {
			t.Errorf("title = %q", ev.Title)
		}
		long := one(t, notification(t, nil, strings.Repeat("é", 300)))
		if len(long.Title) > maxTitle+len("…") || !strings.HasSuffix(long.Title, "…") {
			t.Errorf("long title not cut: %d bytes", len(long.Title))
		}
		empty := one(t, notification(t, nil, ""))
		if empty.Title != "SNS message on flywheel-cloudwatch-alarms" {
			t.Errorf("empty title = %q", empty.Title)
		}
	})
	t.Run("json that is not an alarm", func(t *testing.T) {
		ev := one(t, notification(t, nil, `{"Event Source":"db-instance","Event Message":"DB instance restarted"}`))
		if ev.Source != "sns" {
			t.Errorf("got %+v", ev)
		}
	})
	t.Run("composite alarm", func(t *testing.T) {
		ev := one(t, notification(t, nil, `{"AlarmName":"storefront-degraded","NewStateValue":"ALARM","OldStateValue":"OK",`+
			`"AlarmRule":"ALARM(web-5xx) AND ALARM(web-latency)","StateChangeTime":"2026-03-10T16:19:58.100+0000",`+
			`"AWSAccountId":"111122223333","Region":"US East (N. Virginia)"}`))
		want := event.ResourceRef{Type: "aws-account", ID: "111122223333", Region: "us-east-1", Account: "111122223333"}
		if ev.Labels["alarm_type"] != "composite" || len(ev.Resources) != 1 || ev.Resources[0] != want ||
			ev.Labels["alarm_arn"] != "arn:aws:cloudwatch:us-east-1:111122223333:alarm:storefront-degraded" ||
			ev.OccurredAt.Format("15:04:05.000") != "16:19:58.100" {
			t.Errorf("got %+v", ev)
		}
	})
	t.Run("insufficient data", func(t *testing.T) {
		ev := one(t, notification(t, nil, `{"AlarmName":"a","NewStateValue":"INSUFFICIENT_DATA","AlarmArn":"arn:aws:cloudwatch:eu-west-1:444455556666:alarm:a"}`))
		if ev.Status != event.StatusFiring || ev.Severity != event.SeverityLow || ev.Labels["region"] != "eu-west-1" || ev.Labels["account"] != "444455556666" {
			t.Errorf("got %+v", ev)
		}
		// No StateChangeTime: the SNS Timestamp is the event's time.
		if ev.OccurredAt.Format("15:04:05") != "16:20:00" {
			t.Errorf("occurred_at = %v", ev.OccurredAt)
		}
	})
	t.Run("eventbridge event on the topic", func(t *testing.T) {
		eb := `{"version":"0","id":"e9bab13f","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2",` +
			`"account":"111122223333","time":"2026-03-10T16:11:58Z","region":"us-east-1","resources":[],` +
			`"detail":{"instance-id":"i-011accafc243a5044","state":"stopped"}}`
		body := notification(t, nil, eb)
		ev := one(t, body)
		if ev.Source != "ec2" || ev.SourceID != "e9bab13f" || string(ev.Raw) != string(body) || ev.Labels["topic_arn"] != fixtureTopic {
			t.Errorf("got %+v", ev)
		}
	})
}
