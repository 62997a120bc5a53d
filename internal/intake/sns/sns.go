// Package sns is the intake adapter for Amazon SNS HTTP(S) subscriptions,
// the way CloudWatch alarms (and anything else published to a topic) reach
// Flywheel.
//
// SNS posts a JSON envelope as text/plain. The adapter verifies its
// signature (verify.go), answers the subscription handshake for allow-listed
// topics, and decodes a Notification's Message a second time: a CloudWatch
// alarm body becomes a "cloudwatch" alert (alarm.go) fingerprinted by alarm
// ARN exactly as the EventBridge adapter does, so ALARM and OK pair up
// whichever path they take; an EventBridge event published to the topic is
// handed to the EventBridge adapter; any other message becomes a generic
// "sns" event (text.go).
//
// Unlike most adapters this one does I/O, as the SNS protocol demands: it
// fetches signing certificates from allow-listed SNS hosts (cached) and
// confirms subscriptions by fetching SubscribeURL, both through the
// injected HTTP client.
package sns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/eventbridge"
)

// Config configures the SNS adapter. The zero value is not usable:
// AllowedTopics must name the topics to accept.
type Config struct {
	// AllowedTopics lists the topic ARNs whose subscriptions are confirmed
	// and whose notifications are accepted. "*" in an entry matches any run
	// of characters ("arn:aws:sns:*:111122223333:*"); a lone "*" accepts
	// every topic.
	AllowedTopics []string
	// CertHosts lists the hosts SigningCertURL (and SubscribeURL) may point
	// to; the scheme must be https. "*" in an entry matches one DNS label.
	// An entry without a port matches only the default https port; an entry
	// with one ("127.0.0.1:8443") matches exactly. Default: the SNS
	// endpoints of every region, "sns.*.amazonaws.com" and
	// "sns.*.amazonaws.com.cn".
	CertHosts []string
	// HTTPClient fetches signing certificates and confirms subscriptions.
	// The adapter never follows redirects with it, so a redirect cannot
	// lead off the allow-listed hosts. Default: a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// SkipVerify disables signature verification. Only for tests and for
	// deployments that authenticate deliveries some other way; never the
	// default.
	SkipVerify bool
	// Clock tells the time for certificate validity. Default: time.Now.
	Clock func() time.Time
	// Confirm confirms a subscription. Default: GET subscribeURL with
	// HTTPClient and expect a 2xx answer.
	Confirm func(ctx context.Context, subscribeURL string) error
}

// defaultCertHosts are the SNS endpoint hosts of the aws and aws-cn
// partitions (GovCloud's, "sns.us-gov-west-1.amazonaws.com", match the
// first).
func defaultCertHosts() []string {
	return []string{"sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"}
}

// maxCachedCerts bounds the certificate cache; SNS uses a handful of
// certificates per region at a time.
const maxCachedCerts = 64

// WithDefaults returns a copy of c with every unset field defaulted.
func (c Config) WithDefaults() Config {
	if len(c.CertHosts) == 0 {
		c.CertHosts = defaultCertHosts()
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if len(c.AllowedTopics) == 0 {
		errs = append(errs, errors.New(`sns: AllowedTopics is empty; list the topic ARNs to accept, or "*"`))
	}
	for i, t := range c.AllowedTopics {
		if strings.TrimSpace(t) == "" {
			errs = append(errs, fmt.Errorf("sns: AllowedTopics[%d] is empty", i))
		}
	}
	for i, h := range c.CertHosts {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, "/@") {
			errs = append(errs, fmt.Errorf("sns: CertHosts[%d] %q is not a host", i, h))
		}
	}
	return errors.Join(errs...)
}

// Adapter parses SNS HTTP(S) deliveries. It is safe for concurrent use.
type Adapter struct {
	cfg    Config
	client *http.Client // cfg.HTTPClient, never following redirects
	certs  *certCache
	eb     *eventbridge.Adapter
}

var _ intake.Adapter = (*Adapter)(nil)

// New returns an SNS adapter, or an error naming the Config field that is
// wrong.
func New(cfg Config) (*Adapter, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	client := *cfg.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	a := &Adapter{cfg: cfg, client: &client, certs: newCertCache(maxCachedCerts), eb: eventbridge.New()}
	if a.cfg.Confirm == nil {
		a.cfg.Confirm = a.confirmByGET
	}
	return a, nil
}

// Name returns "sns".
func (*Adapter) Name() string { return "sns" }

// Parse handles one SNS delivery: a subscription handshake becomes a
// Control, a Notification becomes events.
func (a *Adapter) Parse(ctx context.Context, req intake.Request) (intake.Result, error) {
	m, err := decodeMessage(req)
	if err != nil {
		return intake.Result{}, err
	}
	switch m.Type {
	case typeSubscriptionConfirmation:
		return a.subscribe(ctx, m)
	case typeUnsubscribeConfirmation:
		if err := a.verify(ctx, m); err != nil {
			return intake.Result{}, err
		}
		return intake.Result{Control: &intake.Control{
			Type: m.Type, Status: http.StatusOK, Message: "unsubscribed from " + m.TopicARN,
		}}, nil
	case typeNotification:
		if !a.topicAllowed(m.TopicARN) {
			return intake.Result{}, &intake.BadRequest{Status: http.StatusForbidden,
				Message: fmt.Sprintf("topic %s is not allow-listed", m.TopicARN)}
		}
		if err := a.verify(ctx, m); err != nil {
			return intake.Result{}, err
		}
		evs, err := a.notification(ctx, m, req.Body)
		if err != nil {
			return intake.Result{}, err
		}
		return intake.Result{Events: evs}, nil
	}
	return intake.Result{}, intake.Badf("unknown SNS message Type %q", m.Type)
}

// subscribe confirms a subscription to an allow-listed topic. A refusal is
// a Control, not an error: the request was understood and recorded.
func (a *Adapter) subscribe(ctx context.Context, m *message) (intake.Result, error) {
	if !a.topicAllowed(m.TopicARN) {
		return intake.Result{Control: &intake.Control{
			Type: m.Type, Status: http.StatusForbidden,
			Message: fmt.Sprintf("topic %s is not allow-listed; confirmation refused", m.TopicARN),
		}}, nil
	}
	if err := a.verify(ctx, m); err != nil {
		return intake.Result{}, err
	}
	if m.SubscribeURL == "" {
		return intake.Result{}, intake.Badf("SubscribeURL is required")
	}
	if err := a.checkHostURL("SubscribeURL", m.SubscribeURL); err != nil {
		return intake.Result{}, err
	}
	if err := a.cfg.Confirm(ctx, m.SubscribeURL); err != nil {
		return intake.Result{}, fmt.Errorf("sns: confirming subscription to %s: %w", m.TopicARN, err)
	}
	return intake.Result{Control: &intake.Control{
		Type: m.Type, Status: http.StatusOK, Message: "subscription confirmed for " + m.TopicARN,
	}}, nil
}

// confirmByGET is the default Config.Confirm: SNS confirms a subscription
// when its SubscribeURL is fetched.
func (a *Adapter) confirmByGET(ctx context.Context, subscribeURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, subscribeURL, nil)
	if err != nil {
		return err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET SubscribeURL: %s", resp.Status)
	}
	return nil
}

func (a *Adapter) topicAllowed(topic string) bool {
	for _, pattern := range a.cfg.AllowedTopics {
		if globMatch(pattern, topic) {
			return true
		}
	}
	return false
}

// checkHostURL checks that a URL SNS gave us is https on an allow-listed
// host, before anything is fetched from it.
func (a *Adapter) checkHostURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return forbidden("%s is not a valid URL", field)
	}
	if u.Scheme != "https" {
		return forbidden("%s must use https, got %q", field, u.Scheme)
	}
	if u.User != nil || !hostAllowed(a.cfg.CertHosts, u) {
		return forbidden("%s host %q is not an allow-listed SNS host", field, u.Host)
	}
	return nil
}

func forbidden(format string, args ...any) error {
	return &intake.BadRequest{Status: http.StatusForbidden, Message: fmt.Sprintf(format, args...)}
}

// globMatch reports whether s matches pattern, where "*" matches any run
// of characters (including none) and everything else matches itself.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			starP, starI = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case starP >= 0:
			// Let the last star swallow one more character and retry.
			starI++
			i, p = starI, starP+1
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
