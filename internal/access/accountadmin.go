package access

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"time"
	"unicode"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// A Security Officer's single-person actions on an account (ROLE-4):
// change, suspend, resume, delete, and the personal admin client
// certificates. Each change and its audit event commit together (AUD-7);
// each takes effect on the person's next request, because Authenticate
// reads the account's status and certificates on every request.

// Personal certificate lifetimes (ROLE-4).
const (
	DefaultPersonalCertValidity = 365 * 24 * time.Hour
	MaxPersonalCertValidity     = 397 * 24 * time.Hour
)

func checkReason(op, reason string, required bool) (string, error) {
	reason = strings.TrimSpace(reason)
	if required && reason == "" {
		return "", sceau.Errorf(sceau.Invalid, op, "a reason is required (it is recorded in the journal)")
	}
	if len(reason) > 500 || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		return "", sceau.Errorf(sceau.Invalid, op, "the reason must be up to 500 printable characters")
	}
	return reason, nil
}

// lastOfficer refuses disabling account when it is the last active
// Security Officer: someone must remain who can manage people (ROLE-2).
func lastOfficer(ctx context.Context, q store.Querier, op, account string) error {
	roles, err := currentRoles(ctx, q, account)
	if err != nil {
		return err
	}
	isSO := false
	for _, r := range roles {
		isSO = isSO || r == SecurityOfficer
	}
	if !isSO {
		return nil
	}
	var others int
	if err := q.QueryRowContext(ctx, qActiveOfficers, string(SecurityOfficer), account).Scan(&others); err != nil {
		return store.Classify(op, err)
	}
	if others == 0 {
		return sceau.Errorf(sceau.Conflict, op, "%s is the last active Security Officer: grant the role to another person first", account)
	}
	return nil
}

// SetFullName changes the full name of account (account.changed).
func (s *Service) SetFullName(ctx context.Context, p Principal, account, fullName string) (*Account, error) {
	const op = "access: change account"
	d := Decide(p, AccountChange, Resource{Kind: "account", ID: account, Subject: account})
	if err := d.Err(); err != nil {
		return nil, err
	}
	if err := checkFullName(fullName); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := s.account(ctx, tx, account)
		if err != nil {
			return err
		}
		if a.Status == AccountDeleted {
			return sceau.Errorf(sceau.Conflict, op, "account %s is deleted", account)
		}
		if a.FullName == fullName {
			return sceau.Errorf(sceau.Conflict, op, "the full name of %s is %q already", account, fullName)
		}
		if _, err := tx.ExecContext(ctx, qSetFullName, fullName, account); err != nil {
			return store.Classify(op, err)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: "account.changed", Object: "account:" + account,
			Details: map[string]any{"full_name": map[string]string{"old": a.FullName, "new": fullName}, "session": p.Session}})
	})
	if err != nil {
		return nil, err
	}
	return s.account(ctx, s.db, account)
}

// onAccount runs a Security Officer's action on one account (ROLE-4):
// decided, its reason checked, then fn in one transaction with the
// account's current status, which returns the account as it is after.
func (s *Service) onAccount(ctx context.Context, p Principal, action Action, op, account, reason string, reasonRequired bool,
	fn func(tx *store.Tx, d Decision, status, reason string) error) (*Account, error) {
	d := Decide(p, action, Resource{Kind: "account", ID: account, Subject: account})
	if err := d.Err(); err != nil {
		return nil, err
	}
	reason, err := checkReason(op, reason, reasonRequired)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		st, err := accountStatus(ctx, tx, account)
		if err != nil {
			return err
		}
		return fn(tx, d, st, reason)
	})
	if err != nil {
		return nil, err
	}
	return s.account(ctx, s.db, account)
}

// Suspend disables account at once (ROLE-4): its sessions end, its
// certificates and its password authenticate nobody, and pending requests
// it made fail at execution. Its roles and records stay; Resume undoes it.
func (s *Service) Suspend(ctx context.Context, p Principal, account, reason string) (*Account, error) {
	const op = "access: suspend account"
	return s.onAccount(ctx, p, AccountSuspend, op, account, reason, true, func(tx *store.Tx, d Decision, st, reason string) error {
		if st != AccountActive {
			return sceau.Errorf(sceau.Conflict, op, "account %s is %s already", account, st)
		}
		if err := lastOfficer(ctx, tx, op, account); err != nil {
			return err
		}
		now := store.FormatTime(s.now())
		if _, err := tx.ExecContext(ctx, qSetAccountStatus, AccountSuspended, reason, now, p.Account, account, AccountActive); err != nil {
			return store.Classify(op, err)
		}
		if _, err := tx.ExecContext(ctx, qEndAllSessions, now, account); err != nil {
			return store.Classify(op, err)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: "account.suspended", Object: "account:" + account,
			Details: map[string]any{"reason": reason, "session": p.Session}})
	})
}

// Resume reactivates a suspended account; another Security Officer than
// the person resumed does it. Sessions ended by the suspension stay ended.
func (s *Service) Resume(ctx context.Context, p Principal, account, reason string) (*Account, error) {
	const op = "access: resume account"
	return s.onAccount(ctx, p, AccountResume, op, account, reason, false, func(tx *store.Tx, d Decision, st, reason string) error {
		if st != AccountSuspended {
			return sceau.Errorf(sceau.Conflict, op, "account %s is %s, not suspended", account, st)
		}
		if _, err := tx.ExecContext(ctx, qSetAccountStatus, AccountActive, reason, store.FormatTime(s.now()), p.Account,
			account, AccountSuspended); err != nil {
			return store.Classify(op, err)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: "account.resumed", Object: "account:" + account,
			Details: map[string]any{"reason": reason, "session": p.Session}})
	})
}

// Delete disables account for good (account.deleted). Nothing is erased
// from the history: the account's row, personnel record, votes and journal
// events stay. Its password and TOTP secret are dropped, its sessions end,
// its certificates are revoked and its current roles are closed
// (role.removed, with the deletion as reason). The last active Security
// Officer cannot be deleted.
func (s *Service) Delete(ctx context.Context, p Principal, account, reason string) (*Account, error) {
	const op = "access: delete account"
	return s.onAccount(ctx, p, AccountDelete, op, account, reason, true, func(tx *store.Tx, d Decision, st, reason string) error {
		if st == AccountDeleted {
			return sceau.Errorf(sceau.Conflict, op, "account %s is deleted already", account)
		}
		if err := lastOfficer(ctx, tx, op, account); err != nil {
			return err
		}
		roles, err := currentRoles(ctx, tx, account)
		if err != nil {
			return err
		}
		now := store.FormatTime(s.now())
		if _, err := tx.ExecContext(ctx, qDeleteAccount, reason, now, p.Account, account); err != nil {
			return store.Classify(op, err)
		}
		if _, err := tx.ExecContext(ctx, qEndAllSessions, now, account); err != nil {
			return store.Classify(op, err)
		}
		if _, err := tx.ExecContext(ctx, qRevokeAllCertificates, now, p.Account, "account deleted", account); err != nil {
			return store.Classify(op, err)
		}
		evs := []audit.Event{}
		for _, r := range roles {
			if _, err := tx.ExecContext(ctx, qRemoveAssignment, now, p.Account, nil, account, string(r)); err != nil {
				return store.Classify(op, err)
			}
			evs = append(evs, audit.Event{Actor: p.Actor(d.Role), Action: "role.removed", Object: "account:" + account,
				Details: map[string]any{"role": r, "reason": "account deleted"}})
		}
		evs = append(evs, audit.Event{Actor: p.Actor(d.Role), Action: "account.deleted", Object: "account:" + account,
			Details: map[string]any{"reason": reason, "roles_removed": roles, "previous_status": st, "session": p.Session}})
		return s.journal.Append(ctx, tx, evs...)
	})
}

// IssuedCertificate is a personal admin client certificate just issued.
type IssuedCertificate struct {
	BoundCertificate
	Certificate string `json:"certificate"` // PEM
	AdminCA     string `json:"admin_ca"`    // PEM, to trust the listener
}

// IssueCertificate signs a personal admin client certificate for account
// from the public key of csrDER (the key is made by the person's client and
// never crosses the API) and binds it to the account, so that it stands in
// for password and TOTP (ROLE-4). Only a Security Officer issues one, never
// to themself. validity 0 means DefaultPersonalCertValidity.
func (s *Service) IssueCertificate(ctx context.Context, p Principal, account string, csrDER []byte, validity time.Duration) (*IssuedCertificate, error) {
	const op = "access: issue certificate"
	d := Decide(p, AccountCertIssue, Resource{Kind: "account", ID: account, Subject: account})
	if err := d.Err(); err != nil {
		return nil, err
	}
	if s.o.AdminCA == nil {
		return nil, sceau.Errorf(sceau.Unavailable, op, "this installation has no admin CA to sign with")
	}
	if validity == 0 {
		validity = DefaultPersonalCertValidity
	}
	if validity < time.Hour || validity > MaxPersonalCertValidity {
		return nil, sceau.Errorf(sceau.Invalid, op, "validity %s is outside 1h..%s", validity, MaxPersonalCertValidity)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "the CSR does not parse")
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "the CSR's signature does not verify: it must be signed by its key")
	}
	if err := checkPersonalKey(csr.PublicKey); err != nil {
		return nil, err
	}
	var out *IssuedCertificate
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		st, err := accountStatus(ctx, tx, account)
		if err != nil {
			return err
		}
		if st != AccountActive {
			return sceau.Errorf(sceau.Conflict, op, "account %s is %s", account, st)
		}
		now := s.now()
		c, err := s.o.AdminCA.issuePersonal(account, csr.PublicKey, now, now.Add(validity))
		if err != nil {
			return err
		}
		if err := s.bindCertificate(ctx, tx, account, c, p.Account); err != nil {
			return err
		}
		out = &IssuedCertificate{
			BoundCertificate: BoundCertificate{SHA256: Fingerprint(c), Serial: serialHex(c), Subject: c.Subject.String(),
				NotAfter: c.NotAfter, BoundAt: now, BoundBy: p.Account},
			Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})),
			AdminCA:     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.o.AdminCA.Cert.Raw})),
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: "account.certificate_bound", Object: "account:" + account,
			Details: map[string]any{"sha256": out.SHA256, "serial": out.Serial, "subject": out.Subject, "not_after": c.NotAfter,
				"session": p.Session}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkPersonalKey accepts the keys the admin listener's TLS 1.3 accepts
// from a client, at the policy's strength: ECDSA P-256 or P-384, RSA of
// 2048 bits or more.
func checkPersonalKey(pub any) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return nil
		}
	case *rsa.PublicKey:
		if k.N.BitLen() >= 2048 {
			return nil
		}
	}
	return sceau.Errorf(sceau.Invalid, "access: issue certificate", "the key must be ECDSA P-256, P-384 or RSA of at least 2048 bits")
}

// Certificates lists the admin client certificates bound to account, the
// revoked ones too.
func (s *Service) Certificates(ctx context.Context, p Principal, account string) ([]BoundCertificate, error) {
	if err := Decide(p, AccountCertList, Resource{Kind: "account", ID: account, Subject: account}).Err(); err != nil {
		return nil, err
	}
	a, err := s.account(ctx, s.db, account)
	if err != nil {
		return nil, err
	}
	if a.Certificates == nil {
		return []BoundCertificate{}, nil
	}
	return a.Certificates, nil
}

// RevokeCertificate revokes the certificate of account named by id (its
// serial, or its SHA-256 fingerprint): from the next request it
// authenticates nobody, not even as a terminal (ROLE-4).
func (s *Service) RevokeCertificate(ctx context.Context, p Principal, account, id, reason string) (*BoundCertificate, error) {
	const op = "access: revoke certificate"
	d := Decide(p, AccountCertRevoke, Resource{Kind: "account", ID: account, Subject: account})
	if err := d.Err(); err != nil {
		return nil, err
	}
	reason, err := checkReason(op, reason, false)
	if err != nil {
		return nil, err
	}
	id = strings.ToLower(strings.TrimSpace(id))
	var out *BoundCertificate
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := s.account(ctx, tx, account)
		if err != nil {
			return err
		}
		for i, c := range a.Certificates {
			if id == "" || (c.Serial != id && c.SHA256 != id) {
				continue
			}
			if c.RevokedAt != nil {
				return sceau.Errorf(sceau.Conflict, op, "certificate %s of %s was revoked already", id, account)
			}
			now := s.now()
			if _, err := tx.ExecContext(ctx, qRevokeCertificate, store.FormatTime(now), p.Account, reason, c.SHA256, account); err != nil {
				return store.Classify(op, err)
			}
			out = &a.Certificates[i]
			out.RevokedAt, out.RevokedBy, out.RevocationReason = &now, p.Account, reason
			return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: "account.certificate_revoked", Object: "account:" + account,
				Details: map[string]any{"sha256": c.SHA256, "serial": c.Serial, "reason": reason, "session": p.Session}})
		}
		return sceau.Errorf(sceau.NotFound, op, "%s has no certificate %q", account, clip(id))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
