package main

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// ceremonyInstallation is the installation a ceremony applies to: it
// creates the CAs through openNodeWith (or initialize, for a new
// installation), describes them, and gives the vault that signs and
// archives the transcript.
type ceremonyInstallation struct {
	cfg     *config.Config
	cfgText []byte
	newDir  string
	out     io.Writer
	opts    nodeOptions // token PINs

	n           *node // the node, once the CAs are created
	initialized bool  // the new installation was created
	// Before creation, an existing installation's database and service
	// keystore, opened for the transcript key and the journal.
	db *store.DB
	ks *keys.SoftStore
}

var _ ceremony.Installation = (*ceremonyInstallation)(nil)

func (i *ceremonyInstallation) quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Create runs the generation: openNodeWith with bootstrap on an existing
// installation, initialize on a new one.
func (i *ceremonyInstallation) Create(ctx context.Context, pins ceremony.PINSource) error {
	i.closeLight()
	o := i.opts
	o.pins = pinSource(pins)
	if i.newDir != "" {
		cfgPath, err := initialize(ctx, i.newDir, i.cfgText, i.out, o)
		if err != nil {
			return err
		}
		i.initialized = true
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return err
		}
		i.cfg = cfg
		n, err := openNodeWith(ctx, cfg, i.quiet(), nodeOptions{})
		if err != nil {
			return err
		}
		i.n = n
		return nil
	}
	o.bootstrap = true
	n, err := openNodeWith(ctx, i.cfg, i.quiet(), o)
	if err != nil {
		return err
	}
	i.n = n
	return nil
}

// installed reports whether the installation exists now.
func (i *ceremonyInstallation) installed() bool {
	return i.n != nil || i.newDir == "" || i.initialized
}

// database returns the node's database, or the one opened before creation.
func (i *ceremonyInstallation) database(ctx context.Context) (*store.DB, error) {
	if i.n != nil {
		return i.n.db, nil
	}
	if !i.installed() {
		return nil, sceau.Errorf(sceau.NotFound, "ceremony", "no installation exists yet in %s", i.newDir)
	}
	if i.db == nil {
		db, err := openExistingStore(ctx, i.cfg)
		if err != nil {
			return nil, err
		}
		i.db = db
	}
	return i.db, nil
}

// Describe reads a CA from the database: its certificates and its split.
func (i *ceremonyInstallation) Describe(ctx context.Context, id string) (*ceremony.CAFacts, error) {
	const op = "ceremony: describe CA"
	var c *config.CA
	for k := range i.cfg.CAs {
		if i.cfg.CAs[k].ID == id {
			c = &i.cfg.CAs[k]
		}
	}
	if c == nil || !i.installed() {
		return nil, nil
	}
	db, err := i.database(ctx)
	if err != nil {
		return nil, err
	}
	var certDER, ocspDER []byte
	err = db.QueryRowContext(ctx, `SELECT cert_der, ocsp_cert_der FROM cas WHERE id = ?`, id).Scan(&certDER, &ocspDER)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, store.Classify(op, err)
	}
	f := &ceremony.CAFacts{ID: id, Parent: c.Parent, KeyType: c.KeyType, KeyStore: i.keyStore(*c)}
	if f.Cert, err = x509.ParseCertificate(certDER); err != nil {
		return nil, sceau.E(sceau.Internal, op, "the stored certificate cannot be parsed", err)
	}
	if len(ocspDER) > 0 {
		if f.OCSPCert, err = x509.ParseCertificate(ocspDER); err != nil {
			return nil, sceau.E(sceau.Internal, op, "the stored responder certificate cannot be parsed", err)
		}
	}
	if c.Activation != nil {
		sp, err := quorum.NewRegistry(db, audit.NewJournal(nil), nil).Lookup(ctx, keyID(id))
		if err != nil {
			return nil, err
		}
		f.Split = &ceremony.SplitFacts{Threshold: sp.Threshold, Total: sp.Total, SetID: sp.SetID[:]}
		for _, h := range sp.Holders {
			f.Split.Shares = append(f.Split.Shares, ceremony.ShareFacts{Holder: h.Holder, X: h.X, File: filepath.Join(sharesDir(i.cfg, id), h.Holder+".share")})
		}
	}
	return f, nil
}

// FirstCRLs returns the CA's latest CRLs, issuing the first ones if none.
func (i *ceremonyInstallation) FirstCRLs(ctx context.Context, id string) ([]ceremony.CRLFacts, error) {
	if i.n == nil {
		return nil, sceau.Errorf(sceau.Unavailable, "ceremony: CRL", "CA %q is not loaded", id)
	}
	latest := func() ([]ceremony.CRLFacts, error) {
		iss, err := i.n.rev.Issuer(id)
		if err != nil {
			return nil, err
		}
		var out []ceremony.CRLFacts
		for shard := revocation.FullCRL; shard <= iss.CRL.Shards; shard++ {
			c, err := i.n.rev.Latest(ctx, id, shard)
			if err != nil {
				return nil, err
			}
			out = append(out, ceremony.CRLFacts{Shard: c.Shard, Number: c.Number, ThisUpdate: c.ThisUpdate, NextUpdate: c.NextUpdate, DER: c.DER})
		}
		return out, nil
	}
	out, err := latest()
	if sceau.KindOf(err) == sceau.NotFound {
		if _, err := i.n.rev.IssueCRL(ctx, sceau.System("ceremony"), id); err != nil {
			return nil, err
		}
		return latest()
	}
	return out, err
}

// Settle says what remains after a ceremony stopped. The share files of a
// split that was never registered protect nothing (the secret they share
// was wiped and opens no keystore): they are removed, so that a new
// ceremony can write them again.
func (i *ceremonyInstallation) Settle(ctx context.Context, cas []string) ([]string, error) {
	if !i.installed() {
		if err := emptyDir(i.newDir); err != nil {
			return []string{fmt.Sprintf("the new installation %s was not created, but: %v", i.newDir, err)}, nil
		}
		return []string{fmt.Sprintf("nothing was created: the new installation %s does not exist (no key, certificate or share)", i.newDir)}, nil
	}
	db, err := i.database(ctx)
	if err != nil {
		return nil, err
	}
	reg := quorum.NewRegistry(db, audit.NewJournal(nil), nil)
	var out []string
	created := 0
	for _, id := range cas {
		var k int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cas WHERE id = ?`, id).Scan(&k); err != nil {
			return out, store.Classify("ceremony: settle", err)
		}
		var c config.CA
		for _, x := range i.cfg.CAs {
			if x.ID == id {
				c = x
			}
		}
		if k > 0 {
			created++
			out = append(out, fmt.Sprintf("CA %s EXISTS: its key (%s), certificate, OCSP responder and share files were created; it is in the database and the configuration", id, i.keyStore(c)))
			continue
		}
		_, lerr := reg.Lookup(ctx, keyID(id))
		registered := lerr == nil
		storeDir := caStoreDir(i.cfg, id)
		hasStore := fileExists(filepath.Join(storeDir, "keystore.json"))
		shares, _ := filepath.Glob(filepath.Join(sharesDir(i.cfg, id), "*.share"))
		switch {
		case c.Activation == nil:
			out = append(out, fmt.Sprintf("CA %s was not created", id))
		case !registered && !hasStore:
			for _, f := range shares {
				os.Remove(f)
			}
			os.Remove(sharesDir(i.cfg, id))
			if len(shares) > 0 {
				out = append(out, fmt.Sprintf("CA %s was not created; the %d share files of its unfinished split were removed (the secret they shared was never used)", id, len(shares)))
			} else {
				out = append(out, fmt.Sprintf("CA %s was not created; no share of it was made", id))
			}
		default:
			out = append(out, fmt.Sprintf("CA %s was NOT created, but its activation secret was split (registered: %t, keystore %s: %t, share files: %d): "+
				"these leftovers must be cleared before a new ceremony can create it (see docs/ceremony.md)", id, registered, storeDir, hasStore, len(shares)))
		}
	}
	if created == 0 {
		out = append(out, "no CA was created: no CA key or certificate exists")
	}
	return out, nil
}

// Vault returns the installation's vault: over the node once the CAs are
// created, else over the database and service keystore of the existing
// installation.
func (i *ceremonyInstallation) Vault(ctx context.Context) (*ceremony.Vault, error) {
	if i.n != nil {
		return ceremony.NewVault(i.n.db, i.n.journal, i.n.keys, nil), nil
	}
	db, err := i.database(ctx)
	if err != nil {
		return nil, err
	}
	journal := audit.NewJournal(nil)
	if i.ks == nil {
		ks := keys.OpenSoftStore(i.cfg.Path(i.cfg.Keystore.Dir))
		secret, err := os.ReadFile(i.cfg.Path(i.cfg.Keystore.SecretFile))
		if err != nil {
			return nil, sceau.E(sceau.Unavailable, "ceremony: keystore", "cannot read keystore.secret_file", err)
		}
		err = ks.Activate([]byte(strings.TrimSpace(string(secret))))
		clear(secret)
		if err != nil {
			return nil, err
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return journal.Append(ctx, tx, audit.Event{Actor: sceau.System("ceremony"), Action: "keystore.activated", Object: "service:sceau",
				Details: map[string]any{"dir": i.cfg.Path(i.cfg.Keystore.Dir), "method": "secret_file"}})
		}); err != nil {
			ks.Deactivate()
			return nil, err
		}
		i.ks = ks
	}
	return ceremony.NewVault(db, journal, i.ks, nil), nil
}

func (i *ceremonyInstallation) closeLight() {
	if i.ks != nil {
		i.ks.Deactivate()
		i.ks = nil
	}
	if i.db != nil {
		i.db.Close()
		i.db = nil
	}
}

// Close deactivates every key (KEY-5) and closes the database.
func (i *ceremonyInstallation) Close() {
	i.closeLight()
	if i.n != nil {
		i.n.Close()
		i.n = nil
	}
}

// keyStore says where a CA's key is generated.
func (i *ceremonyInstallation) keyStore(c config.CA) string {
	switch {
	case c.Token != "":
		return fmt.Sprintf("PKCS#11 token %q, generated inside it, not extractable", c.Token)
	case c.Activation != nil:
		return "software keystore " + caStoreDir(i.cfg, c.ID) + " (AES-256-GCM; its secret split m of n)"
	}
	return "service keystore " + i.cfg.Path(i.cfg.Keystore.Dir) + " (activated from keystore.secret_file)"
}

// leftovers finds what an earlier, failed attempt left of the CAs to
// create: a ceremony does not build on them.
func (i *ceremonyInstallation) leftovers(ctx context.Context, missing []string) []string {
	var out []string
	var reg *quorum.Registry
	if db, err := i.database(ctx); err == nil {
		reg = quorum.NewRegistry(db, audit.NewJournal(nil), nil)
	}
	for _, id := range missing {
		if fileExists(filepath.Join(caStoreDir(i.cfg, id), "keystore.json")) {
			out = append(out, fmt.Sprintf("CA %s does not exist, but its keystore %s does (left by an earlier attempt?)", id, caStoreDir(i.cfg, id)))
		}
		if err := emptyDir(sharesDir(i.cfg, id)); err != nil {
			out = append(out, fmt.Sprintf("CA %s does not exist, but share files do: %v", id, err))
		}
		if reg != nil {
			if _, err := reg.Lookup(ctx, keyID(id)); err == nil {
				out = append(out, fmt.Sprintf("CA %s does not exist, but a split of its activation secret is registered already", id))
			}
		}
	}
	return out
}

// emptyDir refuses a directory that exists and holds something.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	return nil
}
