package acme

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/store"
)

// oidACMEIdentifier is id-pe-acmeIdentifier (RFC 8737 §6.1).
var oidACMEIdentifier = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 31}

// challenge answers a challenge resource: a POST with a payload asks the
// server to check it, now; a POST-as-GET reads it.
func (s *Service) challenge(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, idText string) *problem {
	id, p := parseID(idText)
	if p != nil {
		return p
	}
	req, p := s.verify(ctx, w, r, dir, needKID)
	if p != nil {
		return p
	}
	c, err := scanChallenge(s.db.QueryRowContext(ctx, qChallenge, id))
	if errors.Is(err, sql.ErrNoRows) {
		return prob(probMalformed, http.StatusNotFound, "no such challenge")
	}
	if err != nil {
		return problemOf(store.Classify("acme: challenge", err), probMalformed)
	}
	az, p := s.loadAuthz(ctx, req.account, c.Authz)
	if p != nil {
		return p
	}
	if !req.postAsGet() && c.Status == "pending" && az.Status == "pending" {
		if s.now().After(az.Expires) {
			return malformed("the authorization expired")
		}
		c = s.check(ctx, req.account, s.accountURL(r, dir, req.account.ID), az, c)
	}
	w.Header().Add("Link", fmt.Sprintf(`<%s>;rel="up"`, s.dirURL(r, dir, "authz/"+itoa(az.ID))))
	respond(w, http.StatusOK, "", s.challengeJSON(r, dir, c))
	return nil
}

// check validates a challenge and records the outcome: the challenge, its
// authorization and, when it decides it, the order move with the
// journaled attempt, in one transaction.
func (s *Service) check(ctx context.Context, a *Account, accountURL string, az *authz, c *challenge) *challenge {
	keyAuth := c.Token + "." + a.Thumbprint
	vctx, cancel := context.WithTimeout(ctx, s.opts.ValidationTimeout)
	addr, perr := s.validate(vctx, c.Type, strings.TrimPrefix(az.Identifier, "*."), c.Token, keyAuth)
	if perr == nil {
		perr = s.checkCAA(vctx, az.Identifier, accountURL, c.Type)
	}
	cancel()
	now := s.now()
	status, azStatus := "valid", "valid"
	var errJSON any
	details := map[string]any{"identifier": az.Identifier, "type": c.Type, "order": az.Order, "address": addr}
	if perr != nil {
		status, azStatus = "invalid", "invalid"
		b, _ := json.Marshal(perr)
		errJSON = string(b)
		details["result"], details["error"] = "invalid", perr.Type+": "+perr.Detail
	} else {
		details["result"] = "valid"
	}
	err := s.write(ctx, func(ctx context.Context, tx *store.Tx) ([]audit.Event, error) {
		if err := moved(tx.ExecContext(ctx, qChallengeOutcome, status, store.FormatTime(now), errJSON, c.ID)); err != nil {
			return nil, err
		}
		if err := moved(tx.ExecContext(ctx, qAuthzStatus, azStatus, store.FormatTime(now), az.ID, "pending")); err != nil {
			return nil, err
		}
		if err := s.settleOrder(ctx, tx, az.Order, perr, now); err != nil {
			return nil, err
		}
		return []audit.Event{{Actor: a.actor(), Action: audit.ActionACMEChallengeChecked,
			Object: "acme-challenge:" + itoa(c.ID), Details: details}}, nil
	})
	if err == nil {
		s.observe("challenge", c.Type+":"+status)
	}
	if err != nil {
		s.log.Info("acme: challenge outcome not recorded (a concurrent check won?)", "challenge", c.ID, "err", err)
	}
	if cur, err := scanChallenge(s.db.QueryRowContext(ctx, qChallenge, c.ID)); err == nil {
		return cur
	}
	return c
}

// settleOrder moves a pending order to ready once every authorization is
// valid, or to invalid when one failed.
func (s *Service) settleOrder(ctx context.Context, tx *store.Tx, orderID int64, perr *problem, now time.Time) error {
	ts := store.FormatTime(now)
	if perr != nil {
		b, _ := json.Marshal(perr)
		_, err := tx.ExecContext(ctx, qOrderStatus, "invalid", string(b), ts, orderID, "pending")
		return store.Classify("acme: order", err)
	}
	rows, err := tx.QueryContext(ctx, qAuthzOfOrder, orderID)
	if err != nil {
		return store.Classify("acme: order", err)
	}
	all := true
	for rows.Next() {
		az, err := scanAuthz(rows)
		if err != nil {
			rows.Close()
			return store.Classify("acme: order", err)
		}
		all = all && az.Status == "valid"
	}
	rows.Close()
	if !all {
		return nil
	}
	_, err = tx.ExecContext(ctx, qOrderStatus, "ready", nil, ts, orderID, "pending")
	return store.Classify("acme: order", err)
}

// validate checks one challenge and returns the address it reached.
func (s *Service) validate(ctx context.Context, typ, name, token, keyAuth string) (string, *problem) {
	switch typ {
	case "http-01":
		return s.http01(ctx, name, token, keyAuth)
	case "dns-01":
		return s.dns01(ctx, name, keyAuth)
	case "tls-alpn-01":
		return s.tlsALPN01(ctx, name, keyAuth)
	}
	return "", malformed("unknown challenge type")
}

func (s *Service) resolver() *net.Resolver {
	if s.opts.Resolver == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, s.opts.Resolver)
	}}
}

// lookup resolves name to its first address through the configured resolver.
func (s *Service) lookup(ctx context.Context, name string) (string, *problem) {
	ips, err := s.resolver().LookupIPAddr(ctx, name)
	if err != nil || len(ips) == 0 {
		return "", prob(probDNS, http.StatusBadRequest, fmt.Sprintf("no address found for %s", name))
	}
	return ips[0].IP.String(), nil
}

func (s *Service) http01(ctx context.Context, name, token, keyAuth string) (string, *problem) {
	ip, p := s.lookup(ctx, name)
	if p != nil {
		return "", p
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(s.opts.HTTPPort))
	dialer := &net.Dialer{}
	client := &http.Client{
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		}, DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	u := "http://" + name + "/.well-known/acme-challenge/" + token
	if s.opts.HTTPPort != 80 {
		u = "http://" + net.JoinHostPort(name, strconv.Itoa(s.opts.HTTPPort)) + "/.well-known/acme-challenge/" + token
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return addr, malformed("bad challenge URL")
	}
	req.Header.Set("User-Agent", "sceau-acme")
	resp, err := client.Do(req)
	if err != nil {
		return addr, prob(probConnection, http.StatusBadRequest, fmt.Sprintf("fetching %s: connection failed", u))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return addr, prob(probIncorrectResponse, http.StatusBadRequest, fmt.Sprintf("fetching %s: HTTP %d", u, resp.StatusCode))
	}
	if subtle.ConstantTimeCompare(bytes.TrimSpace(body), []byte(keyAuth)) != 1 {
		return addr, prob(probIncorrectResponse, http.StatusBadRequest, fmt.Sprintf("%s does not hold the key authorization", u))
	}
	return addr, nil
}

func (s *Service) dns01(ctx context.Context, name, keyAuth string) (string, *problem) {
	sum := sha256.Sum256([]byte(keyAuth))
	want := b64(sum[:])
	q := "_acme-challenge." + name
	txts, err := s.resolver().LookupTXT(ctx, q)
	if err != nil {
		return s.opts.Resolver, prob(probDNS, http.StatusBadRequest, fmt.Sprintf("no TXT record at %s", q))
	}
	for _, t := range txts {
		if subtle.ConstantTimeCompare([]byte(t), []byte(want)) == 1 {
			return s.opts.Resolver, nil
		}
	}
	return s.opts.Resolver, prob(probIncorrectResponse, http.StatusBadRequest, fmt.Sprintf("no TXT record at %s holds the digest of the key authorization", q))
}

func (s *Service) tlsALPN01(ctx context.Context, name, keyAuth string) (string, *problem) {
	ip, p := s.lookup(ctx, name)
	if p != nil {
		return "", p
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(s.opts.TLSALPNPort))
	d := &tls.Dialer{Config: &tls.Config{ServerName: name, NextProtos: []string{"acme-tls/1"},
		InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} // RFC 8737: the certificate is self-signed; it is checked below
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return addr, prob(probTLS, http.StatusBadRequest, fmt.Sprintf("TLS to %s failed", addr))
	}
	defer conn.Close()
	st := conn.(*tls.Conn).ConnectionState()
	if st.NegotiatedProtocol != "acme-tls/1" || len(st.PeerCertificates) == 0 {
		return addr, prob(probTLS, http.StatusBadRequest, "the server did not negotiate acme-tls/1")
	}
	return addr, checkALPNCert(st.PeerCertificates[0], name, keyAuth)
}

// checkALPNCert checks the tls-alpn-01 certificate: its only name is the
// identifier and its critical acmeIdentifier extension holds the digest
// of the key authorization (RFC 8737 §3).
func checkALPNCert(c *x509.Certificate, name, keyAuth string) *problem {
	if len(c.DNSNames) != 1 || !strings.EqualFold(c.DNSNames[0], name) || len(c.IPAddresses)+len(c.EmailAddresses)+len(c.URIs) > 0 {
		return prob(probIncorrectResponse, http.StatusBadRequest, "the tls-alpn-01 certificate must name only "+name)
	}
	sum := sha256.Sum256([]byte(keyAuth))
	for _, e := range c.Extensions {
		if !e.Id.Equal(oidACMEIdentifier) {
			continue
		}
		var got []byte
		if rest, err := asn1.Unmarshal(e.Value, &got); err != nil || len(rest) > 0 || !e.Critical {
			return prob(probIncorrectResponse, http.StatusBadRequest, "the acmeIdentifier extension is malformed or not critical")
		}
		if subtle.ConstantTimeCompare(got, sum[:]) != 1 {
			return prob(probIncorrectResponse, http.StatusBadRequest, "the acmeIdentifier extension does not hold the key authorization's digest")
		}
		return nil
	}
	return prob(probIncorrectResponse, http.StatusBadRequest, "the certificate has no acmeIdentifier extension")
}
