package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Ceremony is a loaded key ceremony script with the installation it applies
// to (KEY-8). It is the ceremony.Installation the runner drives: it creates
// the CAs through CreateCAs (or Init, for a new installation), describes
// them, and gives the vault that signs and archives the transcript.
type Ceremony struct {
	Script      *ceremony.Script
	ScriptPath  string
	ScriptText  []byte
	Declaration *ceremony.Declaration
	Config      *config.Config

	// Set by the command before the ceremony runs:
	// Shares is where the holders of the CAs to activate put their share
	// files (DIR/<ca>/<holder>.share or DIR/<holder>.share); "" is the
	// installation's shares directory.
	Shares string
	// TokenPIN gives the current user PIN of a new CA's token.
	TokenPIN TokenPINSource
	// Out receives the lines the room must read (where the initial
	// credentials went).
	Out io.Writer

	cfgText []byte
	newDir  string
	backups []ceremony.BackupOrder // as handed to Create; Describe and Settle find them by their approval

	n           *Node // the node, once the CAs are created
	initialized bool  // the new installation was created
	// Before creation, an existing installation's database and service
	// keystore, opened for the transcript key and the journal.
	db *store.DB
	ks *keys.SoftStore
}

var _ ceremony.Installation = (*Ceremony)(nil)

// Cards maps each key share holder who brought a smart card to it; a card
// without a module uses the configuration's keystore.pkcs11.module (KEY-2).
func (c *Ceremony) Cards() map[string]quorum.Card {
	out := map[string]quorum.Card{}
	for _, pt := range c.Script.Participants {
		if pt.Card == nil {
			continue
		}
		card := *pt.Card
		if card.Module == "" {
			card.Module = PKCS11Module(c.Config)
		}
		out[pt.Name] = card
	}
	return out
}

// Officer is the security officer who conducts the ceremony: the journal
// names them for everything it creates (KEY-8).
func (c *Ceremony) Officer() sceau.Actor {
	for _, pt := range c.Script.Participants {
		if pt.Role == ceremony.SecurityOfficer {
			return sceau.Actor{ID: pt.Name, Role: string(ceremony.SecurityOfficer)}
		}
	}
	return sceau.System("ceremony")
}

// parents are the CAs the script activates, each with its holders who take
// part, in the script's order.
func (c *Ceremony) parents() []ParentActivation {
	var out []ParentActivation
	for _, id := range c.Script.Activate {
		for _, dc := range c.Declaration.CAs {
			if dc.ID != id || dc.Activation == nil {
				continue
			}
			pa := ParentActivation{CA: id}
			for _, pt := range c.Script.Participants {
				if pt.Role == ceremony.KeyShareHolder && contains(dc.Activation.Holders, pt.Name) {
					pa.Holders = append(pa.Holders, pt.Name)
				}
			}
			out = append(out, pa)
		}
	}
	return out
}

// Holders counts the PINs the ceremony asks for: the holders of the new
// CAs, of the CAs to activate, and of the backups.
func (c *Ceremony) Holders() int {
	k := len(c.Script.Activate) + len(c.Script.Backups)
	for _, dc := range c.Declaration.CAs {
		if !dc.Exists && dc.Activation != nil {
			k += len(dc.Activation.Holders)
		}
	}
	return k
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Create runs the generation: CreateCAs on an existing installation, Init
// on a new one. On an existing installation the parents to activate are
// activated first, inside the node that signs.
func (c *Ceremony) Create(ctx context.Context, g ceremony.Generation) ([]string, error) {
	c.closeLight()
	c.backups = g.Backups
	o := CreateOptions{PINs: PINSource(g.PINs), TokenPIN: c.TokenPIN, Cards: c.Cards(), Actor: c.Officer(),
		Backups: g.Backups, BackupPINs: PINSource(g.BackupPINs)}
	if c.newDir != "" {
		inst, err := Init(ctx, c.newDir, c.cfgText, InitOptions{CreateOptions: o})
		if err != nil {
			return nil, err
		}
		c.initialized = true
		// The first people's initial credentials go to a file of their
		// own, never to the room's screen nor the transcript.
		if len(inst.People) > 0 {
			path := InitialCredentials(c.newDir)
			if err := writeCredentials(path, inst.People); err != nil {
				return nil, err
			}
			fmt.Fprintf(c.Out, "   The initial credentials of the first people were written to %s (mode 0600), not shown:\n   hand each person their own after the ceremony, then delete the file.\n", path)
		}
		cfg, err := config.Load(inst.ConfigPath)
		if err != nil {
			return nil, err
		}
		c.Config = cfg
		if c.n, err = Open(ctx, cfg, nil); err != nil {
			return nil, err
		}
		return nil, nil
	}
	n, err := Open(ctx, c.Config, nil)
	if err != nil {
		return nil, err
	}
	c.n = n
	o.Parents = c.parents()
	o.Present = c.presentShare(g.Present)
	created, err := n.CreateCAs(ctx, o)
	if created == nil {
		return nil, err
	}
	return created.Presented, err
}

// writeCredentials writes the first people's credentials to a new file
// readable by its owner only.
func writeCredentials(path string, people []Person) error {
	var b bytes.Buffer
	for _, p := range people {
		WriteCredentials(&b, p)
	}
	err := safefile.WriteNew(path, b.Bytes(), 0o600)
	clear(b.Bytes())
	return err
}

// presentShare finds what a holder brings to activate a parent: their card
// if their share is on one, else their share file (KEY-2).
func (c *Ceremony) presentShare(pins ceremony.PresentSource) ShareSource {
	return func(ctx context.Context, caID, holder string) (quorum.HolderShare, []byte, error) {
		const op = "ceremony: activate"
		s := quorum.HolderShare{Holder: holder}
		sp, err := c.n.Registry.Lookup(ctx, sceau.CAKeyLabel(caID))
		if err != nil {
			return s, nil, err
		}
		onCard := false
		for _, h := range sp.Holders {
			onCard = onCard || (h.Holder == holder && h.Carrier == quorum.CarrierCard)
		}
		if onCard {
			card, ok := c.Cards()[holder]
			if !ok {
				return s, nil, sceau.Errorf(sceau.Invalid, op, "the share of %s of CA %q is on a smart card: give their card in the script (participants: card)", holder, caID)
			}
			s.Card = &card
		} else if s.File, err = c.shareFile(caID, holder); err != nil {
			return s, nil, err
		}
		pin, err := pins(caID, holder)
		return s, pin, err
	}
}

// shareFile reads the share file holder brought for CA caID.
func (c *Ceremony) shareFile(caID, holder string) ([]byte, error) {
	dir := c.Shares
	if dir == "" {
		dir = LayoutOf(c.Config).SharesRoot()
	}
	for _, p := range []string{filepath.Join(dir, caID, holder+".share"), filepath.Join(dir, holder+".share")} {
		if b, err := os.ReadFile(p); err == nil {
			return b, nil
		}
	}
	return nil, sceau.Errorf(sceau.NotFound, "ceremony: activate", "no share file of %s for CA %q in %s (%s/%s/%s.share)", holder, caID, dir, dir, caID, holder)
}

// installed reports whether the installation exists now.
func (c *Ceremony) installed() bool {
	return c.n != nil || c.newDir == "" || c.initialized
}

// database returns the node's database, or the one opened before creation.
func (c *Ceremony) database(ctx context.Context) (*store.DB, error) {
	if c.n != nil {
		return c.n.DB, nil
	}
	if !c.installed() {
		return nil, sceau.Errorf(sceau.NotFound, "ceremony", "no installation exists yet in %s", c.newDir)
	}
	if c.db == nil {
		db, err := OpenExistingStore(ctx, c.Config)
		if err != nil {
			return nil, err
		}
		c.db = db
	}
	return c.db, nil
}

// registry reads the splits in db, outside any node.
func registry(db *store.DB) *quorum.Registry {
	return quorum.NewRegistry(db, audit.NewJournal(nil), nil)
}

// Describe reads a CA from the database: its certificates and its split.
func (c *Ceremony) Describe(ctx context.Context, id string) (*ceremony.CAFacts, error) {
	var decl *config.CA
	for k := range c.Config.CAs {
		if c.Config.CAs[k].ID == id {
			decl = &c.Config.CAs[k]
		}
	}
	if decl == nil || !c.installed() {
		return nil, nil
	}
	db, err := c.database(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := ca.LookupStored(ctx, db, id)
	if err != nil || stored == nil {
		return nil, err
	}
	l := LayoutOf(c.Config)
	f := &ceremony.CAFacts{ID: id, Parent: decl.Parent, KeyType: decl.KeyType, KeyStore: c.keyStore(*decl), Cert: stored.Cert, OCSPCert: stored.OCSPCert}
	if decl.Activation != nil {
		sp, err := registry(db).Lookup(ctx, sceau.CAKeyLabel(id))
		if err != nil {
			return nil, err
		}
		cards := c.Cards()
		f.Split = &ceremony.SplitFacts{Threshold: sp.Threshold, Total: sp.Total, SetID: sp.SetID[:]}
		for _, h := range sp.Holders {
			if h.Carrier == quorum.CarrierCard {
				card := "smart card"
				if cc, ok := cards[h.Holder]; ok {
					card = cc.String()
				}
				f.Split.Shares = append(f.Split.Shares, ceremony.ShareFacts{Holder: h.Holder, X: h.X, Card: card})
				continue
			}
			f.Split.Shares = append(f.Split.Shares, ceremony.ShareFacts{Holder: h.Holder, X: h.X, File: l.ShareFile(id, h.Holder)})
		}
	}
	rec, err := c.ceremonyBackup(ctx, db, id)
	if err != nil {
		return nil, err
	}
	if rec != nil {
		sp, err := registry(db).Lookup(ctx, rec.ID)
		if err != nil {
			return nil, err
		}
		bf := &ceremony.BackupFacts{ID: rec.ID, Mechanism: rec.Mechanism, File: rec.Location, SHA256: rec.SHA256, Threshold: sp.Threshold,
			Approval: rec.Approval, Approvers: rec.Approvers}
		for _, h := range sp.Holders {
			bf.Shares = append(bf.Shares, ceremony.ShareFacts{Holder: h.Holder, X: h.X, File: l.ShareFile(rec.ID, h.Holder)})
		}
		f.Backup = bf
	}
	return f, nil
}

// backupService reads and discards the ceremony's backups in db.
func (c *Ceremony) backupService(db *store.DB) *quorum.Backups {
	l := LayoutOf(c.Config)
	j := audit.NewJournal(nil)
	return quorum.NewBackups(db, j, quorum.NewRegistry(db, j, nil), nil,
		quorum.BackupOptions{Dir: l.BackupsDir(), SharesDir: l.SharesRoot()})
}

// ceremonyBackup returns the registered backup this ceremony made of CA
// id's key, nil if none.
func (c *Ceremony) ceremonyBackup(ctx context.Context, db *store.DB, id string) (*quorum.BackupRecord, error) {
	for _, o := range c.backups {
		if o.CA != id {
			continue
		}
		list, err := c.backupService(db).List(ctx, id)
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

// FirstCRLs returns the CA's latest CRLs, issuing the first ones if none.
func (c *Ceremony) FirstCRLs(ctx context.Context, id string) ([]ceremony.CRLFacts, error) {
	if c.n == nil {
		return nil, sceau.Errorf(sceau.Unavailable, "ceremony: CRL", "CA %q is not loaded", id)
	}
	rev := c.n.Revocation
	latest := func() ([]ceremony.CRLFacts, error) {
		iss, err := rev.Issuer(id)
		if err != nil {
			return nil, err
		}
		var out []ceremony.CRLFacts
		for shard := revocation.FullCRL; shard <= iss.CRL.Shards; shard++ {
			crl, err := rev.Latest(ctx, id, shard)
			if err != nil {
				return nil, err
			}
			out = append(out, ceremony.CRLFacts{Shard: crl.Shard, Number: crl.Number, ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate, DER: crl.DER})
		}
		return out, nil
	}
	out, err := latest()
	if sceau.KindOf(err) == sceau.NotFound {
		if _, err := rev.IssueCRL(ctx, c.Officer(), id); err != nil {
			return nil, err
		}
		return latest()
	}
	return out, err
}

// Vault returns the installation's vault: over the node once the CAs are
// created, else over the database and service keystore of the existing
// installation.
func (c *Ceremony) Vault(ctx context.Context) (*ceremony.Vault, error) {
	if c.n != nil {
		return ceremony.NewVault(c.n.DB, c.n.Journal, c.n.Keys, nil), nil
	}
	db, err := c.database(ctx)
	if err != nil {
		return nil, err
	}
	journal := audit.NewJournal(nil)
	if c.ks == nil {
		l := LayoutOf(c.Config)
		ks := keys.OpenSoftStore(l.KeystoreDir())
		secret, err := readSecretFile(l.SecretFile())
		if err != nil {
			return nil, err
		}
		err = ks.Activate(secret)
		clear(secret)
		if err != nil {
			return nil, err
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return journal.Append(ctx, tx, audit.Event{Actor: c.Officer(), Action: "keystore.activated", Object: "service:sceau",
				Details: map[string]any{"dir": l.KeystoreDir(), "method": "secret_file"}})
		}); err != nil {
			ks.Deactivate()
			return nil, err
		}
		c.ks = ks
	}
	return ceremony.NewVault(db, journal, c.ks, nil), nil
}

func (c *Ceremony) closeLight() {
	if c.ks != nil {
		c.ks.Deactivate()
		c.ks = nil
	}
	if c.db != nil {
		c.db.Close()
		c.db = nil
	}
}

// Close deactivates every key (KEY-5) and closes the database.
func (c *Ceremony) Close() {
	c.closeLight()
	if c.n != nil {
		c.n.Close()
		c.n = nil
	}
}

// keyStore says where a CA's key is generated.
func (c *Ceremony) keyStore(dc config.CA) string {
	cfg := c.Config
	switch {
	case dc.Token != "" && cfg.Keystore.PKCS11 != nil && cfg.Keystore.PKCS11.AllowBackup:
		return fmt.Sprintf("PKCS#11 token %q, generated inside it, sensitive, extractable only wrapped (allow_backup)", dc.Token)
	case dc.Token != "":
		return fmt.Sprintf("PKCS#11 token %q, generated inside it, not extractable", dc.Token)
	case dc.Activation != nil:
		return "software keystore " + LayoutOf(cfg).CAStoreDir(dc.ID) + " (AES-256-GCM; its secret split m of n)"
	}
	return "service keystore " + LayoutOf(cfg).KeystoreDir() + " (activated from keystore.secret_file)"
}

// PKCS11Module is the configuration's keystore.pkcs11.module, or "".
func PKCS11Module(cfg *config.Config) string {
	if cfg == nil || cfg.Keystore.PKCS11 == nil {
		return ""
	}
	return cfg.Keystore.PKCS11.Module
}
