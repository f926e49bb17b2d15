package acme

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Directory is one ACME directory, served at /acme/<Name>/directory: the
// CA and profile it issues under.
type Directory struct {
	Name    string
	CA      string
	Profile string
	// EABOptional lets accounts be created without an external account
	// binding; identifiers are then limited only by the challenges. The
	// default (false) refuses newAccount without a valid EAB (CA-4).
	EABOptional bool
}

// Options tune the server; zero values take the defaults.
type Options struct {
	Clock  sceau.Clock
	Logger *slog.Logger
	// BaseURL is the enrollment listener's external URL
	// ("https://acme.example.org"); empty: taken from each request.
	BaseURL     string
	Directories []Directory
	// HTTPPort and TLSALPNPort are where http-01 and tls-alpn-01 are
	// checked (defaults 80 and 443: only tests change them).
	HTTPPort    int
	TLSALPNPort int
	// Resolver is the host:port of the DNS resolver used for dns-01 and
	// for the addresses of http-01 and tls-alpn-01; empty: the system's.
	Resolver string
	// MaxBody caps a request body (default 64 KiB).
	MaxBody int64
	// MaxNonces bounds the outstanding nonces (default 10000; the oldest
	// are dropped first). NonceLifetime defaults to one hour.
	MaxNonces     int
	NonceLifetime time.Duration
	// OrderLifetime is how long an order and its authorizations stay
	// pending (default 7 days). ValidationTimeout bounds one challenge
	// check (default 10s).
	OrderLifetime     time.Duration
	ValidationTimeout time.Duration
	// AuthorizationReuse, when not zero, lets a new order of an account
	// reuse a challenge that account passed for the same name within that
	// time (the new authorization is valid at once, and says which one it
	// reuses); zero: every order is validated anew.
	AuthorizationReuse time.Duration
	// TermsURL, when set, is the directory's termsOfService.
	TermsURL string
	// CAAIssuerDomains are the issuer domain names of the CAA records
	// that authorize this CA (RFC 8659), lower case; empty: CAA is not
	// checked. When set, a name whose CAA records name other issuers, or
	// whose accounturi or validationmethods parameters do not match, is
	// refused, and so is a failed lookup.
	CAAIssuerDomains []string
	// Observe, when set, counts what the server does, for metrics: kind
	// "order" (outcome pending, ready, valid), "challenge" (<type>:valid
	// or <type>:invalid) and "problem" (the ACME error type, e.g.
	// rateLimited).
	Observe func(kind, outcome string)
	// OrdersPerAccountPerHour caps the orders an account makes in an
	// hour (default 300); CertificatesPerIdentifierPerWeek caps the
	// certificates issued for one identifier in 7 days, whatever the
	// account (default 50). 0 takes the default, a negative value lifts
	// the limit. Both are counted from the database (ratelimit.go).
	OrdersPerAccountPerHour          int
	CertificatesPerIdentifierPerWeek int
	// FailedValidationsPerAccountPerHour caps the challenges of an
	// account that may fail in an hour before its new orders are refused
	// (default 30; 0 and negative as above).
	FailedValidationsPerAccountPerHour int
	// RenewalExplanationURL, when set, is the explanationURL of the
	// renewal information of revoked certificates (RFC 9773 §4.2), e.g.
	// the notice of an incident that made the CA revoke them.
	RenewalExplanationURL string
}

// Dossiers reads registration dossiers (registration.Service).
type Dossiers interface {
	Dossier(ctx context.Context, p access.Principal, id int64) (*registration.Dossier, error)
}

// Service is the ACME server.
type Service struct {
	db       *store.DB
	j        audit.Appender
	ca       *ca.Authority
	rev      *revocation.Service
	dossiers Dossiers
	opts     Options
	log      *slog.Logger
	dirs     map[string]Directory
	nonces   *nonces
	wg       sync.WaitGroup
}

// New returns the server over its collaborators.
func New(db *store.DB, j audit.Appender, authority *ca.Authority, rev *revocation.Service, dossiers Dossiers, o Options) *Service {
	if o.Clock == nil {
		o.Clock = sceau.RealClock
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HTTPPort == 0 {
		o.HTTPPort = 80
	}
	if o.TLSALPNPort == 0 {
		o.TLSALPNPort = 443
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 10
	}
	if o.MaxNonces <= 0 {
		o.MaxNonces = 10000
	}
	if o.NonceLifetime <= 0 {
		o.NonceLifetime = time.Hour
	}
	if o.OrderLifetime <= 0 {
		o.OrderLifetime = 7 * 24 * time.Hour
	}
	if o.ValidationTimeout <= 0 {
		o.ValidationTimeout = 10 * time.Second
	}
	limitsDefaults(&o)
	s := &Service{db: db, j: j, ca: authority, rev: rev, dossiers: dossiers, opts: o, log: o.Logger, dirs: map[string]Directory{},
		nonces: newNonces(o.MaxNonces, o.NonceLifetime, o.Clock)}
	for _, d := range o.Directories {
		s.dirs[d.Name] = d
	}
	return s
}

// Wait waits for the challenge checks under way (for tests and shutdown).
func (s *Service) Wait() { s.wg.Wait() }

func (s *Service) observe(kind, outcome string) {
	if s.opts.Observe != nil {
		s.opts.Observe(kind, outcome)
	}
}

func (s *Service) now() time.Time { return s.opts.Clock.Now().UTC().Truncate(time.Second) }

// EABKey is an external account binding key (RFC 8555 §7.3.4). The HMAC
// key is returned once, by CreateEAB.
type EABKey struct {
	KID       string     `json:"kid"`
	HMACKey   string     `json:"hmac_key,omitempty"` // base64url, only when created
	Dossier   int64      `json:"dossier"`
	CA        string     `json:"ca"`
	Profile   string     `json:"profile"`
	DNSNames  []string   `json:"dns_names"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	Account   int64      `json:"account,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	key       []byte
}

func decide(p access.Principal, action access.Action, id string) (sceau.Actor, error) {
	return access.Authorize(p, action, access.Resource{Kind: "acme-eab", ID: id})
}

// CreateEAB makes an EAB key for a validated dossier (CA-4). dns, when
// given, must be among the dossier's DNS names; empty: all of them.
func (s *Service) CreateEAB(ctx context.Context, p access.Principal, dossier int64, dns []string) (*EABKey, error) {
	const op = "acme: eab create"
	actor, err := decide(p, access.ACMEEABCreate, "")
	if err != nil {
		return nil, err
	}
	d, err := s.dossiers.Dossier(ctx, p, dossier)
	if err != nil {
		return nil, err
	}
	// CA-4: only a dossier whose validation passed binds an account.
	switch d.State {
	case registration.Validated, registration.Issued, registration.Delivered:
	default:
		return nil, sceau.Errorf(sceau.Invalid, op, "dossier %d is %s: an EAB key is made for a validated dossier only", dossier, d.State)
	}
	if len(d.Subject.DNSNames) == 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "dossier %d names no DNS name for ACME to issue", dossier)
	}
	if len(dns) == 0 {
		dns = d.Subject.DNSNames
	}
	var names []string
	for _, n := range dns {
		n = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), "."))
		if !slices.ContainsFunc(d.Subject.DNSNames, func(v string) bool { return strings.EqualFold(v, n) }) {
			return nil, sceau.Errorf(sceau.Invalid, op, "dossier %d does not name %q: an EAB key allows only names of its dossier", dossier, n)
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	kidRaw, key := make([]byte, 12), make([]byte, 32)
	if _, err := rand.Read(kidRaw); err != nil {
		return nil, sceau.E(sceau.Internal, op, "no randomness", err)
	}
	if _, err := rand.Read(key); err != nil {
		return nil, sceau.E(sceau.Internal, op, "no randomness", err)
	}
	now := s.now()
	k := &EABKey{KID: "eab-" + b64(kidRaw), HMACKey: b64(key), Dossier: dossier, CA: d.CA, Profile: d.Profile, DNSNames: names,
		CreatedAt: now, CreatedBy: p.Account}
	namesJSON, _ := json.Marshal(names)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qInsertEAB, k.KID, key, dossier, d.CA, d.Profile, string(namesJSON), store.FormatTime(now), p.Account); err != nil {
			return store.Classify(op, err)
		}
		// The HMAC key is never journaled.
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionACMEEABCreated, Object: "acme-eab:" + k.KID,
			Details: map[string]any{"dossier": dossier, "ca": d.CA, "profile": d.Profile, "dns_names": names}})
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// EABKeys lists the EAB keys, without their HMAC keys.
func (s *Service) EABKeys(ctx context.Context, p access.Principal) ([]*EABKey, error) {
	if _, err := decide(p, access.ACMEEABRead, ""); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, qEABs)
	if err != nil {
		return nil, store.Classify("acme: eab list", err)
	}
	defer rows.Close()
	var out []*EABKey
	for rows.Next() {
		k, err := scanEAB(rows)
		if err != nil {
			return nil, err
		}
		k.key = nil
		out = append(out, k)
	}
	return out, store.Classify("acme: eab list", rows.Err())
}

// RevokeEAB revokes an EAB key: no new account binds to it and its
// account orders nothing more.
func (s *Service) RevokeEAB(ctx context.Context, p access.Principal, kid string) error {
	const op = "acme: eab revoke"
	actor, err := decide(p, access.ACMEEABRevoke, kid)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, qRevokeEAB, store.FormatTime(s.now()), p.Account, kid)
		if err != nil {
			return store.Classify(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return sceau.Errorf(sceau.NotFound, op, "no EAB key %q in force", kid)
		}
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionACMEEABRevoked, Object: "acme-eab:" + kid})
	})
}

func (s *Service) eab(ctx context.Context, q store.Querier, kid string) (*EABKey, error) {
	k, err := scanEAB(q.QueryRowContext(ctx, qEAB, kid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, "acme: eab", "no EAB key %q", kid)
	}
	return k, err
}

func scanEAB(sc interface{ Scan(...any) error }) (*EABKey, error) {
	var k EABKey
	var names, created string
	var account sql.NullInt64
	var revoked sql.NullString
	if err := sc.Scan(&k.KID, &k.key, &k.Dossier, &k.CA, &k.Profile, &names, &created, &k.CreatedBy, &account, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, store.Classify("acme: eab", err)
	}
	if err := json.Unmarshal([]byte(names), &k.DNSNames); err != nil {
		return nil, sceau.E(sceau.Internal, "acme: eab", "stored names", err)
	}
	var err error
	if k.CreatedAt, err = store.ParseTime(created); err != nil {
		return nil, err
	}
	k.Account = account.Int64
	if revoked.Valid {
		t, err := store.ParseTime(revoked.String)
		if err != nil {
			return nil, err
		}
		k.RevokedAt = &t
	}
	return &k, nil
}

// write runs fn in a group-committed transaction (the CA's committer:
// one fsync covers a batch) and appends the events fn returns in that
// same transaction. fn must be safe to run twice (a failed batch is run
// again one operation at a time).
func (s *Service) write(ctx context.Context, fn func(ctx context.Context, tx *store.Tx) ([]audit.Event, error)) error {
	return store.DoThen(s.ca.Committer(), ctx, s, fn, func(ctx context.Context, tx *store.Tx, items [][]audit.Event) error {
		var all []audit.Event
		for _, evs := range items {
			all = append(all, evs...)
		}
		return s.j.Append(ctx, tx, all...)
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// nonces are the single-use Replay-Nonce values handed out, bounded.
type nonces struct {
	mu    sync.Mutex
	max   int
	life  time.Duration
	clock sceau.Clock
	live  map[string]time.Time
	order []string
}

func newNonces(max int, life time.Duration, clock sceau.Clock) *nonces {
	return &nonces{max: max, life: life, clock: clock, live: map[string]time.Time{}}
}

func (n *nonces) issue() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("acme: no randomness: %v", err)) // crypto/rand does not fail on supported systems
	}
	v := b64(b)
	n.mu.Lock()
	defer n.mu.Unlock()
	for len(n.order) >= n.max {
		delete(n.live, n.order[0])
		n.order = n.order[1:]
	}
	n.live[v] = n.clock.Now()
	n.order = append(n.order, v)
	if len(n.order) > 2*n.max { // compact the slice now and then
		n.order = slices.Clone(n.order)
	}
	return v
}

// use consumes v; it reports whether v was outstanding and fresh.
func (n *nonces) use(v string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, ok := n.live[v]
	if !ok {
		return false
	}
	delete(n.live, v)
	if i := slices.Index(n.order, v); i >= 0 {
		n.order = slices.Delete(n.order, i, i+1)
	}
	return n.clock.Now().Sub(t) <= n.life
}

// DirectoriesFor returns a directory for each profile that issues DNS
// names, named after the profile (or "<ca>-<profile>" when two CAs have a
// profile of that name), each requiring an EAB (CA-4).
func DirectoriesFor(specs []ca.Spec) []Directory {
	seen := map[string]int{}
	for _, s := range specs {
		for _, p := range s.Profiles {
			if p.AllowDNS {
				seen[p.Name]++
			}
		}
	}
	var out []Directory
	for _, s := range specs {
		for _, p := range s.Profiles {
			if !p.AllowDNS {
				continue
			}
			name := p.Name
			if seen[p.Name] > 1 {
				name = s.ID + "-" + p.Name
			}
			out = append(out, Directory{Name: name, CA: s.ID, Profile: p.Name})
		}
	}
	return out
}

// Directories lists the directories served.
func (s *Service) Directories() []Directory { return slices.Clone(s.opts.Directories) }
