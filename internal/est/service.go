package est

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Options tune the server; zero values take the defaults.
type Options struct {
	Clock  sceau.Clock
	Logger *slog.Logger
	// DefaultCA is the CA of /.well-known/est/ without a label; empty:
	// the only CA that issues to subscribers, if there is exactly one
	// (otherwise only the labelled paths /.well-known/est/<ca>/ answer).
	DefaultCA string
	// MaxBody caps a request body (default 32 KiB: a base64 CSR of
	// ca.MaxCSRBytes fits).
	MaxBody int64
	// Realm is the HTTP Basic realm (default "sceau-est").
	Realm string
	// Observe, when set, counts each enrollment for metrics: the operation
	// (simpleenroll, simplereenroll) and its outcome ("issued", or the
	// HTTP status of the refusal).
	Observe func(operation, outcome string)
}

// Dossiers reads registration dossiers (registration.Service).
type Dossiers interface {
	Dossier(ctx context.Context, p access.Principal, id int64) (*registration.Dossier, error)
}

// Service is the EST server.
type Service struct {
	db       *store.DB
	j        audit.Appender
	ca       *ca.Authority
	dossiers Dossiers
	opts     Options
	log      *slog.Logger
}

// New returns the server over its collaborators.
func New(db *store.DB, j audit.Appender, authority *ca.Authority, dossiers Dossiers, o Options) *Service {
	if o.Clock == nil {
		o.Clock = sceau.RealClock
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 32 << 10
	}
	if o.Realm == "" {
		o.Realm = "sceau-est"
	}
	return &Service{db: db, j: j, ca: authority, dossiers: dossiers, opts: o, log: o.Logger}
}

func (s *Service) now() time.Time { return s.opts.Clock.Now().UTC().Truncate(time.Second) }

// Credential is an EST credential: the HTTP Basic user name and password
// an EST client enrolls with, bound to one validated dossier. The
// password is returned once, by CreateCredential; only its SHA-256 is
// kept.
type Credential struct {
	Username    string               `json:"username"`
	Password    string               `json:"password,omitempty"` // only when created
	Dossier     int64                `json:"dossier"`
	CA          string               `json:"ca"`
	Profile     string               `json:"profile"`
	Subject     registration.Subject `json:"subject"`
	CreatedAt   time.Time            `json:"created_at"`
	CreatedBy   string               `json:"created_by"`
	RevokedAt   *time.Time           `json:"revoked_at,omitempty"`
	Enrollments []string             `json:"enrollments,omitempty"` // the serials issued, in order
	hash        string
}

func (c *Credential) actor() sceau.Actor { return sceau.Actor{ID: "est:" + c.Username} }

func decide(p access.Principal, action access.Action, id string) (sceau.Actor, error) {
	return access.Authorize(p, action, access.Resource{Kind: "est-credential", ID: id})
}

func hashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// matches compares a presented password with the stored hash in constant
// time.
func (c *Credential) matches(password string) bool {
	return c.hash != "" && subtle.ConstantTimeCompare([]byte(c.hash), []byte(hashHex(password))) == 1
}

// CreateCredential makes an EST credential for a validated dossier
// (CA-4): a user name and a random password, shown this once.
func (s *Service) CreateCredential(ctx context.Context, p access.Principal, dossier int64) (*Credential, error) {
	const op = "est: credential create"
	actor, err := decide(p, access.ESTCredentialCreate, "")
	if err != nil {
		return nil, err
	}
	d, err := s.dossiers.Dossier(ctx, p, dossier)
	if err != nil {
		return nil, err
	}
	// CA-4: only a dossier whose validation passed enrolls.
	switch d.State {
	case registration.Validated, registration.Issued, registration.Delivered:
	default:
		return nil, sceau.Errorf(sceau.Invalid, op, "dossier %d is %s: an EST credential is made for a validated dossier only", dossier, d.State)
	}
	if _, err := s.ca.CA(d.CA); err != nil {
		return nil, err
	}
	user, secret := make([]byte, 6), make([]byte, 32)
	if _, err := rand.Read(user); err != nil {
		return nil, sceau.E(sceau.Internal, op, "no randomness", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return nil, sceau.E(sceau.Internal, op, "no randomness", err)
	}
	now := s.now()
	c := &Credential{Username: fmt.Sprintf("est-%d-%s", dossier, hex.EncodeToString(user)),
		Password: base64.RawURLEncoding.EncodeToString(secret), Dossier: dossier, CA: d.CA, Profile: d.Profile, Subject: d.Subject,
		CreatedAt: now, CreatedBy: p.Account}
	subject, err := json.Marshal(d.Subject)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "subject", err)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qInsertCredential, c.Username, hashHex(c.Password), dossier, d.CA, d.Profile, string(subject),
			store.FormatTime(now), p.Account); err != nil {
			return store.Classify(op, err)
		}
		// The password is never journaled.
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionESTCredentialCreated, Object: "est-credential:" + c.Username,
			Details: map[string]any{"dossier": dossier, "ca": d.CA, "profile": d.Profile}})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Credentials lists the EST credentials with the serials they enrolled,
// never their passwords.
func (s *Service) Credentials(ctx context.Context, p access.Principal) ([]*Credential, error) {
	const op = "est: credential list"
	if _, err := decide(p, access.ESTCredentialRead, ""); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, qCredentials)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	var out []*Credential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		c.hash = ""
		out = append(out, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, store.Classify(op, err)
	}
	for _, c := range out {
		if c.Enrollments, err = s.enrollmentsOf(ctx, c.Username); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) enrollmentsOf(ctx context.Context, user string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, qEnrollmentsOf, user)
	if err != nil {
		return nil, store.Classify("est: enrollments", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var serial string
		if err := rows.Scan(&serial); err != nil {
			return nil, store.Classify("est: enrollments", err)
		}
		out = append(out, serial)
	}
	return out, store.Classify("est: enrollments", rows.Err())
}

// RevokeCredential revokes an EST credential: it enrolls nothing more,
// and the certificates it obtained re-enroll nothing more.
func (s *Service) RevokeCredential(ctx context.Context, p access.Principal, username string) error {
	const op = "est: credential revoke"
	actor, err := decide(p, access.ESTCredentialRevoke, username)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, qRevokeCredential, store.FormatTime(s.now()), p.Account, username)
		if err != nil {
			return store.Classify(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return sceau.Errorf(sceau.NotFound, op, "no EST credential %q in force", username)
		}
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionESTCredentialRevoked, Object: "est-credential:" + username})
	})
}

func (s *Service) credential(ctx context.Context, q store.Querier, username string) (*Credential, error) {
	c, err := scanCredential(q.QueryRowContext(ctx, qCredential, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, "est: credential", "no EST credential %q", username)
	}
	return c, err
}

func scanCredential(sc interface{ Scan(...any) error }) (*Credential, error) {
	var c Credential
	var subject, created string
	var revoked sql.NullString
	if err := sc.Scan(&c.Username, &c.hash, &c.Dossier, &c.CA, &c.Profile, &subject, &created, &c.CreatedBy, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, store.Classify("est: credential", err)
	}
	if err := json.Unmarshal([]byte(subject), &c.Subject); err != nil {
		return nil, sceau.E(sceau.Internal, "est: credential", "stored subject", err)
	}
	var err error
	if c.CreatedAt, err = store.ParseTime(created); err != nil {
		return nil, err
	}
	if revoked.Valid {
		t, err := store.ParseTime(revoked.String)
		if err != nil {
			return nil, err
		}
		c.RevokedAt = &t
	}
	return &c, nil
}

// refused journals a refusal, in a transaction of its own (nothing else
// changes). The password is never in it.
func (s *Service) refused(ctx context.Context, actor sceau.Actor, details map[string]any) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionESTRefused, Object: "est", Details: details})
	})
	if err != nil {
		s.log.Error("est: the refusal could not be journaled", "err", err)
	}
}
