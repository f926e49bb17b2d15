package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
			n.ring.AddCA(c.ID, keys.OpenPKCS11(keys.PKCS11Config{Module: n.cfg.Keystore.PKCS11.Module, TokenLabel: c.Token}))
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

func (n *node) splitNewSecret(ctx context.Context, c config.CA, st keys.Store, pins pinSource) error {
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
	dir := sharesDir(n.cfg, c.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot create "+dir, err)
	}
	for i, h := range c.Activation.Holders {
		pin, err := pins(c.ID, h)
		if err != nil {
			return err
		}
		f, err := quorum.Seal(shares[i], keyID(c.ID), h, pin)
		clear(pin)
		if err != nil {
			return err
		}
		if err := f.WriteFile(filepath.Join(dir, h+".share")); err != nil {
			return sceau.E(sceau.Conflict, op, "", err)
		}
	}
	for i := range shares {
		clear(shares[i].Y)
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
	return n.registry.Register(ctx, sceau.System("init"), keyID(c.ID), shares, c.Activation.Holders, "file")
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
