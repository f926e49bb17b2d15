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
	opts    nodeOptions // token PINs, cards, the security officer
	// activate are the existing CAs to activate before creation, each with
	// the holders who may present, in the script's order; shares is where
	// their share files are (DIR/<ca>/<holder>.share or DIR/<holder>.share).
	activate []parentActivation
	shares   string
	// backups are the backups of new CA keys the ceremony makes (KEY-4),
	// as handed to Create; Describe and Settle find them by their approval.
	backups []ceremony.BackupOrder

	n           *node // the node, once the CAs are created
	initialized bool  // the new installation was created
	// Before creation, an existing installation's database and service
	// keystore, opened for the transcript key and the journal.
	db *store.DB
	ks *keys.SoftStore
}

var _ ceremony.Installation = (*ceremonyInstallation)(nil)

// actor is the security officer conducting the ceremony (KEY-8).
func (i *ceremonyInstallation) actor() sceau.Actor {
	if i.opts.actor.ID == "" {
		return sceau.System("ceremony")
	}
	return i.opts.actor
}

func (i *ceremonyInstallation) quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newFile is a file created, exclusively and readable by its owner only, on
// the first write.
type newFile struct {
	path string
	f    *os.File
}

func (w *newFile) Write(b []byte) (int, error) {
	if w.f == nil {
		f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return 0, err
		}
		w.f = f
	}
	return w.f.Write(b)
}

// Close syncs and closes the file, if it was created.
func (w *newFile) Close() error {
	if w.f == nil {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// parentActivation is an existing CA a ceremony activates so that it signs
// the CAs created under it (KEY-2).
type parentActivation struct {
	ca      string
	holders []string
}

// Create runs the generation: openNodeWith with bootstrap on an existing
// installation, initialize on a new one. On an existing installation the
// parents to activate are activated first, inside the node that signs.
func (i *ceremonyInstallation) Create(ctx context.Context, g ceremony.Generation) ([]string, error) {
	i.closeLight()
	o := i.opts
	o.pins = pinSource(g.PINs)
	present := g.Present
	i.backups = g.Backups
	if len(g.Backups) > 0 {
		// KEY-4: the new keys are backed up inside the node that created
		// them, while they are still activated; on a new installation a
		// failed backup undoes the installation like any failed step.
		o.created = func(ctx context.Context, n *node) error { return i.backUp(ctx, n, g.BackupPINs) }
	}
	if i.newDir != "" {
		// The first people's initial credentials go to a file of their
		// own, never to the room's screen nor the transcript.
		creds := &newFile{path: filepath.Join(i.newDir, "initial-credentials.txt")}
		o.credentials = creds
		cfgPath, err := initialize(ctx, i.newDir, i.cfgText, i.out, o)
		if cerr := creds.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		if creds.f != nil {
			fmt.Fprintf(i.out, "   The initial credentials of the first people were written to %s (mode 0600), not shown:\n   hand each person their own after the ceremony, then delete the file.\n", creds.path)
		}
		i.initialized = true
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return nil, err
		}
		i.cfg = cfg
		n, err := openNodeWith(ctx, cfg, i.quiet(), nodeOptions{})
		if err != nil {
			return nil, err
		}
		i.n = n
		return nil, nil
	}
	var presented []string
	if len(i.activate) > 0 {
		o.activate = func(ctx context.Context, n *node) error {
			var err error
			presented, err = i.activateParents(ctx, n, present)
			return err
		}
	}
	o.bootstrap = true
	n, err := openNodeWith(ctx, i.cfg, i.quiet(), o)
	if err != nil {
		return presented, err
	}
	i.n = n
	return presented, nil
}

// backUp makes the backups the ceremony approved (KEY-4), with the same
// core as 'sceau ca backup': the approval is the participants' confirmation
// in the room (ROLE-3), the security officer who conducts makes it. Each
// holder's PIN is wiped once their share is sealed.
func (i *ceremonyInstallation) backUp(ctx context.Context, n *node, source ceremony.PINSource) error {
	b := quorum.NewBackups(n.db, n.journal, n.registry, nil, keyBackupOptions(n))
	for _, o := range i.backups {
		if source == nil {
			return sceau.Errorf(sceau.Internal, "ceremony: backup", "no PINs for the holders of the backup of CA %q", o.CA)
		}
		pins := map[string][]byte{}
		wipe := func() {
			for _, p := range pins {
				clear(p)
			}
		}
		for _, h := range o.Holders {
			pin, err := source(o.CA, h)
			if err != nil {
				wipe()
				return err
			}
			pins[h] = pin
		}
		_, err := b.BackupAtCeremony(ctx, i.actor(), o.CA, quorum.CeremonyApproval{ID: o.Approval, Approvers: o.Approvers},
			quorum.BackupPlan{Holders: o.Holders, Threshold: o.Threshold}, pins)
		wipe()
		if err != nil {
			return err
		}
	}
	return nil
}

// backupService reads and discards the ceremony's backups in db.
func (i *ceremonyInstallation) backupService(db *store.DB) *quorum.Backups {
	j := audit.NewJournal(nil)
	return quorum.NewBackups(db, j, quorum.NewRegistry(db, j, nil), nil,
		quorum.BackupOptions{Dir: i.cfg.Path("backups"), SharesDir: i.cfg.Path("shares")})
}

// ceremonyBackup returns the registered backup this ceremony made of CA
// id's key, nil if none.
func (i *ceremonyInstallation) ceremonyBackup(ctx context.Context, db *store.DB, id string) (*quorum.BackupRecord, error) {
	for _, o := range i.backups {
		if o.CA != id {
			continue
		}
		list, err := i.backupService(db).List(ctx, id)
		if err != nil {
			return nil, err
		}
		for k := range list {
			if list[k].Approval == o.Approval {
				return &list[k], nil
			}
		}
	}
	return nil, nil
}

// activateParents has the holders of each parent present their shares,
// one after another, until the parent's key is activated (KEY-2). Every
// presentation and refusal is journalled as with 'sceau ca activate'; the
// key is deactivated when the node closes at the end of the ceremony
// (KEY-5).
func (i *ceremonyInstallation) activateParents(ctx context.Context, n *node, present ceremony.PresentSource) ([]string, error) {
	const op = "ceremony: activate"
	cust := n.custodian()
	var done []string
	for _, pa := range i.activate {
		kid := keyID(pa.ca)
		prog, err := cust.Begin(ctx, i.actor(), kid)
		if err != nil {
			return done, err
		}
		sp, err := n.registry.Lookup(ctx, kid)
		if err != nil {
			return done, err
		}
		carrier := map[string]string{}
		for _, h := range sp.Holders {
			carrier[h.Holder] = h.Carrier
		}
		for _, h := range pa.holders {
			if prog.Activated {
				break
			}
			pin, err := present(pa.ca, h)
			if err != nil {
				return done, err
			}
			if carrier[h] == quorum.CarrierCard {
				card, ok := i.opts.cards[h]
				if !ok {
					clear(pin)
					return done, sceau.Errorf(sceau.Invalid, op, "the share of %s of CA %q is on a smart card: give their card in the script (participants: card)", h, pa.ca)
				}
				cs, err := quorum.ReadCard(card, kid, h, pin)
				clear(pin)
				if err != nil {
					if reason := cardRefusal(err); reason != "" {
						_ = cust.CardRefused(ctx, kid, prog.ID, h, reason)
					}
					return done, err
				}
				b, err := cs.Marshal()
				cs.Wipe()
				if err != nil {
					return done, err
				}
				prog, err = cust.PresentCard(ctx, kid, prog.ID, h, b)
				clear(b)
				if err != nil {
					return done, err
				}
			} else {
				file, err := i.shareFile(pa.ca, h)
				if err != nil {
					clear(pin)
					return done, err
				}
				prog, err = cust.Present(ctx, kid, prog.ID, h, file, pin)
				clear(pin)
				if err != nil {
					return done, err
				}
			}
			done = append(done, fmt.Sprintf("%s presented their share of CA %s", h, pa.ca))
		}
		if !prog.Activated {
			return done, sceau.Errorf(sceau.Denied, op, "CA %q is not activated: %d more shares were needed", pa.ca, prog.Need)
		}
		done = append(done, fmt.Sprintf("CA %s activated by %d of its %d key share holders", pa.ca, prog.Threshold, prog.Total))
	}
	return done, nil
}

// shareFile reads the share file holder brought for CA caID.
func (i *ceremonyInstallation) shareFile(caID, holder string) ([]byte, error) {
	dir := i.shares
	if dir == "" {
		dir = i.cfg.Path("shares")
	}
	for _, p := range []string{filepath.Join(dir, caID, holder+".share"), filepath.Join(dir, holder+".share")} {
		if b, err := os.ReadFile(p); err == nil {
			return b, nil
		}
	}
	return nil, sceau.Errorf(sceau.NotFound, "ceremony: activate", "no share file of %s for CA %q in %s (%s/%s/%s.share)", holder, caID, dir, dir, caID, holder)
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
			if h.Carrier == quorum.CarrierCard {
				card := "smart card"
				if c, ok := i.opts.cards[h.Holder]; ok {
					card = c.String()
				}
				f.Split.Shares = append(f.Split.Shares, ceremony.ShareFacts{Holder: h.Holder, X: h.X, Card: card})
				continue
			}
			f.Split.Shares = append(f.Split.Shares, ceremony.ShareFacts{Holder: h.Holder, X: h.X, File: filepath.Join(sharesDir(i.cfg, id), h.Holder+".share")})
		}
	}
	rec, err := i.ceremonyBackup(ctx, db, id)
	if err != nil {
		return nil, err
	}
	if rec != nil {
		sp, err := quorum.NewRegistry(db, audit.NewJournal(nil), nil).Lookup(ctx, rec.ID)
		if err != nil {
			return nil, err
		}
		bf := &ceremony.BackupFacts{ID: rec.ID, Mechanism: rec.Mechanism, File: rec.Location, SHA256: rec.SHA256, Threshold: sp.Threshold,
			Approval: rec.Approval, Approvers: rec.Approvers}
		for _, h := range sp.Holders {
			bf.Shares = append(bf.Shares, ceremony.ShareFacts{Holder: h.Holder, X: h.X, File: filepath.Join(i.cfg.Path("shares"), rec.ID, h.Holder+".share")})
		}
		f.Backup = bf
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
		if _, err := i.n.rev.IssueCRL(ctx, i.actor(), id); err != nil {
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
	// KEY-4, KEY-8: a backup made at a ceremony that did not complete does
	// not outlive it: its registration and the split of its wrapping key
	// are discarded with their audit events, its files removed.
	for _, o := range i.backups {
		rec, err := i.ceremonyBackup(ctx, db, o.CA)
		if err != nil {
			out = append(out, fmt.Sprintf("the backup of CA %s could not be looked up: %v", o.CA, err))
			continue
		}
		if rec == nil {
			continue
		}
		removed, err := i.backupService(db).DiscardCeremonyBackup(ctx, i.actor(), rec.ID, "the ceremony stopped before it completed")
		if err != nil {
			out = append(out, fmt.Sprintf("backup %s of CA %s was made and could NOT be undone: %v", rec.ID, o.CA, err))
			continue
		}
		out = append(out, fmt.Sprintf("backup %s of CA %s was undone: its registration and the split of its wrapping key were discarded (key.backup_discarded), %d files removed",
			rec.ID, o.CA, len(removed)))
	}
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
		sp, lerr := reg.Lookup(ctx, keyID(id))
		registered := lerr == nil
		storeDir := caStoreDir(i.cfg, id)
		hasStore := fileExists(filepath.Join(storeDir, "keystore.json"))
		shares, _ := filepath.Glob(filepath.Join(sharesDir(i.cfg, id), "*.share"))
		if c.Activation == nil {
			out = append(out, fmt.Sprintf("CA %s was not created", id))
			continue
		}
		if !registered && !hasStore && len(shares) == 0 {
			os.Remove(sharesDir(i.cfg, id))
			out = append(out, fmt.Sprintf("CA %s was not created; no share of it was made", id))
			continue
		}
		// KEY-2, KEY-8: the CA was not created, so the split protects a key
		// that was never certified: nothing of it may stay half-made. The
		// split is discarded with its audit event, the share files and the
		// CA's own keystore (with any key generated in it) are removed.
		var cards []string
		if registered {
			for _, h := range sp.Holders {
				if h.Carrier == quorum.CarrierCard {
					cards = append(cards, h.Holder)
				}
			}
			if err := reg.Discard(ctx, i.actor(), keyID(id), fmt.Sprintf("the ceremony stopped before CA %s was created", id)); err != nil {
				out = append(out, fmt.Sprintf("CA %s was NOT created, and its registered split could not be discarded: %v", id, err))
				continue
			}
		}
		for _, f := range shares {
			os.Remove(f)
		}
		os.Remove(sharesDir(i.cfg, id))
		if c.Token == "" && hasStore {
			os.RemoveAll(storeDir)
		}
		what := fmt.Sprintf("CA %s was not created; its unfinished split was undone: ", id)
		var parts []string
		if registered {
			parts = append(parts, "the registered split was discarded (key.split_discarded)")
		}
		if len(shares) > 0 {
			parts = append(parts, fmt.Sprintf("%d share files were removed", len(shares)))
		}
		if c.Token == "" && hasStore {
			parts = append(parts, "its keystore "+storeDir+" was removed")
		}
		if c.Token != "" && registered {
			parts = append(parts, fmt.Sprintf("the user PIN of token %q was the discarded secret: re-initialise the token with its SO PIN before a new ceremony", c.Token))
		}
		if len(cards) > 0 {
			parts = append(parts, fmt.Sprintf("the shares written to the cards of %s open nothing any more and may be erased", strings.Join(cards, ", ")))
		}
		out = append(out, what+strings.Join(parts, "; "))
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
			return journal.Append(ctx, tx, audit.Event{Actor: i.actor(), Action: "keystore.activated", Object: "service:sceau",
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
	case c.Token != "" && i.cfg.Keystore.PKCS11 != nil && i.cfg.Keystore.PKCS11.AllowBackup:
		return fmt.Sprintf("PKCS#11 token %q, generated inside it, sensitive, extractable only wrapped (allow_backup)", c.Token)
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
