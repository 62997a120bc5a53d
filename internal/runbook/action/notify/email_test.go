package notify_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
)

// smtpServer is just enough of an SMTP server to receive one message per
// connection: EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT.
type smtpServer struct {
	ln       net.Listener
	tls      *tls.Config // offer STARTTLS when set
	user     string      // offer AUTH PLAIN when set
	password string
	mails    chan smtpMail
}

type smtpMail struct {
	helo, from, authUser string
	to                   []string
	tls                  bool
	data                 string
}

func startSMTP(t *testing.T, s *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.mails = ln, make(chan smtpMail, 4)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(t, conn)
		}
	}()
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) serve(t *testing.T, conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	rd, wr := bufio.NewReader(conn), bufio.NewWriter(conn)
	reply := func(lines ...string) {
		for _, l := range lines {
			_, _ = wr.WriteString(l + "\r\n")
		}
		_ = wr.Flush()
	}
	var m smtpMail
	reply("220 test.invalid ESMTP")
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			m.helo = arg
			ext := []string{"250-test.invalid", "250-8BITMIME"}
			if s.tls != nil && !m.tls {
				ext = append(ext, "250-STARTTLS")
			}
			if s.user != "" {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 SIZE 1000000")
			reply(ext...)
		case "STARTTLS":
			reply("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, m.tls = tc, true
			rd, wr = bufio.NewReader(tc), bufio.NewWriter(tc)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			dec, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(dec), "\x00")
			if mech != "PLAIN" || len(parts) != 3 || parts[1] != s.user || parts[2] != s.password {
				reply("535 5.7.8 authentication failed")
				continue
			}
			m.authUser = parts[1]
			reply("235 2.7.0 ok")
		case "MAIL":
			m.from = strings.Trim(strings.TrimPrefix(arg, "FROM:"), "<>")
			if i := strings.Index(m.from, ">"); i >= 0 {
				m.from = m.from[:i]
			}
			reply("250 ok")
		case "RCPT":
			m.to = append(m.to, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			var data strings.Builder
			for {
				l, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = data.String()
			s.mails <- m
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		case "RSET", "NOOP":
			reply("250 ok")
		default:
			reply("502 unknown command")
		}
	}
}

// testTLS returns a server config with a self-signed certificate for
// 127.0.0.1 and a client config that trusts it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func receive(t *testing.T, s *smtpServer) smtpMail {
	t.Helper()
	select {
	case m := <-s.mails:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no mail received")
		return smtpMail{}
	}
}

func TestEmail(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, &smtpServer{})
	n := notify.New(notify.Options{SMTP: notify.SMTPOptions{Host: "127.0.0.1", Port: srv.port(), From: "Flywheel <flywheel@example.com>", HELO: "flywheel.test"}})
	body := "Disk cleanup on web-03 freed 4 GiB.\n\nA line of exactly eighty characters or more that quoted-printable has to wrap somewhere.\n.leading dot\nünïcödé"
	out, err := n.Run(t.Context(), input(map[string]any{
		"channel": "email",
		"to":      []any{"oncall@example.com", "Ops Team <ops@example.com>"},
		"cc":      "lead@example.com",
		"subject": "Résolu: web-03 disk",
		"body":    body,
	}))
	if err != nil {
		t.Fatal(err)
	}
	m := receive(t, srv)
	if m.helo != "flywheel.test" || m.from != "flywheel@example.com" || strings.Join(m.to, ",") != "oncall@example.com,ops@example.com,lead@example.com" || m.tls || m.authUser != "" {
		t.Errorf("envelope %+v", m)
	}
	msg, err := mail.ReadMessage(strings.NewReader(m.data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	for k, want := range map[string]string{
		"From":                      `"Flywheel" <flywheel@example.com>`,
		"To":                        `<oncall@example.com>, "Ops Team" <ops@example.com>`,
		"Cc":                        "<lead@example.com>",
		"Date":                      "Tue, 04 Mar 2025 05:06:07 +0000",
		"Message-ID":                "<ex-42.tell.1.flywheel@example.com>",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if subject != "Résolu: web-03 disk" {
		t.Errorf("Subject decodes to %q", subject)
	}
	got, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSuffix(strings.ReplaceAll(string(got), "\r\n", "\n"), "\n") != body {
		t.Errorf("body = %q", got)
	}
	if out.Values["message_id"] != "<ex-42.tell.1.flywheel@example.com>" || len(out.Values["recipients"].([]string)) != 3 {
		t.Errorf("values = %v", out.Values)
	}
	if !strings.Contains(out.Log, "to 3 recipients") || !strings.Contains(out.Log, "without TLS") {
		t.Errorf("log = %q", out.Log)
	}
}

func TestEmailSTARTTLSAndAuth(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := testTLS(t)
	srv := startSMTP(t, &smtpServer{tls: serverTLS, user: "flywheel", password: "s3cret"})
	n := notify.New(notify.Options{SMTP: notify.SMTPOptions{TLSConfig: clientTLS, RequireTLS: true}})
	out, err := n.Run(t.Context(), input(map[string]any{
		"channel":  "email",
		"host":     "127.0.0.1",
		"port":     srv.port(),
		"from":     "flywheel@example.com",
		"to":       "oncall@example.com",
		"subject":  "s",
		"body":     "b",
		"username": "flywheel",
		"password": "s3cret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if m := receive(t, srv); !m.tls || m.authUser != "flywheel" {
		t.Errorf("mail %+v: want STARTTLS and AUTH", m)
	}
	if !strings.Contains(out.Log, "over STARTTLS") || strings.Contains(out.Log, "s3cret") {
		t.Errorf("log = %q", out.Log)
	}

	// A wrong password fails the step without echoing it.
	_, err = n.Run(t.Context(), input(map[string]any{
		"channel": "email", "host": "127.0.0.1", "port": srv.port(), "from": "f@example.com", "to": "o@example.com",
		"subject": "s", "body": "b", "username": "flywheel", "password": "wr0ng",
	}))
	if err == nil || !strings.Contains(err.Error(), "AUTH: 535") || strings.Contains(err.Error(), "wr0ng") {
		t.Errorf("wrong password: %v", err)
	}
}

func TestEmailRequireTLS(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, &smtpServer{})
	n := notify.New(notify.Options{SMTP: notify.SMTPOptions{Host: "127.0.0.1", Port: srv.port(), From: "f@example.com"}})
	_, err := n.Run(t.Context(), input(map[string]any{"channel": "email", "to": "o@example.com", "subject": "s", "body": "b", "require_tls": true}))
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS and TLS is required") {
		t.Errorf("err = %v", err)
	}
}

// A server that never answers is bounded by the step's timeout.
func TestEmailTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	n := notify.New(notify.Options{SMTP: notify.SMTPOptions{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "f@example.com"}})
	start := time.Now()
	_, err = n.Run(t.Context(), input(map[string]any{"channel": "email", "to": "o@example.com", "subject": "s", "body": "b", "timeout": "300ms"}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}
