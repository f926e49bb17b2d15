package access

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Authentication methods of a Principal.
const (
	MethodPassword    = "password+totp"
	MethodCertificate = "certificate"
)

// tokenPrefix marks Sceau session tokens, so that a leaked one is
// recognisable by secret scanners.
const tokenPrefix = "sceau_"

// touchEvery: a session's last use is written at most this often, so a
// burst of requests makes one write, and the idle limit may end a session
// up to this much early.
const touchEvery = 5 * time.Second

// TerminalFromTLS returns the verified client certificate of a connection
// to the admin listener (SYS-2): the terminal.
func TerminalFromTLS(cs *tls.ConnectionState) (*x509.Certificate, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil, sceau.Errorf(sceau.Denied, "access", "a client certificate from the admin CA is required")
	}
	return cs.VerifiedChains[0][0], nil
}

// Authenticate returns who makes a request from terminal, the verified
// client certificate: with token (a session token from Login), the
// session's person; without, the person the certificate is bound to, if
// any (ROLE-4); otherwise the terminal alone. Roles are read now: a
// removed role is refused on the next request (ROLE-4). A token that does
// not open a live session of this terminal is refused, with an audit event.
func (s *Service) Authenticate(ctx context.Context, terminal *x509.Certificate, token string) (Principal, error) {
	const op = "access: authenticate"
	p := Principal{Terminal: terminal.Subject.CommonName}
	// ROLE-4: a personal certificate that was revoked is refused on the
	// next request, as a person and as a terminal alike; one of a suspended
	// or deleted person authenticates nobody.
	var (
		certAccount, certStatus string
		certRevoked             sql.NullString
	)
	err := s.db.QueryRowContext(ctx, qCertificateAuth, Fingerprint(terminal)).Scan(&certAccount, &certRevoked, &certStatus)
	bound := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return p, store.Classify(op, err)
	}
	if bound && certRevoked.Valid {
		return p, s.refuseSession(ctx, sceau.Actor{ID: certAccount}, "certificate:"+Fingerprint(terminal),
			"this client certificate of "+certAccount+" was revoked")
	}
	if token == "" {
		if !bound {
			return p, nil
		}
		if certStatus != AccountActive {
			return p, s.refuseSession(ctx, sceau.Actor{ID: certAccount}, "account:"+certAccount, "the account "+certAccount+" is "+certStatus)
		}
		account := certAccount
		p.Account, p.Method = account, MethodCertificate
		if p.Roles, err = currentRoles(ctx, s.db, account); err != nil {
			return Principal{}, err
		}
		return p, nil
	}
	th := tokenHash(token)
	var (
		id, account, term, seen, expires, status string
		ended                                    sql.NullString
		must                                     int
	)
	err = s.db.QueryRowContext(ctx, qSession, th).Scan(&id, &account, &term, &seen, &expires, &ended, &must, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return p, s.refuseSession(ctx, p.Actor(""), "session:unknown", "no session has this token")
	}
	if err != nil {
		return p, store.Classify(op, err)
	}
	now := s.now()
	lastSeen, err1 := store.ParseTime(seen)
	expiresAt, err2 := store.ParseTime(expires)
	if err := errors.Join(err1, err2); err != nil {
		return p, sceau.E(sceau.Internal, op, "", err)
	}
	actor := sceau.Actor{ID: account}
	switch {
	case status != AccountActive:
		// ROLE-4: suspension takes effect on the next request.
		return p, s.refuseSession(ctx, actor, "session:"+id, "the account "+account+" is "+status)
	case ended.Valid:
		return p, s.refuseSession(ctx, actor, "session:"+id, "the session was ended (logout, password change or recovery)")
	case !now.Before(expiresAt):
		return p, s.refuseSession(ctx, actor, "session:"+id, "the session reached its 8-hour limit")
	case now.Sub(lastSeen) >= s.o.SessionIdle:
		return p, s.refuseSession(ctx, actor, "session:"+id, "the session was idle for "+s.o.SessionIdle.String())
	case term != Fingerprint(terminal):
		return p, s.refuseSession(ctx, actor, "session:"+id, "the session was opened from another terminal")
	}
	p.Account, p.Method, p.Session, p.MustChangePassword = account, MethodPassword, id, must != 0
	if p.Roles, err = currentRoles(ctx, s.db, account); err != nil {
		return Principal{}, err
	}
	if now.Sub(lastSeen) >= touchEvery {
		if _, err := s.db.ExecContext(ctx, qTouchSession, store.FormatTime(now), id); err != nil {
			return Principal{}, store.Classify(op, err)
		}
	}
	return p, nil
}

// refuseSession records a refused session use (AUD-1) and returns the
// refusal the client sees.
func (s *Service) refuseSession(ctx context.Context, actor sceau.Actor, object, reason string) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "session.refused", Object: object,
			Details: map[string]any{"reason": reason}})
	})
	if err != nil {
		return err
	}
	return sceau.Errorf(sceau.Denied, "access", "%s: log in again (`sceau login`), or `sceau logout` to act with the terminal's certificate", reason)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Session is what a login returns; the token is shown to its holder once
// and kept only hashed.
type Session struct {
	Token              string    `json:"token"`
	ID                 string    `json:"id"`
	Account            string    `json:"account"`
	Roles              []Role    `json:"roles"`
	ExpiresAt          time.Time `json:"expires_at"`
	IdleTimeout        string    `json:"idle_timeout"`
	MustChangePassword bool      `json:"must_change_password,omitempty"`
}

// errLogin is the one answer to every failed login, whatever failed; the
// journal holds the precise reason.
var errLogin = sceau.Errorf(sceau.Denied, "access: login", "wrong account, password or TOTP code (a code is accepted once)")

// Login authenticates a person with password and TOTP from terminal
// (ROLE-4) and opens a session. Every attempt is an audit event (AUD-1).
// After MaxFailures failures in a row the account is locked for Lockout
// (PUB-4); a TOTP code is accepted once, and never one older than the last
// accepted (replay).
func (s *Service) Login(ctx context.Context, terminal *x509.Certificate, account, password, code string) (*Session, error) {
	const op = "access: login"
	tp := Principal{Terminal: terminal.Subject.CommonName}
	if len(account) > 64 || len(password) > maxPasswordBytes || len(code) > 16 {
		return nil, s.loginFailed(ctx, tp.Actor(""), account, "oversized input")
	}
	code = strings.TrimSpace(code)
	release, err := s.lockHashing(ctx)
	if err != nil {
		return nil, err
	}
	var (
		hash, secret, lock sql.NullString
		lastStep           int64
		failed, must       int
		status             string
	)
	err = s.db.QueryRowContext(ctx, qLoginState, account).Scan(&hash, &secret, &lastStep, &failed, &lock, &must, &status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !hash.Valid) {
		_, _ = verifyPassword(s.dummyHash, password) // as long as a real check
		release()
		reason := "unknown account"
		if err == nil {
			reason = "the account has no password (certificate only)"
		}
		return nil, s.loginFailed(ctx, tp.Actor(""), account, reason)
	}
	if err != nil {
		release()
		return nil, store.Classify(op, err)
	}
	now := s.now()
	if t, _ := store.NullTime(lock); now.Before(t) {
		release()
		return nil, s.loginRefusedLocked(ctx, account, t)
	}
	pwOK, err := verifyPassword(hash.String, password)
	release()
	if err != nil {
		return nil, err
	}

	var (
		sess    *Session
		failure error
	)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// Read again under the lock: concurrent attempts count one by one.
		var h2, sec2, lock2 sql.NullString
		if err := tx.QueryRowContext(ctx, qLoginState+forUpdate(tx), account).Scan(&h2, &sec2, &lastStep, &failed, &lock2, &must, &status); err != nil {
			return store.Classify(op, err)
		}
		if status != AccountActive {
			// ROLE-4: the client learns no more than from a wrong password.
			failure = errLogin
			return s.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: account}, Action: "login.refused", Object: "account:" + account,
				Details: map[string]any{"reason": "account " + status, "terminal": tp.Terminal}})
		}
		if t, _ := store.NullTime(lock2); now.Before(t) {
			failure = sceau.Errorf(sceau.Denied, op, "account %s is locked until %s after %d failed logins", account, t.Format(time.RFC3339), s.o.MaxFailures)
			return s.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: account}, Action: "login.refused", Object: "account:" + account,
				Details: map[string]any{"reason": "account locked", "terminal": tp.Terminal}})
		}
		reason := ""
		var step int64
		switch {
		case h2.String != hash.String:
			reason = "the password changed during the login"
		case !pwOK:
			reason = "wrong password"
		case !sec2.Valid:
			reason = "no TOTP enrolled"
		default:
			secret, err := s.totp.open(account, sec2.String)
			if err != nil {
				reason = "the stored TOTP secret does not open (sealed for another account, or another key)"
				break
			}
			var ok, replay bool
			step, ok, replay = matchTOTP(secret, code, now, lastStep)
			switch {
			case replay:
				reason = "TOTP code replayed"
			case !ok:
				reason = "wrong TOTP code"
			}
		}
		if reason != "" {
			failure = errLogin
			return s.countFailure(ctx, tx, account, failed+1, now, reason, tp.Terminal)
		}
		if _, err := tx.ExecContext(ctx, qLoginSucceeded, step, account); err != nil {
			return store.Classify(op, err)
		}
		var err error
		if sess, err = s.openSession(ctx, tx, account, terminal, now, must != 0); err != nil {
			return err
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: account, Role: roleNames(sess.Roles)}, Action: "login.succeeded",
			Object: "account:" + account, Details: map[string]any{"session": sess.ID, "method": MethodPassword, "terminal": tp.Terminal}})
	})
	if err != nil {
		return nil, err
	}
	if failure != nil {
		return nil, failure
	}
	return sess, nil
}

// countFailure records a failed attempt on a known account and locks it at
// the threshold (PUB-4).
func (s *Service) countFailure(ctx context.Context, tx *store.Tx, account string, failed int, now time.Time, reason, terminal string) error {
	var lockUntil any
	evs := []audit.Event{{Actor: sceau.Actor{ID: account}, Action: "login.failed", Object: "account:" + account,
		Details: map[string]any{"reason": reason, "failures": failed, "terminal": terminal}}}
	if failed >= s.o.MaxFailures {
		until := now.Add(s.o.Lockout)
		lockUntil, failed = store.FormatTime(until), 0
		evs = append(evs, audit.Event{Actor: sceau.System("access"), Action: "account.locked", Object: "account:" + account,
			Details: map[string]any{"until": until, "after_failures": s.o.MaxFailures}})
	}
	if _, err := tx.ExecContext(ctx, qLoginFailed, failed, lockUntil, account); err != nil {
		return store.Classify("access: login", err)
	}
	return s.journal.Append(ctx, tx, evs...)
}

// loginFailed records a failed attempt on no known account.
func (s *Service) loginFailed(ctx context.Context, actor sceau.Actor, account, reason string) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "login.failed", Object: "account:" + clip(account),
			Details: map[string]any{"reason": reason}})
	})
	if err != nil {
		return err
	}
	return errLogin
}

func (s *Service) loginRefusedLocked(ctx context.Context, account string, until time.Time) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: account}, Action: "login.refused", Object: "account:" + account,
			Details: map[string]any{"reason": "account locked", "until": until}})
	})
	if err != nil {
		return err
	}
	return sceau.Errorf(sceau.Denied, "access: login", "account %s is locked until %s after %d failed logins", account,
		until.Format(time.RFC3339), s.o.MaxFailures)
}

func (s *Service) openSession(ctx context.Context, tx *store.Tx, account string, terminal *x509.Certificate, now time.Time, must bool) (*Session, error) {
	raw := make([]byte, 32) // 256 bits
	if _, err := io.ReadFull(s.o.Rand, raw); err != nil {
		return nil, sceau.E(sceau.Internal, "access: session", "no randomness", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	sess := &Session{Token: token, ID: s.newID(8), Account: account, ExpiresAt: now.Add(s.o.SessionMax),
		IdleTimeout: s.o.SessionIdle.String(), MustChangePassword: must}
	if _, err := tx.ExecContext(ctx, qInsertSession, tokenHash(token), sess.ID, account, Fingerprint(terminal),
		store.FormatTime(now), store.FormatTime(now), store.FormatTime(sess.ExpiresAt)); err != nil {
		return nil, store.Classify("access: session", err)
	}
	roles, err := currentRoles(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	sess.Roles = roles
	if sess.Roles == nil {
		sess.Roles = []Role{}
	}
	return sess, nil
}

func roleNames(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, "+")
}

// Logout ends p's session (AUD-1).
func (s *Service) Logout(ctx context.Context, p Principal) error {
	if err := Decide(p, SessionLogout, Resource{Kind: "session", ID: p.Session}).Err(); err != nil {
		return err
	}
	if p.Session == "" {
		return sceau.Errorf(sceau.Invalid, "access: logout", "%s is authenticated by a certificate, not a session", p.Account)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qEndSession, store.FormatTime(s.now()), p.Session); err != nil {
			return store.Classify("access: logout", err)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(""), Action: "logout", Object: "session:" + p.Session})
	})
}

// ChangePassword replaces the password of p, who logged in with it, after
// checking the current one; other sessions of p end (AUD-1: an
// authentication data change).
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) error {
	const op = "access: change password"
	if err := Decide(p, SessionPassword, Resource{Kind: "account", ID: p.Account, Subject: p.Account}).Err(); err != nil {
		return err
	}
	if p.Method != MethodPassword {
		return sceau.Errorf(sceau.Invalid, op, "log in with your password first")
	}
	if current == next {
		return sceau.Errorf(sceau.Invalid, op, "the new password is the current one")
	}
	if err := CheckPassword(p.Account, next); err != nil {
		return err
	}
	release, err := s.lockHashing(ctx)
	if err != nil {
		return err
	}
	defer release()
	var (
		hash, secret, lock sql.NullString
		step               int64
		failed, must       int
		status             string
	)
	if err := s.db.QueryRowContext(ctx, qLoginState, p.Account).Scan(&hash, &secret, &step, &failed, &lock, &must, &status); err != nil {
		return store.Classify(op, err)
	}
	ok, err := verifyPassword(hash.String, current)
	if err != nil {
		return err
	}
	if !ok {
		return sceau.Errorf(sceau.Denied, op, "the current password is wrong")
	}
	newHash, err := hashPassword(next, s.o.KDF, s.o.Rand)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		now := store.FormatTime(s.now())
		if _, err := tx.ExecContext(ctx, qSetPassword, newHash, p.Account); err != nil {
			return store.Classify(op, err)
		}
		if _, err := tx.ExecContext(ctx, qEndOtherSessions, now, p.Account, p.Session); err != nil {
			return store.Classify(op, err)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(""), Action: "account.password_changed", Object: "account:" + p.Account,
			Details: map[string]any{"session": p.Session}})
	})
}

// Whoami describes p for the person themself.
type Whoami struct {
	Account            string     `json:"account,omitempty"`
	FullName           string     `json:"full_name,omitempty"`
	Roles              []Role     `json:"roles"`
	Method             string     `json:"method,omitempty"`
	Session            string     `json:"session,omitempty"`
	SessionExpiresAt   *time.Time `json:"session_expires_at,omitempty"`
	Terminal           string     `json:"terminal"`
	MustChangePassword bool       `json:"must_change_password,omitempty"`
}

// Whoami returns what Sceau knows of p.
func (s *Service) Whoami(ctx context.Context, p Principal) (*Whoami, error) {
	if err := Decide(p, SessionWhoami, Resource{Kind: "session"}).Err(); err != nil {
		return nil, err
	}
	w := &Whoami{Account: p.Account, Roles: p.Roles, Method: p.Method, Session: p.Session, Terminal: p.Terminal,
		MustChangePassword: p.MustChangePassword}
	if w.Roles == nil {
		w.Roles = []Role{}
	}
	if p.Account != "" {
		a, err := s.account(ctx, s.db, p.Account)
		if err != nil {
			return nil, err
		}
		w.FullName = a.FullName
	}
	if p.Session != "" {
		var exp string
		if err := s.db.QueryRowContext(ctx, qSessionExpiration, p.Session).Scan(&exp); err != nil {
			return nil, store.Classify("access: whoami", err)
		}
		if t, err := store.ParseTime(exp); err == nil {
			w.SessionExpiresAt = &t
		}
	}
	return w, nil
}

// ResetCredentials is the recovery path (docs/roles.md): run on the
// installation itself, with direct access to its database, it gives
// account a new initial password and a new TOTP enrolment, unlocks it and
// ends its sessions. It changes no role. by names who ran it and the
// witnesses, recorded in the journal.
func (s *Service) ResetCredentials(ctx context.Context, by sceau.Actor, account string, witnesses []string) (*Credentials, error) {
	const op = "access: recover"
	if len(witnesses) < 2 {
		return nil, sceau.Errorf(sceau.Invalid, op, "a recovery needs two witnesses")
	}
	a, err := s.account(ctx, s.db, account)
	if err != nil {
		return nil, err
	}
	if a.Status == AccountDeleted {
		return nil, sceau.Errorf(sceau.Conflict, op, "account %s is deleted: create a new account instead", account)
	}
	creds, hash, err := s.newCredentials(ctx, account, "")
	if err != nil {
		return nil, err
	}
	sealed, err := s.totp.seal(account, creds.TOTP.Secret, s.o.Rand)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qResetAccount, hash, sealed, account); err != nil {
			return store.Classify(op, err)
		}
		if _, err := tx.ExecContext(ctx, qEndAllSessions, store.FormatTime(s.now()), account); err != nil {
			return store.Classify(op, err)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: by, Action: "account.recovered", Object: "account:" + account,
			Details: map[string]any{"witnesses": witnesses, "password": "initial", "totp": "new"}})
	})
	if err != nil {
		return nil, err
	}
	return creds, nil
}
