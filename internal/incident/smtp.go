package incident

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// SMTP TLS modes.
const (
	SMTPStartTLS = "starttls" // STARTTLS required (submission, port 587)
	SMTPTLS      = "tls"      // implicit TLS (port 465)
	// SMTPNone sends in clear: only to a relay on the loopback.
	SMTPNone = "none"
)

// SMTPOptions say how to hand mail to the relay.
type SMTPOptions struct {
	Addr string // host:port of the relay
	From string // the envelope and header sender
	TLS  string // starttls (default), tls, none
	// TLSConfig verifies the relay; nil: the system roots and the host of
	// Addr. Verification is never turned off.
	TLSConfig *tls.Config
	// Username and Password authenticate (PLAIN, over TLS only).
	Username, Password string
	Hello              string // the EHLO name; default localhost
	Timeout            time.Duration
}

// SMTP sends notifications by mail.
type SMTP struct{ o SMTPOptions }

// NewSMTP checks o and returns the sender.
func NewSMTP(o SMTPOptions) (*SMTP, error) {
	const op = "incident: smtp"
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "relay %q is not host:port", o.Addr)
	}
	if _, err := mail.ParseAddress(o.From); err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "from %q is not an e-mail address", o.From)
	}
	switch o.TLS {
	case "":
		o.TLS = SMTPStartTLS
	case SMTPStartTLS, SMTPTLS:
	case SMTPNone:
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, sceau.Errorf(sceau.Invalid, op, "tls none sends in clear: only to a relay on the loopback, not %s", host)
		}
	default:
		return nil, sceau.Errorf(sceau.Invalid, op, "tls %q is not starttls, tls or none", o.TLS)
	}
	if o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		o.TLSConfig = o.TLSConfig.Clone()
	}
	if o.TLSConfig.InsecureSkipVerify {
		return nil, sceau.Errorf(sceau.Invalid, op, "the relay's certificate must be verified")
	}
	if o.TLSConfig.ServerName == "" {
		o.TLSConfig.ServerName = host
	}
	if o.Hello == "" {
		o.Hello = "localhost"
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return &SMTP{o: o}, nil
}

// Channel is "smtp".
func (s *SMTP) Channel() string { return "smtp" }

// Send hands m to the relay for to; nil once the relay accepted the data.
func (s *SMTP) Send(ctx context.Context, to string, m Message) error {
	const op = "incident: smtp"
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return sceau.Errorf(sceau.Invalid, op, "recipient %q is not an e-mail address", to)
	}
	from, _ := mail.ParseAddress(s.o.From)
	deadline := time.Now().Add(s.o.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	d := net.Dialer{Deadline: deadline}
	var conn net.Conn
	if s.o.TLS == SMTPTLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: s.o.TLSConfig}).DialContext(ctx, "tcp", s.o.Addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.o.Addr)
	}
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot reach the relay "+s.o.Addr, err)
	}
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, s.o.TLSConfig.ServerName)
	if err != nil {
		conn.Close()
		return sceau.E(sceau.Unavailable, op, "relay "+s.o.Addr, err)
	}
	defer c.Close()
	if err := c.Hello(s.o.Hello); err != nil {
		return sceau.E(sceau.Unavailable, op, "relay "+s.o.Addr+": EHLO", err)
	}
	if s.o.TLS == SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return sceau.Errorf(sceau.Unavailable, op, "relay %s does not offer STARTTLS (incident.smtp.tls: starttls)", s.o.Addr)
		}
		if err := c.StartTLS(s.o.TLSConfig); err != nil {
			return sceau.E(sceau.Unavailable, op, "relay "+s.o.Addr+": STARTTLS", err)
		}
	}
	if s.o.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.o.Username, s.o.Password, s.o.TLSConfig.ServerName)); err != nil {
			return sceau.E(sceau.Unavailable, op, "relay "+s.o.Addr+": authentication", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return sceau.E(sceau.Unavailable, op, "relay "+s.o.Addr+" refused the sender", err)
	}
	if err := c.Rcpt(rcpt.Address); err != nil {
		return sceau.E(sceau.Unavailable, op, "relay "+s.o.Addr+" refused the recipient "+rcpt.Address, err)
	}
	w, err := c.Data()
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "relay "+s.o.Addr+" refused the message", err)
	}
	if _, err := w.Write(s.render(from, rcpt, m)); err != nil {
		return sceau.E(sceau.Unavailable, op, "relay "+s.o.Addr+": sending the message", err)
	}
	if err := w.Close(); err != nil {
		return sceau.E(sceau.Unavailable, op, "relay "+s.o.Addr+" refused the message", err)
	}
	_ = c.Quit()
	return nil
}

// render builds the RFC 5322 message: UTF-8 text, quoted-printable.
func (s *SMTP) render(from, to *mail.Address, m Message) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	rand.Read(id)
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	hdr := func(k, v string) {
		fmt.Fprintf(&b, "%s: %s\r\n", k, strings.NewReplacer("\r", " ", "\n", " ").Replace(v))
	}
	hdr("From", from.String())
	hdr("To", to.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", time.Now().UTC().Format(time.RFC1123Z))
	hdr("Message-ID", fmt.Sprintf("<incident-%d-%d-%s@%s>", m.Incident, m.ID, hex.EncodeToString(id), domain))
	hdr("X-Sceau-Incident", fmt.Sprint(m.Incident))
	hdr("X-Sceau-Event", m.Event)
	hdr("Auto-Submitted", "auto-generated")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}
