package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// HandshakeRefusal is one TLS handshake the admin listener refused: who
// came, what they presented and why it was refused (AUD-6: probing of the
// admin port must be visible to the anomaly analysis).
type HandshakeRefusal struct {
	Peer   string // the remote address, host:port
	Reason string // the TLS stack's refusal, e.g. "tls: client didn't provide a certificate"
	// The certificate presented, when there was one.
	Subject, Issuer, SHA256 string
}

// handshakeTimeout bounds the handshake of one connection, and
// maxHandshakes the handshakes in progress at once: a client that opens
// connections and sends nothing holds a slot for at most the timeout.
const (
	handshakeTimeout = 10 * time.Second
	maxHandshakes    = 256
)

// handshakeListener completes each connection's TLS handshake before the
// HTTP server sees it, so that a refused handshake is known with its peer,
// the certificate presented and the reason (http.Server only logs a line of
// text). Connections whose handshake succeeded are handed to Accept as
// *tls.Conn, so requests keep their verified chains.
type handshakeListener struct {
	inner   net.Listener
	cfg     *tls.Config
	refused func(HandshakeRefusal)
	conns   chan net.Conn
	errc    chan error
	slots   chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	once    sync.Once
}

func newHandshakeListener(inner net.Listener, cfg *tls.Config, refused func(HandshakeRefusal)) *handshakeListener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &handshakeListener{inner: inner, cfg: cfg, refused: refused, conns: make(chan net.Conn), errc: make(chan error, 1),
		slots: make(chan struct{}, maxHandshakes), ctx: ctx, cancel: cancel}
	go l.acceptLoop()
	return l
}

func (l *handshakeListener) acceptLoop() {
	for {
		raw, err := l.inner.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			l.errc <- err
			return
		}
		select {
		case l.slots <- struct{}{}:
		case <-l.ctx.Done():
			raw.Close()
			return
		}
		go l.handshake(raw)
	}
}

func (l *handshakeListener) handshake(raw net.Conn) {
	defer func() { <-l.slots }()
	c := tls.Server(raw, l.cfg)
	ctx, cancel := context.WithTimeout(l.ctx, handshakeTimeout)
	err := c.HandshakeContext(ctx)
	cancel()
	if err != nil {
		c.Close()
		if r, ok := refusal(raw.RemoteAddr(), err); ok && l.refused != nil {
			l.refused(r)
		}
		return
	}
	select {
	case l.conns <- c:
	case <-l.ctx.Done():
		c.Close()
	}
}

// refusal describes a failed handshake; a peer that closed or went silent
// before saying anything (a port scan's connect, a TCP health check) is not
// a refusal.
func refusal(peer net.Addr, err error) (HandshakeRefusal, bool) {
	if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return HandshakeRefusal{}, false
	}
	r := HandshakeRefusal{Peer: peer.String(), Reason: err.Error()}
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ve) {
		r.Reason = "the client certificate was refused: " + ve.Err.Error()
		if len(ve.UnverifiedCertificates) > 0 {
			leaf := ve.UnverifiedCertificates[0]
			sum := sha256.Sum256(leaf.Raw)
			r.Subject, r.Issuer, r.SHA256 = leaf.Subject.String(), leaf.Issuer.String(), hex.EncodeToString(sum[:])
		}
	}
	return r, true
}

func (l *handshakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errc:
		l.errc <- err // every later Accept fails the same way
		return nil, err
	}
}

func (l *handshakeListener) Close() error {
	l.once.Do(l.cancel)
	return l.inner.Close()
}

func (l *handshakeListener) Addr() net.Addr { return l.inner.Addr() }
