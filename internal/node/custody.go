package node

import (
	"context"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Key custody (KEY-2, KEY-5): a CA with an activation policy has a
// keystore of its own (Layout.CAStoreDir), or a PKCS#11 token, whose
// secret is split among its key share holders when the CA is created.
// Each share is sealed under its holder's PIN in a share file
// (Layout.ShareFile) or written to the holder's smart card. The CA signs
// only after m holders have presented their shares; a restart leaves it
// deactivated.

// PINSource gives the PIN a holder chose for their new share of a CA's
// activation secret, or an error.
type PINSource func(caID, holder string) ([]byte, error)

// TokenPINSource gives the current user PIN of a PKCS#11 token, which the
// split secret replaces.
type TokenPINSource func(token string) ([]byte, error)

// openCAStores gives every CA with an activation policy its own store in
// the ring. Stores of existing CAs stay deactivated.
func (n *Node) openCAStores() {
	for _, c := range n.Config.CAs {
		switch {
		case c.Token != "":
			n.Ring.AddCA(c.ID, keys.OpenPKCS11(keys.PKCS11Config{Module: n.Config.Keystore.PKCS11.Module, TokenLabel: c.Token,
				AllowBackup: n.Config.Keystore.PKCS11.AllowBackup}))
		case c.Activation != nil:
			n.Ring.AddCA(c.ID, keys.OpenSoftStore(n.Layout.CAStoreDir(c.ID)))
		}
	}
}

// provisionNewCAStores creates the store of every CA to be created that has
// an activation policy: a random secret, split m of n, each share sealed
// for its holder, the split registered with its audit event. The store is
// left activated for the creation of the CA; Close deactivates it.
func (n *Node) provisionNewCAStores(ctx context.Context, o CreateOptions) error {
	for _, c := range n.Config.CAs {
		if c.Activation == nil {
			continue
		}
		st, _ := n.Ring.CAStore(c.ID)
		if soft, ok := st.(*keys.SoftStore); ok && soft.Exists() {
			continue
		}
		if _, err := n.Registry.Lookup(ctx, sceau.CAKeyLabel(c.ID)); err == nil {
			continue // the token's PIN was split already
		}
		exists, err := ca.Exists(ctx, n.DB, c.ID)
		if err != nil {
			return err
		}
		if exists {
			return sceau.Errorf(sceau.Conflict, "custody", "CA %q exists but its keystore %s is missing", c.ID, n.Layout.CAStoreDir(c.ID))
		}
		if o.PINs == nil {
			return sceau.Errorf(sceau.Invalid, "custody", "CA %q needs PINs for its %d key share holders", c.ID, len(c.Activation.Holders))
		}
		plan := quorum.ProvisionPlan{KeyID: sceau.CAKeyLabel(c.ID), Threshold: c.Activation.Threshold, Holders: c.Activation.Holders,
			Cards: o.Cards, SharesDir: n.Layout.SharesDir(c.ID),
			PIN: func(holder string) ([]byte, error) { return o.PINs(c.ID, holder) }}
		if err := n.Registry.Provision(ctx, o.actor(), plan, func(secret []byte) error {
			return n.installSecret(c, st, secret, o.TokenPIN)
		}); err != nil {
			return err
		}
	}
	return nil
}

// installSecret makes secret the key of CA c's store: a software
// keystore's key, or a token's user PIN (KEY-1, KEY-2: the secret no one
// holds whole replaces the operator's initial PIN, which is retired).
func (n *Node) installSecret(c config.CA, st keys.Store, secret []byte, tokenPIN TokenPINSource) error {
	const op = "custody: split"
	switch st := st.(type) {
	case *keys.SoftStore:
		return st.Init(secret)
	case *keys.PKCS11Store:
		if tokenPIN == nil {
			return sceau.Errorf(sceau.Invalid, op, "CA %q: the current user PIN of token %q is needed (--token-pins DIR)", c.ID, c.Token)
		}
		old, err := tokenPIN(c.Token)
		if err != nil {
			return err
		}
		err = keys.SetTokenPIN(n.Config.Keystore.PKCS11.Module, c.Token, old, secret)
		clear(old)
		if err != nil {
			return err
		}
		return st.Activate(secret)
	}
	return sceau.Errorf(sceau.Internal, op, "CA %q: its store takes no activation secret", c.ID)
}

// activationHint says who must activate a CA (for refusals).
func (n *Node) activationHint(caID string) string {
	for _, c := range n.Config.CAs {
		if c.ID == caID && c.Activation != nil {
			return fmt.Sprintf("%d of its %d key share holders must present their shares (sceau ca activate %s)",
				c.Activation.Threshold, len(c.Activation.Holders), caID)
		}
	}
	return ""
}

// Custodian opens and closes the CA stores with m-of-n policies. With acc,
// a holder whose Key Share Holder role was removed presents no share
// (ROLE-4).
func (n *Node) Custodian(acc *access.Service) *quorum.Custodian {
	c := quorum.NewCustodian(n.Sessions, func(keyID string) (quorum.Activator, bool) {
		id, ok := sceau.CAOfKeyLabel(keyID)
		if !ok {
			return nil, false
		}
		return n.Ring.CAStore(id)
	}, func(keyID string) time.Duration {
		for _, c := range n.Config.CAs {
			if keyID == sceau.CAKeyLabel(c.ID) && c.Activation != nil {
				return c.Activation.Window.Duration
			}
		}
		return 0
	})
	if acc != nil {
		c.HolderCheck = holderCheck(acc, "quorum: present share")
	}
	return c
}

// holderCheck refuses a person who does not hold the Key Share Holder role
// (ROLE-4: a removal takes effect at once).
func holderCheck(acc *access.Service, op string) func(ctx context.Context, holder string) error {
	return func(ctx context.Context, holder string) error {
		ok, err := acc.HasRole(ctx, holder, access.KeyShareHolder)
		if err != nil {
			return err
		}
		if !ok {
			return sceau.Errorf(sceau.Denied, op, "%s does not hold the Key Share Holder role", holder)
		}
		return nil
	}
}
