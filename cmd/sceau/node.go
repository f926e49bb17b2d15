package main

import (
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// node is one running installation: the composition of every package.
type node struct {
	cfg     *config.Config
	log     *slog.Logger
	db      *store.DB
	keys    *keys.SoftStore // the service store: OCSP responders, admin TLS, CAs without an activation policy
	ring    *keys.Ring      // routes each key to its store
	journal *audit.Journal

	registry *quorum.Registry // splits of activation secrets (KEY-2)
	tokenPIN func(token string) ([]byte, error)
	cards    map[string]quorum.Card // holders whose new shares go to their smart card (custody.go)
	actor    sceau.Actor            // who creates CAs and splits: a ceremony's security officer, else the system
	sessions *quorum.Sessions       // activations in progress
	rev      *revocation.Service
	auth     *ca.Authority
	metrics  *server.Metrics
	kick     chan string // CA IDs whose CRL must be reissued now
}

// nodeOptions say how a node opens.
type nodeOptions struct {
	bootstrap bool      // create the declared CAs that do not exist
	pins      pinSource // PINs for the shares of new CAs with an activation policy
	// tokenPIN gives the current user PIN of a new CA's token, replaced by
	// the split secret.
	tokenPIN func(token string) ([]byte, error)
	people   *accessBootstrap // the first people of a new installation (access.go)
	// cards maps a holder to the smart card that receives their new shares
	// (KEY-2); other holders get share files.
	cards map[string]quorum.Card
	// actor is who the journal names for what the node creates; zero: the
	// system ("init"). A ceremony gives its security officer.
	actor sceau.Actor
	// activate, if set, runs after the stores are prepared and before the
	// CAs are created: a ceremony activates an existing parent CA there.
	activate func(ctx context.Context, n *node) error
	// created, if set, runs once the CAs are created, their keys still
	// activated: a ceremony backs up the new keys there (KEY-4).
	created func(ctx context.Context, n *node) error
	// credentials, if set, receives the initial passwords and secrets of
	// the first people instead of the screen: a ceremony keeps them out of
	// what the room sees (ceremonyinstall.go).
	credentials io.Writer
}

// openNode opens the store, activates the keystore and loads (or, with
// bootstrap, creates) the CAs of cfg.
func openNode(ctx context.Context, cfg *config.Config, log *slog.Logger, bootstrap bool) (*node, error) {
	return openNodeWith(ctx, cfg, log, nodeOptions{bootstrap: bootstrap})
}

func openNodeWith(ctx context.Context, cfg *config.Config, log *slog.Logger, o nodeOptions) (*node, error) {
	bootstrap := o.bootstrap
	specs, err := specsFrom(cfg)
	if err != nil {
		return nil, err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	n := &node{cfg: cfg, log: log, db: db, journal: audit.NewJournal(nil), metrics: server.NewMetrics(), kick: make(chan string, 64)}
	n.keys = keys.OpenSoftStore(cfg.Path(cfg.Keystore.Dir))
	if err := n.activate(); err != nil {
		db.Close()
		return nil, err
	}
	if err := n.record(ctx, "keystore.activated", map[string]any{"dir": cfg.Path(cfg.Keystore.Dir), "method": "secret_file"}); err != nil {
		n.keys.Deactivate()
		db.Close()
		return nil, err
	}
	n.tokenPIN = o.tokenPIN
	n.cards, n.actor = o.cards, o.actor
	if n.actor.ID == "" {
		n.actor = sceau.System("init")
	}
	n.ring = keys.NewRing(n.keys)
	n.openCAStores()
	n.registry = quorum.NewRegistry(db, n.journal, nil)
	n.sessions = quorum.NewSessions(n.registry)
	if bootstrap {
		if err := n.prepareNewCAStores(ctx, o.pins); err != nil {
			n.ring.Deactivate()
			db.Close()
			return nil, err
		}
	}
	n.rev = revocation.New(db, n.journal, revocation.Options{
		OCSPValidity: cfg.OCSP.Validity.Duration, OCSPRefreshBefore: cfg.OCSP.RefreshBefore.Duration,
		OnRevoke: func(id string) {
			select {
			case n.kick <- id:
			default: // a reissue is pending already
			}
		}})
	n.auth = ca.New(db, n.journal, n.ring, n.rev, ca.Options{
		ActivationHint: n.activationHint,
		Logger:         log, URLs: ca.URLs{Base: cfg.Public.BaseURL}, OCSPSignerValidity: cfg.OCSP.SignerValidity.Duration,
		BatchMax: cfg.Issuance.BatchMax, BatchWait: cfg.Issuance.BatchWait.Duration, OrphanGrace: cfg.Issuance.OrphanGrace.Duration,
		Observe: n.metrics.ObserveIssuance})
	n.auth.Committer().Observe = n.metrics.ObserveBatch
	if bootstrap && o.activate != nil {
		err = o.activate(ctx, n)
	}
	if bootstrap && err == nil {
		err = n.auth.Bootstrap(ctx, n.actor, specs)
	} else if !bootstrap {
		var pending []string
		pending, err = n.auth.LoadCreated(ctx, specs)
		for _, id := range pending {
			log.Warn("CA declared but not created: it serves nothing until its creation is approved and made",
				"ca", id, "request", "sceau ca request-create "+id, "then", "sceau ca create --yes")
		}
	}
	if bootstrap && err == nil && o.created != nil {
		err = o.created(ctx, n)
	}
	if err == nil {
		err = n.rev.CheckShards(ctx) // a changed crl.shards would strand published partitions
	}
	if err == nil {
		err = ensureAuditKey(ctx, n) // AUD-2: the checkpoint signing key (auditwire.go)
	}
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// activate opens the keystore with the secret in keystore.secret_file.
func (n *node) activate() error {
	if n.cfg.Keystore.SecretFile == "" {
		return sceau.Errorf(sceau.Unavailable, "sceau: keystore",
			"keystore.secret_file is not set: this version needs it to activate the CA keys")
	}
	secret, err := os.ReadFile(n.cfg.Path(n.cfg.Keystore.SecretFile))
	if err != nil {
		return sceau.E(sceau.Unavailable, "sceau: keystore", "cannot read keystore.secret_file", err)
	}
	defer clear(secret)
	secret = []byte(strings.TrimSpace(string(secret)))
	if !n.keys.Exists() {
		return n.keys.Init(secret)
	}
	return n.keys.Activate(secret)
}

// Close drops key handles (KEY-5) and closes the store.
func (n *node) Close() {
	if n.auth != nil {
		n.auth.Close()
	}
	if n.ring != nil {
		n.ring.Deactivate()
	} else if n.keys != nil {
		n.keys.Deactivate()
	}
	n.db.Close()
}

// specsFrom turns configuration into the CA package's declarations.
func specsFrom(cfg *config.Config) ([]ca.Spec, error) {
	var out []ca.Spec
	for _, c := range cfg.CAs {
		kt, err := keys.ParseType(c.KeyType)
		if err != nil {
			return nil, err
		}
		s := ca.Spec{ID: c.ID, Parent: c.Parent, KeyType: kt, Validity: c.Validity.Duration, PathLen: *c.PathLen,
			Subject: subjectFrom(c.Subject),
			CRL:     revocation.CRLSchedule{Validity: c.CRL.Validity.Duration, Refresh: c.CRL.Refresh.Duration, Shards: c.CRL.Shards}}
		if s.Policies, err = policiesFrom(c.Policies); err != nil {
			return nil, err
		}
		for _, p := range c.Profiles {
			prof := ca.Profile{Name: p.Name, Validity: p.Validity.Duration, MaxValidity: p.MaxValidity.Duration,
				AllowDNS: p.AllowDNSNames, AllowEmail: p.AllowEmails, AllowIP: p.AllowIPs, RequireSAN: p.RequireSAN, Lints: p.Lints}
			for _, ku := range p.KeyUsage {
				prof.KeyUsage |= ca.KeyUsageNames[ku]
			}
			for _, eku := range p.ExtKeyUsage {
				prof.ExtKeyUsage = append(prof.ExtKeyUsage, ca.ExtKeyUsageNames[eku])
			}
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
			s.Profiles = append(s.Profiles, prof)
		}
		out = append(out, s)
	}
	return out, nil
}

var oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

func subjectFrom(s config.Subject) pkix.Name {
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
		n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: oidOrganizationIdentifier, Value: s.OrganizationIdentifier})
	}
	return n
}

func policiesFrom(ps []config.Policy) ([]ca.Policy, error) {
	var out []ca.Policy
	for _, p := range ps {
		var oid asn1.ObjectIdentifier
		for _, part := range strings.Split(p.OID, ".") {
			v, err := strconv.Atoi(part)
			if err != nil {
				return nil, fmt.Errorf("policy OID %q: %w", p.OID, err)
			}
			oid = append(oid, v)
		}
		out = append(out, ca.Policy{OID: oid, CPSURI: p.CPSURI})
	}
	return out, nil
}

// record writes one journal event of the service itself.
func (n *node) record(ctx context.Context, action string, details map[string]any) error {
	return n.db.InTx(ctx, func(tx *store.Tx) error {
		return n.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("service"), Action: action, Object: "service:sceau", Details: details})
	})
}

// openStore opens the database the configuration names.
func openStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	if cfg.Database.Engine == "postgres" {
		dsn, err := os.ReadFile(cfg.Path(cfg.Database.DSNFile))
		if err != nil {
			return nil, sceau.E(sceau.Unavailable, "database", "cannot read database.dsn_file", err)
		}
		return store.Open(ctx, store.Postgres, strings.TrimSpace(string(dsn)))
	}
	return store.Open(ctx, store.SQLite, cfg.Path(cfg.Database.Path))
}
