package node

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/est"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// Node is one open installation: the composition of every package over
// its database and key stores.
type Node struct {
	Config  *config.Config
	Layout  Layout
	Log     *slog.Logger
	DB      *store.DB
	Keys    *keys.SoftStore // the service store: OCSP responders, admin TLS, CAs without an activation policy
	Ring    *keys.Ring      // routes each key to its store
	Journal *audit.Journal

	Registry   *quorum.Registry // splits of activation secrets (KEY-2)
	Sessions   *quorum.Sessions // activations in progress
	Revocation *revocation.Service
	Authority  *ca.Authority
	// Publication holds the documents of the public repository (PUB-1).
	Publication *publication.Service
	// Archive keeps the records of ten years (ARC-1..ARC-6, archive.go).
	Archive *archive.Service
	// Incidents is the incident register (INC-1, INC-4, incident.go).
	Incidents *incident.Service
	Metrics   *server.Metrics
	// Registration is the registration authority (CA-4): dossiers,
	// evidence, CGU acceptance, validation, revocation requests.
	Registration *registration.Service
	// ACME is the ACME server (RFC 8555) bound to the registration
	// authority by EAB keys (CA-4), served on the enrollment listener.
	ACME *acme.Service
	// EST is the EST server (RFC 7030) bound to the registration
	// authority by credentials (CA-4), served on the enrollment listener.
	EST *est.Service
	// ClockGuard checks the clock against clock.servers; every signing
	// path asks it first (SYS-4, clock.go).
	ClockGuard *clockguard.Guard

	kick chan string // CA IDs whose CRL must be reissued now

	pendingMu sync.Mutex
	pending   []ca.Spec // declared CAs that did not exist at Open (newcas.go)

	archiveLagging map[string]bool // replicas in a lagging episode (archive.go), serve's archive loop alone
	termWaiting    map[string]bool // terminated CAs said to wait for activation (termination.go), its loop alone

	publicOnly bool // opened by OpenPublic: no key, read-only store (public.go)

	stamper stamperCache // the archive's time-stamper (tsa.go, ARC-5)

	selfAudit server.SelfAudit // set by Serve (compliance.go)
}

// Open opens the installation cfg describes: the store (migrated), the
// service keystore (activated from keystore.secret_file), the stores of the
// CAs with an activation policy (not activated: KEY-5), the CAs that exist,
// and the audit signing key (AUD-2). Declared CAs that do not exist yet are
// logged and wait for CreateCAs. A nil log discards.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Node, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	specs, err := Specs(cfg)
	if err != nil {
		return nil, err
	}
	db, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// AUD-2, AUD-5: a database restored from an older copy is refused
	// before anything is written to it (docs/reliability.md says how to
	// recover).
	if err := checkWitnesses(ctx, db, LayoutOf(cfg)); err != nil {
		db.Close()
		return nil, err
	}
	n := &Node{Config: cfg, Layout: LayoutOf(cfg), Log: log, DB: db, Journal: audit.NewJournal(nil), Metrics: server.NewMetrics(),
		kick: make(chan string, 64)}
	n.Keys = keys.OpenSoftStore(n.Layout.KeystoreDir())
	if err := n.activateServiceStore(); err != nil {
		db.Close()
		return nil, err
	}
	if err := n.record(ctx, "keystore.activated", map[string]any{"dir": n.Layout.KeystoreDir(), "method": "secret_file"}); err != nil {
		n.Keys.Deactivate()
		db.Close()
		return nil, err
	}
	// SYS-4: the clock is checked before anything can sign, even here
	// (a responder renewed at load, a ceremony's CA certificates).
	n.ClockGuard = n.newClockGuard()
	n.ClockGuard.Measure(ctx)
	n.Ring = keys.NewRing(n.Keys)
	n.openCAStores()
	n.Registry = quorum.NewRegistry(db, n.Journal, nil)
	n.Sessions = quorum.NewSessions(n.Registry)
	if n.Archive, err = n.newArchive(); err != nil {
		n.Keys.Deactivate()
		db.Close()
		return nil, err
	}
	n.Revocation = revocation.New(db, n.Journal, revocation.Options{OnCRLIssued: n.archiveCRLs,
		OCSPValidity: cfg.OCSP.Validity.Duration, OCSPRefreshBefore: cfg.OCSP.RefreshBefore.Duration, ClockGuard: n.ClockGuard.Err,
		OnRevoke: func(id string) {
			select {
			case n.kick <- id:
			default: // a reissue is pending already
			}
		}})
	n.Authority = ca.New(db, n.Journal, n.Ring, n.Revocation, ca.Options{
		ActivationHint: n.activationHint,
		Logger:         log, URLs: ca.URLs{Base: cfg.Public.BaseURL}, OCSPSignerValidity: cfg.OCSP.SignerValidity.Duration,
		BatchMax: cfg.Issuance.BatchMax, BatchWait: cfg.Issuance.BatchWait.Duration, OrphanGrace: cfg.Issuance.OrphanGrace.Duration,
		Observe: n.Metrics.ObserveIssuance, ClockGuard: n.ClockGuard.Err})
	n.Authority.Committer().Observe = n.Metrics.ObserveBatch
	n.Publication = publication.NewService(db, n.Journal, publication.Options{MaxSize: cfg.Publication.MaxDocumentBytes})
	if n.Incidents, err = n.newIncidents(); err != nil {
		n.Keys.Deactivate()
		db.Close()
		return nil, err
	}
	n.Registration = registration.New(db, n.Journal, n.Authority, n.Revocation, n.Archive, n.Publication,
		registration.Options{SiteURL: cfg.Public.BaseURL, RevocationDeadline: cfg.Registration.RevocationDeadline.Duration,
			MaxScanBytes: cfg.Registration.MaxScanBytes, SecretAttempts: cfg.Registration.SecretAttempts,
			SecretLockout: cfg.Registration.SecretLockout.Duration, LinkValidity: cfg.Registration.LinkValidity.Duration,
			CGU: cfg.Registration.CGU})
	// CA-4: a directory per profile issuing DNS names, each requiring an EAB.
	n.ACME = acme.New(db, n.Journal, n.Authority, n.Revocation, n.Registration, acmeOptions(cfg, log, specs, n.Metrics.ObserveACME))
	// CA-4: EST credentials are made for validated dossiers.
	n.EST = est.New(db, n.Journal, n.Authority, n.Registration, est.Options{Logger: log, Observe: n.Metrics.ObserveEST})
	// CA-2: say 90 days ahead that the CA/B Forum ceiling will cap a
	// public TLS profile, rather than let the day come unannounced.
	for _, w := range ca.TLSCeilingWarnings(specs, time.Now(), 90*24*time.Hour) {
		log.Warn("public TLS profile above the CA/B Forum validity ceiling", "detail", w)
	}
	pending, err := n.Authority.LoadCreated(ctx, specs)
	n.pending = specsOf(specs, pending)
	for _, id := range pending {
		log.Warn("CA declared but not created: it serves nothing until its creation is approved and made",
			"ca", id, "request", "sceau ca request-create "+id, "then", "sceau ca create --yes")
	}
	if err == nil {
		err = n.Revocation.CheckShards(ctx) // a changed crl.shards would strand published partitions
	}
	if err == nil {
		err = n.ensureAuditKey(ctx) // AUD-2: the checkpoint signing key (audit.go)
	}
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// activateServiceStore opens the service keystore with the secret in
// keystore.secret_file, creating the keystore the first time.
func (n *Node) activateServiceStore() error {
	if n.Config.Keystore.SecretFile == "" {
		return sceau.Errorf(sceau.Unavailable, "sceau: keystore",
			"keystore.secret_file is not set: this version needs it to activate the CA keys")
	}
	secret, err := readSecretFile(n.Layout.SecretFile())
	if err != nil {
		return err
	}
	defer clear(secret)
	if !n.Keys.Exists() {
		return n.Keys.Init(secret)
	}
	return n.Keys.Activate(secret)
}

// readSecretFile reads the service keystore's secret, without its newline.
func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "sceau: keystore", "cannot read keystore.secret_file", err)
	}
	trimmed := []byte(strings.TrimSpace(string(b)))
	clear(b)
	return trimmed, nil
}

// Close drops key handles (KEY-5) and closes the store.
func (n *Node) Close() {
	if n.Authority != nil {
		n.Authority.Close()
	}
	if n.Ring != nil {
		n.Ring.Deactivate()
	} else if n.Keys != nil {
		n.Keys.Deactivate()
	}
	n.DB.Close()
}

// record writes one journal event of the service itself.
func (n *Node) record(ctx context.Context, action string, details map[string]any) error {
	return n.DB.InTx(ctx, func(tx *store.Tx) error {
		return n.Journal.Append(ctx, tx, audit.Event{Actor: sceau.System("service"), Action: action, Object: "service:sceau", Details: details})
	})
}

// extKeyUsages splits configuration names into the purposes crypto/x509
// names and the others (documentSigning).
func extKeyUsages(names []string) (known []x509.ExtKeyUsage, other []asn1.ObjectIdentifier) {
	for _, eku := range names {
		if oid, ok := ca.OtherExtKeyUsageNames[eku]; ok {
			other = append(other, oid)
			continue
		}
		known = append(known, ca.ExtKeyUsageNames[eku])
	}
	return known, other
}

// Specs turns the configuration's CAs into the CA package's declarations.
func Specs(cfg *config.Config) ([]ca.Spec, error) {
	var out []ca.Spec
	for _, c := range cfg.CAs {
		kt, err := keys.ParseType(c.KeyType)
		if err != nil {
			return nil, err
		}
		s := ca.Spec{ID: c.ID, Parent: c.Parent, KeyType: kt, Validity: c.Validity.Duration, PathLen: *c.PathLen,
			Subject: Subject(c.Subject),
			CRL:     revocation.CRLSchedule{Validity: c.CRL.Validity.Duration, Refresh: c.CRL.Refresh.Duration, Shards: c.CRL.Shards}}
		if s.Policies, err = policiesFrom(c.Policies); err != nil {
			return nil, err
		}
		s.ExtKeyUsage, s.OtherExtKeyUsage = extKeyUsages(c.ExtKeyUsage)
		for _, p := range c.Profiles {
			prof := ca.Profile{Name: p.Name, Validity: p.Validity.Duration, MaxValidity: p.MaxValidity.Duration,
				AllowDNS: p.AllowDNSNames, AllowEmail: p.AllowEmails, AllowIP: p.AllowIPs, RequireSAN: p.RequireSAN, Lints: p.Lints,
				Subject: ca.SubjectRules{Require: p.Subject.Require, Forbid: p.Subject.Forbid}}
			for _, ku := range p.KeyUsage {
				prof.KeyUsage |= ca.KeyUsageNames[ku]
			}
			prof.ExtKeyUsage, prof.OtherExtKeyUsage = extKeyUsages(p.ExtKeyUsage)
			for _, t := range p.KeyTypes {
				kt, err := keys.ParseType(t)
				if err != nil {
					return nil, err
				}
				prof.KeyTypes = append(prof.KeyTypes, kt)
			}
			if prof.Policies, err = policiesFrom(p.Policies); err != nil {
				return nil, err
			}
			if prof.ETSI, err = etsiProfile(p.ETSI); err != nil {
				return nil, fmt.Errorf("CA %s, profile %s: %w", c.ID, p.Name, err)
			}
			s.Profiles = append(s.Profiles, prof)
		}
		out = append(out, s)
	}
	// CA-1, CA-2: a profile that could never pass its own gate is refused
	// now, not at its first request.
	if err := ca.CheckSpecs(out, time.Now()); err != nil {
		return nil, err
	}
	return out, nil
}

// Subject is the distinguished name a CA's subject section declares.
func Subject(s config.Subject) pkix.Name {
	n := pkix.Name{CommonName: s.CommonName}
	if s.Country != "" {
		n.Country = []string{s.Country}
	}
	if s.Organization != "" {
		n.Organization = []string{s.Organization}
	}
	if s.OrganizationalUnit != "" {
		n.OrganizationalUnit = []string{s.OrganizationalUnit}
	}
	if s.OrganizationIdentifier != "" {
		n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: etsi.OIDOrganizationIdentifier, Value: s.OrganizationIdentifier})
	}
	return n
}

func policiesFrom(ps []config.Policy) ([]ca.Policy, error) {
	var out []ca.Policy
	for _, p := range ps {
		oid, err := parseOID(p.OID)
		if err != nil {
			return nil, fmt.Errorf("policy OID %q: %w", p.OID, err)
		}
		out = append(out, ca.Policy{OID: oid, CPSURI: p.CPSURI})
	}
	return out, nil
}

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	for _, part := range strings.Split(s, ".") {
		v, err := strconv.Atoi(part)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%q is not an object identifier", s)
		}
		oid = append(oid, v)
	}
	if len(oid) < 2 {
		return nil, fmt.Errorf("%q is not an object identifier", s)
	}
	return oid, nil
}

// OpenStore opens the database the configuration names (not migrated).
func OpenStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	if cfg.Database.Engine == "postgres" {
		dsn, err := readDSN(cfg)
		if err != nil {
			return nil, err
		}
		return store.Open(ctx, store.Postgres, dsn)
	}
	return store.Open(ctx, store.SQLite, cfg.Path(cfg.Database.Path))
}

// readDSN reads the PostgreSQL connection string of database.dsn_file.
func readDSN(cfg *config.Config) (string, error) {
	dsn, err := os.ReadFile(cfg.Path(cfg.Database.DSNFile))
	if err != nil {
		return "", sceau.E(sceau.Unavailable, "database", "cannot read database.dsn_file", err)
	}
	return strings.TrimSpace(string(dsn)), nil
}

// OpenExistingStore opens the database of an installation that exists,
// without creating one.
func OpenExistingStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	if cfg.Database.Engine != "postgres" {
		if _, err := os.Stat(cfg.Path(cfg.Database.Path)); err != nil {
			return nil, sceau.E(sceau.NotFound, "node", "the installation has no database", err)
		}
	}
	return OpenStore(ctx, cfg)
}

// OpenMigratedStore opens and migrates the database the configuration names.
func OpenMigratedStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	db, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// checkWitnesses compares the database with what the journal's export
// directory holds of it.
func checkWitnesses(ctx context.Context, db *store.DB, l Layout) error {
	dir := l.ExportDir()
	if dir == "" {
		return nil
	}
	if err := audit.CheckExportPresent(ctx, db, dir); err != nil {
		return fmt.Errorf("sceau refuses to start (see docs/reliability.md, \"A lost export\"): %w", err)
	}
	w, err := audit.ExportWitness(dir)
	if err != nil {
		return err
	}
	if err := audit.CheckWitness(ctx, db, w); err != nil {
		return fmt.Errorf("sceau refuses to start (see docs/reliability.md, \"Recovering from a rollback\"): %w", err)
	}
	return nil
}
