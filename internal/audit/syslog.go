package audit

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// SyslogOptions say where to forward the journal for central collection
// (AUD-5).
type SyslogOptions struct {
	// Network: "udp" (RFC 5426), "tcp" (RFC 6587 octet counting) or "tls"
	// (RFC 5425: TLS, octet counting).
	Network  string
	Address  string // host:port
	Hostname string // HOSTNAME field; default: os.Hostname
	AppName  string // APP-NAME field; default: sceau
	// Facility is the RFC 5424 facility; default 13, "log audit".
	Facility int
	// Timeout bounds a connection or a write. Default: 10s.
	Timeout time.Duration
	// TLS is the client configuration for "tls": the roots that verify
	// the collector's certificate (RFC 5425 §5.2) and its expected name.
	// Nil: the system roots and the host of Address. Verification is
	// never turned off.
	TLS *tls.Config
}

// sdID is the structured-data ID of journal fields. 32473 is the private
// enterprise number reserved for documentation (RFC 5612); collectors
// match on the name.
const sdID = "sceau@32473"

// RFC 5424 severities.
const (
	sevAlert  = 1
	sevError  = 3
	sevNotice = 5
)

// maxUDPMessage keeps a datagram within what IPv4 carries unfragmented by
// most paths' reassembly limits; longer details are cut (the export keeps
// them whole).
const maxUDPMessage = 8192

// FormatSyslog renders r as one RFC 5424 message: the header, the record's
// fields as structured data, and the details as the message.
//
//	<109>1 2026-05-04T01:02:01.123456Z host sceau 4242 certificate.issued [sceau@32473 seq="7" actor="alice" role="operator" object="certificate:5f2a" hash="…"] {"ca":"issuing"}
func FormatSyslog(r *Record, o SyslogOptions, procID int) []byte {
	sev := sevNotice
	switch r.Action {
	case ActionAlertRaised, ActionIncidentOpened, ActionIncidentEscalated, ActionIncidentObligationDue, ActionIncidentObligationOverdue:
		sev = sevAlert
	case ActionLoggingFailed:
		sev = sevError
	}
	fac := o.Facility
	if fac <= 0 || fac > 23 {
		fac = 13
	}
	ts := "-"
	if t, err := store.ParseTime(r.At); err == nil {
		ts = t.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<%d>1 %s %s %s %d %s [%s", fac*8+sev, ts, header(o.Hostname, 255), header(o.AppName, 48), procID,
		header(r.Action, 32), sdID)
	for _, p := range [...][2]string{{"seq", strconv.FormatInt(r.Seq, 10)}, {"actor", r.Actor}, {"role", r.Role},
		{"object", r.Object}, {"hash", hex.EncodeToString(r.Hash)}, {"prev_hash", hex.EncodeToString(r.PrevHash)}} {
		b.WriteByte(' ')
		b.WriteString(p[0])
		b.WriteString(`="`)
		writeParam(&b, p[1])
		b.WriteByte('"')
	}
	b.WriteString("] ")
	b.WriteString("\ufeff") // the message is UTF-8 (RFC 5424 §6.4)
	b.WriteString(r.Details)
	return b.Bytes()
}

// header makes a header field: printable US-ASCII without spaces, at most
// max characters, "-" when empty.
func header(s string, max int) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < max; i++ {
		if c := s[i]; c > 32 && c < 127 {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// writeParam escapes a PARAM-VALUE: '"', '\' and ']' take a backslash.
func writeParam(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', ']':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
}

// Forwarder sends the journal to a syslog collector, in order, from a
// cursor kept in the database: what was sent is sent again only if the
// process stops between sending and moving the cursor (at least once).
type Forwarder struct {
	db    *store.DB
	opts  SyslogOptions
	clock sceau.Clock
	pid   int
	conn  net.Conn
}

const cursorSyslog = "syslog"

// NewForwarder returns a forwarder of the journal in db.
func NewForwarder(db *store.DB, o SyslogOptions, clock sceau.Clock) (*Forwarder, error) {
	if o.Network != "udp" && o.Network != "tcp" && o.Network != "tls" {
		return nil, sceau.Errorf(sceau.Invalid, "audit: syslog", "network %q is not udp, tcp or tls", o.Network)
	}
	host, _, err := net.SplitHostPort(o.Address)
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, "audit: syslog", "address %q is not host:port", o.Address)
	}
	if o.Network == "tls" {
		c := &tls.Config{MinVersion: tls.VersionTLS12}
		if o.TLS != nil {
			c = o.TLS.Clone()
		}
		if c.InsecureSkipVerify {
			// AUD-5: the journal goes only to the collector it was meant for.
			return nil, sceau.Errorf(sceau.Invalid, "audit: syslog", "the collector's certificate must be verified")
		}
		if c.ServerName == "" {
			c.ServerName = host
		}
		if c.MinVersion < tls.VersionTLS12 {
			c.MinVersion = tls.VersionTLS12
		}
		o.TLS = c
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.AppName == "" {
		o.AppName = "sceau"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return &Forwarder{db: db, opts: o, clock: sceau.ClockOr(clock), pid: os.Getpid()}, nil
}

// Forward sends every event after the cursor and returns how many it sent.
func (f *Forwarder) Forward(ctx context.Context) (int64, error) {
	const op = "audit: syslog"
	var sent int64
	for {
		cur, err := cursor(ctx, f.db, cursorSyslog)
		if err != nil {
			return sent, err
		}
		recs, err := Read(ctx, f.db, cur, 500)
		if err != nil || len(recs) == 0 {
			return sent, err
		}
		if err := f.dial(ctx); err != nil {
			return sent, err
		}
		var frame []byte
		for i := range recs {
			msg := FormatSyslog(&recs[i], f.opts, f.pid)
			if f.opts.Network == "udp" {
				// RFC 5426: one message per datagram.
				if len(msg) > maxUDPMessage {
					msg = msg[:maxUDPMessage]
				}
				frame = msg
			} else {
				// RFC 6587 §3.4.1 and RFC 5425 §4.3: MSG-LEN SP SYSLOG-MSG.
				frame = append(strconv.AppendInt(frame[:0], int64(len(msg)), 10), ' ')
				frame = append(frame, msg...)
			}
			f.conn.SetWriteDeadline(time.Now().Add(f.opts.Timeout))
			if _, err := f.conn.Write(frame); err != nil {
				f.Close()
				return sent, sceau.E(sceau.Unavailable, op, "cannot send to "+f.opts.Address, err)
			}
			sent++
		}
		last := recs[len(recs)-1].Seq
		if err := f.db.InTx(ctx, func(tx *store.Tx) error {
			return moveCursor(ctx, tx, cursorSyslog, cur, last, f.clock.Now())
		}); err != nil {
			return sent, err
		}
	}
}

func (f *Forwarder) dial(ctx context.Context) error {
	if f.conn != nil {
		return nil
	}
	d := net.Dialer{Timeout: f.opts.Timeout}
	var (
		c   net.Conn
		err error
	)
	if f.opts.Network == "tls" {
		td := tls.Dialer{NetDialer: &d, Config: f.opts.TLS}
		c, err = td.DialContext(ctx, "tcp", f.opts.Address)
	} else {
		c, err = d.DialContext(ctx, f.opts.Network, f.opts.Address)
	}
	if err != nil {
		return sceau.E(sceau.Unavailable, "audit: syslog", "cannot reach the collector at "+f.opts.Address, err)
	}
	f.conn = c
	return nil
}

// Close closes the connection to the collector.
func (f *Forwarder) Close() {
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}

// SendSyslog sends one record to the collector o names, on a connection of
// its own, and returns once it was written: for what must reach the
// collector at once, apart from the journal's stream (an incident, INC-1).
func SendSyslog(ctx context.Context, o SyslogOptions, r *Record) error {
	f, err := NewForwarder(nil, o, nil)
	if err != nil {
		return err
	}
	if err := f.dial(ctx); err != nil {
		return err
	}
	defer f.Close()
	msg := FormatSyslog(r, f.opts, f.pid)
	frame := msg
	if f.opts.Network == "udp" {
		frame = msg[:min(len(msg), maxUDPMessage)]
	} else {
		frame = append(strconv.AppendInt(nil, int64(len(msg)), 10), ' ')
		frame = append(frame, msg...)
	}
	f.conn.SetWriteDeadline(time.Now().Add(f.opts.Timeout))
	if _, err := f.conn.Write(frame); err != nil {
		return sceau.E(sceau.Unavailable, "audit: syslog", "cannot send to "+f.opts.Address, err)
	}
	return nil
}
