package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Key custody wiring (KEY-2, KEY-5): a CA with an activation policy has a
// keystore of its own under keys/ca-<id>/, whose random secret is split
// among its key share holders when the CA is created. Each share is sealed
// under its holder's PIN in shares/<ca>/<holder>.share, to be handed to
// the holder. The CA signs only after m holders have presented their
// shares; a restart leaves it deactivated.

// pinSource gives a holder's PIN for a new share, or an error.
type pinSource func(caID, holder string) ([]byte, error)

// keyID names the activation secret of a CA in the split registry.
func keyID(caID string) string { return "ca-" + caID }

// caStoreDir is where a CA with an activation policy keeps its key.
func caStoreDir(cfg *config.Config, caID string) string {
	return filepath.Join(cfg.Path(cfg.Keystore.Dir), "ca-"+caID)
}

// sharesDir is where new share files are written for their holders.
func sharesDir(cfg *config.Config, caID string) string {
	return filepath.Join(cfg.Path("shares"), caID)
}

// openCAStores gives every CA with an activation policy its own store in
// the ring. Stores of existing CAs stay deactivated.
func (n *node) openCAStores() {
	for _, c := range n.cfg.CAs {
		switch {
		case c.Token != "":
			n.ring.AddCA(c.ID, keys.OpenPKCS11(keys.PKCS11Config{Module: n.cfg.Keystore.PKCS11.Module, TokenLabel: c.Token,
				AllowBackup: n.cfg.Keystore.PKCS11.AllowBackup}))
		case c.Activation != nil:
			n.ring.AddCA(c.ID, keys.OpenSoftStore(caStoreDir(n.cfg, c.ID)))
		}
	}
}

// prepareNewCAStores creates the store of every CA to be created that has
// an activation policy: a random secret, split m of n, each share sealed
// for its holder, the split registered with its audit event. The store is
// left activated for the creation of the CA; Close deactivates it.
func (n *node) prepareNewCAStores(ctx context.Context, pins pinSource) error {
	for _, c := range n.cfg.CAs {
		if c.Activation == nil {
			continue
		}
		st, _ := n.ring.CAStore(c.ID)
		if soft, ok := st.(*keys.SoftStore); ok && soft.Exists() {
			continue
		}
		if _, err := n.registry.Lookup(ctx, keyID(c.ID)); err == nil {
			continue // the token's PIN was split already
		}
		exists, err := n.caExists(ctx, c.ID)
		if err != nil {
			return err
		}
		if exists {
			return sceau.Errorf(sceau.Conflict, "custody", "CA %q exists but its keystore %s is missing", c.ID, caStoreDir(n.cfg, c.ID))
		}
		if pins == nil {
			return sceau.Errorf(sceau.Invalid, "custody", "CA %q needs PINs for its %d key share holders", c.ID, len(c.Activation.Holders))
		}
		if err := n.splitNewSecret(ctx, c, st, pins); err != nil {
			return err
		}
	}
	return nil
}

func (n *node) splitNewSecret(ctx context.Context, c config.CA, st keys.Store, pins pinSource) (err error) {
	const op = "custody: split"
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	secret := []byte(base64.RawStdEncoding.EncodeToString(raw))
	clear(raw)
	defer clear(secret)
	shares, err := quorum.Split(secret, c.Activation.Threshold, len(c.Activation.Holders), nil)
	if err != nil {
		return sceau.E(sceau.Invalid, op, "", err)
	}
	defer func() {
		for i := range shares {
			clear(shares[i].Y)
		}
	}()
	dir := sharesDir(n.cfg, c.ID)
	carriers := make([]string, len(c.Activation.Holders))
	// Shares written to cards so far, with the PINs that erase them if the
	// split does not complete: a card keeps no share of a secret that was
	// never put to use (KEY-2).
	type written struct {
		holder string
		card   quorum.Card
		pin    []byte
	}
	var onCards []written
	defer func() {
		for _, w := range onCards {
			if err != nil {
				if eerr := quorum.EraseCard(w.card, keyID(c.ID), w.holder, w.pin); eerr != nil {
					err = errors.Join(err, fmt.Errorf("the share written to %s's %s could not be erased: %w", w.holder, w.card, eerr))
				}
			}
			clear(w.pin)
		}
	}()
	for i, h := range c.Activation.Holders {
		pin, err := pins(c.ID, h)
		if err != nil {
			return err
		}
		if card, ok := n.cards[h]; ok {
			carriers[i] = quorum.CarrierCard
			if err := quorum.WriteCard(card, keyID(c.ID), h, shares[i], pin); err != nil {
				clear(pin)
				return err
			}
			onCards = append(onCards, written{holder: h, card: card, pin: pin})
			continue
		}
		carriers[i] = quorum.CarrierFile
		f, err := quorum.Seal(shares[i], keyID(c.ID), h, pin)
		clear(pin)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot create "+dir, err)
		}
		if err := f.WriteFile(filepath.Join(dir, h+".share")); err != nil {
			return sceau.E(sceau.Conflict, op, "", err)
		}
	}
	switch st := st.(type) {
	case *keys.SoftStore:
		if err := st.Init(secret); err != nil {
			return err
		}
	case *keys.PKCS11Store:
		// KEY-1, KEY-2: the token's user PIN becomes the secret no one
		// holds whole; the operator's initial PIN is retired.
		if n.tokenPIN == nil {
			return sceau.Errorf(sceau.Invalid, op, "CA %q: the current user PIN of token %q is needed (--token-pins DIR)", c.ID, c.Token)
		}
		old, err := n.tokenPIN(c.Token)
		if err != nil {
			return err
		}
		err = keys.SetTokenPIN(n.cfg.Keystore.PKCS11.Module, c.Token, old, secret)
		clear(old)
		if err != nil {
			return err
		}
		if err := st.Activate(secret); err != nil {
			return err
		}
	}
	return n.registry.RegisterCarriers(ctx, n.actor, keyID(c.ID), shares, c.Activation.Holders, carriers)
}

func (n *node) caExists(ctx context.Context, id string) (bool, error) {
	var k int
	err := n.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cas WHERE id = ?`, id).Scan(&k)
	return k > 0, err
}

// activationHint says who must activate a CA (for refusals).
func (n *node) activationHint(caID string) string {
	for _, c := range n.cfg.CAs {
		if c.ID == caID && c.Activation != nil {
			return fmt.Sprintf("%d of its %d key share holders must present their shares (sceau ca activate %s)",
				c.Activation.Threshold, len(c.Activation.Holders), caID)
		}
	}
	return ""
}

// tokenPINsFromDir reads the current user PIN of a token from DIR/<token>.pin.
func tokenPINsFromDir(dir string) func(token string) ([]byte, error) {
	return func(token string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, token+".pin"))
		if err != nil {
			return nil, sceau.Errorf(sceau.Invalid, "custody", "no PIN file for token %q in %s", token, dir)
		}
		return trimNewline(b), nil
	}
}

// pinsFromDir reads PINs from DIR/<ca>/<holder>.pin or DIR/<holder>.pin.
func pinsFromDir(dir string) pinSource {
	return func(caID, holder string) ([]byte, error) {
		for _, p := range []string{filepath.Join(dir, caID, holder+".pin"), filepath.Join(dir, holder+".pin")} {
			b, err := os.ReadFile(p)
			if err == nil {
				return trimNewline(b), nil
			}
		}
		return nil, sceau.Errorf(sceau.Invalid, "custody", "no PIN file for %s of CA %q in %s", holder, caID, dir)
	}
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// demoPIN is the PIN of a demo holder, printed by `sceau demo`.
func demoPIN(caID, holder string) ([]byte, error) { return []byte("demo-" + holder + "-pin"), nil }

// custodian opens and closes the CA stores with m-of-n policies.
func (n *node) custodian() *quorum.Custodian {
	return quorum.NewCustodian(n.sessions, func(keyID string) (quorum.Activator, bool) {
		id, ok := strings.CutPrefix(keyID, "ca-")
		if !ok {
			return nil, false
		}
		return n.ring.CAStore(id)
	}, func(keyID string) time.Duration {
		for _, c := range n.cfg.CAs {
			if keyID == "ca-"+c.ID && c.Activation != nil {
				return c.Activation.Window.Duration
			}
		}
		return 0
	})
}

// cardFlags send holders' new shares to their smart cards (KEY-2): the
// share becomes a private data object on the card, which the card's own
// user PIN protects. The holder types that PIN (or --pins reads it).
type cardFlags struct {
	cards  []string
	module string
}

func (f *cardFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.cards, "card", nil, "HOLDER=TOKEN: write that holder's new shares to their smart card (token label, or serial:NUMBER) instead of a share file (repeatable)")
	cmd.Flags().StringVar(&f.module, "card-module", "", "PKCS#11 library of the card reader (default: keystore.pkcs11.module)")
}

// resolve maps each holder to their card; the module defaults to the
// configuration's keystore.pkcs11.module.
func (f *cardFlags) resolve(cfgText []byte) (map[string]quorum.Card, error) {
	if len(f.cards) == 0 {
		return nil, nil
	}
	module := f.module
	if module == "" {
		if cfg, err := config.Parse(cfgText); err == nil {
			module = pkcs11Module(cfg)
		}
	}
	out := map[string]quorum.Card{}
	for _, s := range f.cards {
		holder, token, ok := strings.Cut(s, "=")
		if !ok || holder == "" {
			return nil, sceau.Errorf(sceau.Invalid, "custody", "--card wants HOLDER=TOKEN, got %q", s)
		}
		if _, dup := out[holder]; dup {
			return nil, sceau.Errorf(sceau.Invalid, "custody", "--card names %s twice", holder)
		}
		c, err := quorum.ParseCard(module, token)
		if err != nil {
			return nil, err
		}
		out[holder] = c
	}
	return out, nil
}

// pkcs11Module is the configuration's keystore.pkcs11.module, or "".
func pkcs11Module(cfg *config.Config) string {
	if cfg == nil || cfg.Keystore.PKCS11 == nil {
		return ""
	}
	return cfg.Keystore.PKCS11.Module
}
