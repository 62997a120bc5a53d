package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

// SMTPOptions are the server's mail settings, used by email steps that do
// not set their own.
type SMTPOptions struct {
	Host string
	// Port defaults to 587 when a username is set (submission), else 25.
	Port     int
	From     string
	Username string
	Password string
	// HELO is the name Flywheel gives in EHLO. Default: the host name.
	HELO string
	// TLSConfig is used for STARTTLS; nil verifies against the system
	// roots. ServerName defaults to the SMTP host.
	TLSConfig *tls.Config
	// RequireTLS refuses servers that do not offer STARTTLS. Without it,
	// STARTTLS is used whenever the server offers it.
	RequireTLS bool
}

// email is a parsed email step.
type email struct {
	SMTPOptions
	to, cc  []*mail.Address
	from    *mail.Address
	subject string
	body    string
}

// parseEmail reads an email step; named is the configured channel it
// names, if any, which brings the server, sender and default recipients
// (the step then gives subject and text or body, and may override to/cc).
func (n *Notify) parseEmail(r *with.Reader, named *Channel) email {
	if named != nil {
		return n.parseNamedEmail(r, named)
	}
	e := email{SMTPOptions: n.opts.SMTP}
	if h, ok := r.String("host"); ok {
		e.Host = h
	}
	if p, ok := r.Int("port"); ok {
		if p < 1 || p > 65535 {
			r.Errorf("port", "%d is not a port", p)
		}
		e.Port = p
	}
	if u, ok := r.String("username"); ok {
		e.Username, e.Password = u, ""
	}
	if p, ok := r.String("password"); ok {
		e.Password = p
	}
	if r.Has("password") && !r.Has("username") {
		r.Errorf("password", "is set without a username")
	}
	if b, ok := r.Bool("require_tls"); ok {
		e.RequireTLS = b
	}
	if s, ok := r.String("from"); ok {
		e.From = s
	}
	if !r.Has("host") && e.Host == "" {
		r.Errorf("host", "is required (the server has no SMTP host configured)")
	}
	if !r.Has("from") && e.From == "" {
		r.Errorf("from", "is required (the server has no sender configured)")
	}
	if e.From != "" {
		e.from = address(r, "from", e.From)
	}
	r.Require("to", "subject", "body")
	e.readMessage(r, nil)
	e.body, _ = r.String("body")
	e.defaultPort()
	return e
}

// readMessage reads recipients (else the given defaults) and subject.
func (e *email) readMessage(r *with.Reader, named *Channel) {
	if list, ok := r.Strings("to", true); ok {
		e.to = addresses(r, "to", list)
	} else if named != nil && !r.Has("to") {
		e.to = addresses(r, "to", named.To)
		e.cc = addresses(r, "cc", named.Cc)
	}
	if list, ok := r.Strings("cc", true); ok {
		e.cc = addresses(r, "cc", list)
	}
	if s, ok := r.String("subject"); ok {
		if strings.ContainsAny(s, "\r\n") {
			r.Errorf("subject", "contains a line break")
		}
		e.subject = s
	}
}

func (e *email) defaultPort() {
	if e.Port == 0 {
		e.Port = 25
		if e.Username != "" {
			e.Port = 587
		}
	}
}

// parseNamedEmail reads an email step through a configured channel.
func (n *Notify) parseNamedEmail(r *with.Reader, named *Channel) email {
	e := email{SMTPOptions: named.SMTP}
	e.HELO, e.TLSConfig = n.opts.SMTP.HELO, n.opts.SMTP.TLSConfig
	if named.SMTP.From != "" {
		e.from = address(r, "from", named.SMTP.From)
	}
	r.Require("subject")
	if !r.Has("text") && !r.Has("body") {
		r.Errorf("text", "is required (or body)")
	}
	e.readMessage(r, named)
	text, _ := r.String("text")
	e.body = text
	if b, ok := r.String("body"); ok {
		e.body = b
	}
	e.defaultPort()
	return e
}

func address(r *with.Reader, key, s string) *mail.Address {
	if with.IsExpr(s) && r.Validating() {
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || strings.ContainsAny(s, "\r\n") {
		r.Errorf(key, "%q is not an email address", s)
		return nil
	}
	return a
}

func addresses(r *with.Reader, key string, list []string) []*mail.Address {
	var out []*mail.Address
	for i, s := range list {
		if a := address(r, fmt.Sprintf("%s[%d]", key, i), s); a != nil {
			out = append(out, a)
		}
	}
	return out
}

// send delivers e over SMTP: EHLO, STARTTLS when offered (or required),
// AUTH PLAIN when a username is set, one RCPT per recipient.
func (n *Notify) send(ctx context.Context, in action.Input, e email) (action.Output, error) {
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	msgID := messageID(in, e.from)
	msg := compose(e, msgID, now())
	server := net.JoinHostPort(e.Host, strconv.Itoa(e.Port))

	start := time.Now()
	tlsUsed, err := n.deliver(ctx, server, e, msg)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The connection's deadline is the context's, and may fire
			// just before it.
			err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
		}
		return action.Output{}, fmt.Errorf("smtp %s: %w", server, err)
	}
	rcpts := make([]string, 0, len(e.to)+len(e.cc))
	for _, a := range append(append([]*mail.Address{}, e.to...), e.cc...) {
		rcpts = append(rcpts, a.Address)
	}
	security := "without TLS"
	if tlsUsed {
		security = "over STARTTLS"
	}
	return action.Output{
		Values: map[string]any{
			"channel":     ChannelEmail,
			"message_id":  msgID,
			"recipients":  rcpts,
			"duration_ms": time.Since(start).Milliseconds(),
		},
		Log: fmt.Sprintf("email: sent %s to %d recipients through %s %s", msgID, len(rcpts), server, security),
	}, nil
}

func (n *Notify) deliver(ctx context.Context, server string, e email, msg []byte) (tlsUsed bool, err error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", server)
	if err != nil {
		return false, err
	}
	// net/smtp has no context: the deadline bounds each exchange and a
	// cancellation closes the connection under it.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, e.Host)
	if err != nil {
		_ = conn.Close()
		return false, err
	}
	defer c.Close()
	if err := c.Hello(n.opts.SMTP.HELO); err != nil {
		return false, err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{}
		if e.TLSConfig != nil {
			cfg = e.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = e.Host
		}
		if err := c.StartTLS(cfg); err != nil {
			return false, fmt.Errorf("STARTTLS: %w", err)
		}
		tlsUsed = true
	} else if e.RequireTLS {
		return false, errors.New("the server does not offer STARTTLS and TLS is required")
	}
	if e.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return tlsUsed, errors.New("a username is set but the server does not offer AUTH")
		}
		// PlainAuth refuses to send the password unencrypted to anything
		// but localhost.
		if err := c.Auth(smtp.PlainAuth("", e.Username, e.Password, e.Host)); err != nil {
			return tlsUsed, fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return tlsUsed, fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, a := range append(append([]*mail.Address{}, e.to...), e.cc...) {
		if err := c.Rcpt(a.Address); err != nil {
			return tlsUsed, fmt.Errorf("RCPT TO %s: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return tlsUsed, fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return tlsUsed, fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return tlsUsed, fmt.Errorf("DATA: %w", err)
	}
	// The message is accepted once DATA is; a failed QUIT does not unsend
	// it.
	_ = c.Quit()
	return tlsUsed, nil
}

// compose writes the message: plain text, UTF-8, quoted-printable.
func compose(e email, msgID string, date time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", e.from.String())
	header("To", joinAddresses(e.to))
	if len(e.cc) > 0 {
		header("Cc", joinAddresses(e.cc))
	}
	header("Subject", mime.QEncoding.Encode("utf-8", e.subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", msgID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(e.body))
	_ = qp.Close()
	return b.Bytes()
}

func joinAddresses(list []*mail.Address) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// messageID names the message after the execution, step and attempt, so a
// mail can be traced back to the run that sent it.
func messageID(in action.Input, from *mail.Address) string {
	domain := "flywheel.invalid"
	if _, d, ok := strings.Cut(from.Address, "@"); ok && d != "" {
		domain = d
	}
	local := fmt.Sprintf("%s.%s.%d", in.ExecutionID, in.Step, in.Attempt)
	if in.ExecutionID == "" {
		var r [12]byte
		_, _ = rand.Read(r[:])
		local = hex.EncodeToString(r[:])
	}
	local = strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_", c) {
			return c
		}
		return '-'
	}, local)
	return "<" + local + ".flywheel@" + domain + ">"
}
