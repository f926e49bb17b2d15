package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Options tune a Service. The zero value is the policy's settings.
type Options struct {
	Clock sceau.Clock // nil: the real clock
	Rand  io.Reader   // nil: crypto/rand
	// KDF hashes new passwords; zero: DefaultKDF. Stored hashes keep the
	// parameters they were made with.
	KDF KDFParams
	// Approvals is how many distinct people, other than the requester,
	// must approve an action under dual control (ROLE-3). Default: 2.
	Approvals int
	// ApprovalsFor overrides Approvals per action (at least 1).
	ApprovalsFor map[Action]int
	// RequestTTL is how long a request under dual control waits for its
	// approvals. Default: 24h.
	RequestTTL time.Duration
	// SessionIdle and SessionMax end a session after this long without a
	// request, and this long after login. Defaults: 15m and 8h.
	SessionIdle time.Duration
	SessionMax  time.Duration
	// MaxFailures failed logins in a row lock an account for Lockout.
	// Defaults: 5 and 15m (PUB-4).
	MaxFailures int
	Lockout     time.Duration
	// TOTPKey is the AES-256 key (32 bytes) that seals the TOTP secrets in
	// the store (ROLE-4; see OpenTOTPKey). nil: a random key for the life
	// of the Service, for tests only: what it seals is lost at exit.
	TOTPKey []byte
	// AdminCA signs personal admin client certificates (ROLE-4); nil: the
	// installation cannot issue them.
	AdminCA *AdminCA
}

func (o *Options) fill() {
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.KDF == (KDFParams{}) {
		o.KDF = DefaultKDF
	}
	if o.Approvals < 1 {
		o.Approvals = 2
	}
	if o.RequestTTL <= 0 {
		o.RequestTTL = 24 * time.Hour
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 15 * time.Minute
	}
	if o.SessionMax <= 0 {
		o.SessionMax = 8 * time.Hour
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.Lockout <= 0 {
		o.Lockout = 15 * time.Minute
	}
}

// Service keeps the people of an installation: accounts, authentication,
// sessions, trusted roles, personnel records and approvals. Every change
// and its audit event commit in one transaction (AUD-7).
type Service struct {
	db        *store.DB
	journal   audit.Appender
	clock     sceau.Clock
	o         Options
	hashing   chan struct{} // bounds concurrent Argon2id (64 MiB each)
	dummyHash string        // verified for unknown accounts, so they take as long
	approvals *Approvals
	totp      *totpSealer
}

// New returns the service on db, journaling into journal.
func New(db *store.DB, journal audit.Appender, o Options) *Service {
	o.fill()
	s := &Service{db: db, journal: journal, clock: sceau.ClockOr(o.Clock), o: o, hashing: make(chan struct{}, 4)}
	key := o.TOTPKey
	if key == nil {
		key = make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			panic("access: no randomness: " + err.Error())
		}
	}
	var err error
	if s.totp, err = newTOTPSealer(key); err != nil {
		// OpenTOTPKey only ever returns 32 bytes: a wrong length is a
		// wiring error, not input.
		panic(err)
	}
	s.dummyHash, _ = hashPassword("not a password of anyone", o.KDF, o.Rand)
	s.approvals = newApprovals(s)
	s.registerRoleExecutors()
	return s
}

// Approvals is the dual-control mechanism of the service.
func (s *Service) Approvals() *Approvals { return s.approvals }

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

// lockHashing waits for a free Argon2id slot.
func (s *Service) lockHashing(ctx context.Context) (func(), error) {
	select {
	case s.hashing <- struct{}{}:
		return func() { <-s.hashing }, nil
	case <-ctx.Done():
		return nil, sceau.E(sceau.Unavailable, "access", "the request was cancelled", ctx.Err())
	}
}

// accountName accepts every key share holder name the configuration does
// ([a-z0-9-], 1 to 40), and dots and underscores.
var accountName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

// CheckAccountName tells whether name may name an account: 1 to 40 of
// a-z 0-9 . _ -, starting with a letter or a digit.
func CheckAccountName(name string) error {
	if !accountName.MatchString(name) {
		return sceau.Errorf(sceau.Invalid, "access: account", "%q is not an account name (1 to 40 of a-z 0-9 . _ -, starting with a letter or digit)", clip(name))
	}
	return nil
}

func checkFullName(s string) error {
	if strings.TrimSpace(s) == "" || len(s) > 200 || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return sceau.Errorf(sceau.Invalid, "access: account", "the full name must be 1 to 200 printable characters")
	}
	return nil
}

// clip shortens outside input for messages and audit details.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (s *Service) newID(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.o.Rand, b); err != nil {
		panic("access: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// Fingerprint is the SHA-256 of a certificate, in lower-case hex: how a
// client certificate is bound to an account.
func Fingerprint(c *x509.Certificate) string {
	h := sha256.Sum256(c.Raw)
	return hex.EncodeToString(h[:])
}

// Account is a person as the API shows them; it never holds a secret.
type Account struct {
	Name               string             `json:"name"`
	FullName           string             `json:"full_name"`
	Roles              []Role             `json:"roles"`
	Password           bool               `json:"password"`
	TOTP               bool               `json:"totp"`
	MustChangePassword bool               `json:"must_change_password,omitempty"`
	FailedLogins       int                `json:"failed_logins"`
	LockedUntil        *time.Time         `json:"locked_until,omitempty"`
	Certificates       []BoundCertificate `json:"certificates,omitempty"`
	CreatedAt          time.Time          `json:"created_at"`
	CreatedBy          string             `json:"created_by"`
	// Status is active, suspended or deleted (ROLE-4), with why, when and
	// by whom it last changed.
	Status       string     `json:"status"`
	StatusReason string     `json:"status_reason,omitempty"`
	StatusAt     *time.Time `json:"status_at,omitempty"`
	StatusBy     string     `json:"status_by,omitempty"`
}

// Account states (ROLE-4).
const (
	AccountActive    = "active"
	AccountSuspended = "suspended"
	AccountDeleted   = "deleted"
)

// BoundCertificate is an admin-CA client certificate that authenticates its
// person instead of password and TOTP (ROLE-4).
type BoundCertificate struct {
	SHA256 string `json:"sha256"`
	// Serial in lower-case hex; empty for certificates bound before
	// serials were recorded.
	Serial           string     `json:"serial,omitempty"`
	Subject          string     `json:"subject"`
	NotAfter         time.Time  `json:"not_after"`
	BoundAt          time.Time  `json:"bound_at"`
	BoundBy          string     `json:"bound_by"`
	RevokedAt        *time.Time `json:"revoked_at,omitempty"`
	RevokedBy        string     `json:"revoked_by,omitempty"`
	RevocationReason string     `json:"revocation_reason,omitempty"`
}

// Credentials are a new person's secrets, shown once and never stored in
// clear: an initial password to change at first login, and the TOTP
// enrolment for their authenticator app.
type Credentials struct {
	Account  string         `json:"account"`
	Password string         `json:"password,omitempty"`
	TOTP     *TOTPEnrolment `json:"totp,omitempty"`
	// MustChangePassword: the password is an initial one.
	MustChangePassword bool `json:"must_change_password,omitempty"`
}

// CreateAccount creates a person without any role; only a Security Officer
// may (ROLE-2). It returns their initial password and TOTP enrolment, to
// hand over once; the password must be changed at first login.
func (s *Service) CreateAccount(ctx context.Context, p Principal, name, fullName string) (*Credentials, error) {
	const op = "access: create account"
	d := Decide(p, AccountCreate, Resource{Kind: "account", ID: name, Subject: name})
	if err := d.Err(); err != nil {
		return nil, err
	}
	if err := CheckAccountName(name); err != nil {
		return nil, err
	}
	if err := checkFullName(fullName); err != nil {
		return nil, err
	}
	creds, hash, err := s.newCredentials(ctx, name, "")
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.insertAccount(ctx, tx, name, fullName, hash, creds.TOTP, true, p.Account); err != nil {
			return err
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: "account.created", Object: "account:" + name,
			Details: map[string]any{"full_name": fullName, "password": "initial", "totp": true}})
	})
	if err != nil {
		return nil, accountConflict(op, name, err)
	}
	return creds, nil
}

// newCredentials makes a password hash (of password, or of a new initial
// one) and a TOTP enrolment for account.
func (s *Service) newCredentials(ctx context.Context, account, password string) (*Credentials, string, error) {
	creds := &Credentials{Account: account, Password: password}
	if password == "" {
		pw, err := newInitialPassword(account, s.o.Rand)
		if err != nil {
			return nil, "", err
		}
		creds.Password, creds.MustChangePassword = pw, true
	} else if err := CheckPassword(account, password); err != nil {
		return nil, "", err
	}
	release, err := s.lockHashing(ctx)
	if err != nil {
		return nil, "", err
	}
	hash, err := hashPassword(creds.Password, s.o.KDF, s.o.Rand)
	release()
	if err != nil {
		return nil, "", err
	}
	enr, err := newTOTP(account, s.o.Rand)
	if err != nil {
		return nil, "", err
	}
	creds.TOTP = &enr
	return creds, hash, nil
}

func accountConflict(op, name string, err error) error {
	if sceau.KindOf(err) == sceau.Conflict {
		return sceau.E(sceau.Conflict, op, "account "+name+" exists already", err)
	}
	return err
}

// Person is one of the first people of an installation, for Bootstrap.
type Person struct {
	Name     string
	FullName string
	Roles    []Role
	// Password, when set, is used as is (it must pass the policy) and need
	// not be changed; otherwise an initial password is made.
	Password string
	// CertificateOnly: no password and no TOTP; the person authenticates
	// with Certificate alone.
	CertificateOnly bool
	// Certificate, when set, is bound to the account (ROLE-4).
	Certificate *x509.Certificate
}

// Bootstrap creates the first people of a new installation with their
// roles, without dual control: there is nobody yet to approve. It refuses
// once any account exists, so it cannot be used to bypass dual control
// later. Separation of duties (ROLE-2) applies as always. Every account,
// role and certificate is an audit event of by.
func (s *Service) Bootstrap(ctx context.Context, by sceau.Actor, people []Person) ([]Credentials, error) {
	const op = "access: bootstrap"
	var out []Credentials
	type made struct {
		p     Person
		hash  string
		creds *Credentials
	}
	var all []made
	seen := map[string]bool{}
	for _, p := range people {
		if err := CheckAccountName(p.Name); err != nil {
			return nil, err
		}
		if seen[p.Name] {
			return nil, sceau.Errorf(sceau.Invalid, op, "account %s is listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.FullName == "" {
			p.FullName = p.Name
		}
		if err := checkFullName(p.FullName); err != nil {
			return nil, err
		}
		if err := CheckRoles(p.Roles); err != nil {
			return nil, sceau.Errorf(sceau.Invalid, op, "account %s: %s", p.Name, sceau.Message(err))
		}
		m := made{p: p, creds: &Credentials{Account: p.Name}}
		if p.CertificateOnly {
			if p.Certificate == nil {
				return nil, sceau.Errorf(sceau.Invalid, op, "account %s has neither a password nor a certificate", p.Name)
			}
		} else {
			var err error
			if m.creds, m.hash, err = s.newCredentials(ctx, p.Name, p.Password); err != nil {
				return nil, err
			}
		}
		all = append(all, m)
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, qCountAccounts).Scan(&n); err != nil {
			return store.Classify(op, err)
		}
		if n > 0 {
			return sceau.Errorf(sceau.Conflict, op, "the installation has accounts already: new people are created by a Security Officer and their roles granted under dual control")
		}
		now := store.FormatTime(s.now())
		for _, m := range all {
			if err := s.insertAccount(ctx, tx, m.p.Name, m.p.FullName, m.hash, m.creds.TOTP, m.creds.MustChangePassword, by.ID); err != nil {
				return err
			}
			evs := []audit.Event{{Actor: by, Action: "account.created", Object: "account:" + m.p.Name,
				Details: map[string]any{"full_name": m.p.FullName, "bootstrap": true, "password": m.hash != "", "totp": m.creds.TOTP != nil}}}
			for _, r := range m.p.Roles {
				if _, err := tx.ExecContext(ctx, qInsertAssignment, s.newID(8), m.p.Name, string(r), now, by.ID, nil); err != nil {
					return store.Classify(op, err)
				}
				evs = append(evs, audit.Event{Actor: by, Action: "role.granted", Object: "account:" + m.p.Name,
					Details: map[string]any{"role": r, "bootstrap": true}})
			}
			if c := m.p.Certificate; c != nil {
				if err := s.bindCertificate(ctx, tx, m.p.Name, c, by.ID); err != nil {
					return err
				}
				evs = append(evs, audit.Event{Actor: by, Action: "account.certificate_bound", Object: "account:" + m.p.Name,
					Details: map[string]any{"sha256": Fingerprint(c), "subject": c.Subject.String()}})
			}
			if err := s.journal.Append(ctx, tx, evs...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if !m.p.CertificateOnly {
			out = append(out, *m.creds)
		}
	}
	return out, nil
}

func (s *Service) insertAccount(ctx context.Context, tx *store.Tx, name, fullName, hash string, enr *TOTPEnrolment, mustChange bool, by string) error {
	var pw, secret any
	if hash != "" {
		pw = hash
	}
	if enr != nil {
		sealed, err := s.totp.seal(name, enr.Secret, s.o.Rand)
		if err != nil {
			return err
		}
		secret = sealed
	}
	_, err := tx.ExecContext(ctx, qInsertAccount, name, fullName, pw, boolInt(mustChange), secret, store.FormatTime(s.now()), by)
	return store.Classify("access: account", err)
}

func (s *Service) bindCertificate(ctx context.Context, tx *store.Tx, account string, c *x509.Certificate, by string) error {
	_, err := tx.ExecContext(ctx, qInsertCertificate, Fingerprint(c), account, c.Subject.String(),
		store.FormatTime(c.NotAfter), store.FormatTime(s.now()), by, serialHex(c))
	if sceau.KindOf(store.Classify("", err)) == sceau.Conflict {
		return sceau.Errorf(sceau.Conflict, "access: certificate", "this certificate is bound to an account already")
	}
	return store.Classify("access: certificate", err)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ShowAccount returns the account name (ROLE-4: the Security Officer, the
// Auditor, or the person themself).
func (s *Service) ShowAccount(ctx context.Context, p Principal, name string) (*Account, error) {
	if err := Decide(p, AccountShow, Resource{Kind: "account", ID: name, Subject: name}).Err(); err != nil {
		return nil, err
	}
	return s.account(ctx, s.db, name)
}

// ListAccounts returns every account, by name.
func (s *Service) ListAccounts(ctx context.Context, p Principal) ([]*Account, error) {
	if err := Decide(p, AccountList, Resource{Kind: "account"}).Err(); err != nil {
		return nil, err
	}
	names, err := s.accountNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Account, 0, len(names))
	for _, n := range names {
		a, err := s.account(ctx, s.db, n)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// AllAccounts returns every account, by name, undecided: for the self-audit
// (COMP-1), whose route decides compliance.check first.
func (s *Service) AllAccounts(ctx context.Context) ([]*Account, error) {
	names, err := s.accountNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Account, 0, len(names))
	for _, n := range names {
		a, err := s.account(ctx, s.db, n)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (s *Service) accountNames(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, qAccountNames)
	if err != nil {
		return nil, store.Classify("access: accounts", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, store.Classify("access: accounts", err)
		}
		names = append(names, n)
	}
	return names, store.Classify("access: accounts", rows.Err())
}

// HasRole tells whether account holds role now. Other packages use it to
// check a person named in a request (a key share holder presenting a share).
func (s *Service) HasRole(ctx context.Context, account string, role Role) (bool, error) {
	// ROLE-4: a suspended or deleted person holds nothing usable.
	if st, err := accountStatus(ctx, s.db, account); err != nil || st != AccountActive {
		if sceau.KindOf(err) == sceau.NotFound {
			err = nil
		}
		return false, err
	}
	roles, err := currentRoles(ctx, s.db, account)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		if r == role {
			return true, nil
		}
	}
	return false, nil
}
