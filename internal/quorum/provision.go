package quorum

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sceau/sceau/internal/sceau"
)

// ProvisionPlan says how a new activation secret is split and where each
// holder's share goes (KEY-2).
type ProvisionPlan struct {
	KeyID     string
	Threshold int
	Holders   []string
	// Cards maps a holder to the smart card that receives their share; the
	// others get a share file in SharesDir/<holder>.share.
	Cards     map[string]Card
	SharesDir string
	// PIN gives the PIN a holder chose for their new share. Provision
	// wipes it once the share is sealed or written.
	PIN func(holder string) ([]byte, error)
	// Rand is the source of the secret; nil means crypto/rand.
	Rand io.Reader
}

// Provision draws a new random activation secret, splits it m of n, seals
// each share under its holder's PIN on its carrier (a share file, or the
// holder's smart card), hands the secret to install (which makes it the
// key of a store: a soft keystore's key, a token's user PIN), registers the
// split with its audit event and wipes the secret and the shares. Nobody
// ever holds the secret whole (KEY-2).
//
// If any step fails, the shares already written to cards are erased: a
// card keeps no share of a secret that was never put to use. Share files
// written so far stay for the caller to remove (a ceremony's Settle says
// which).
func (r *Registry) Provision(ctx context.Context, actor sceau.Actor, plan ProvisionPlan, install func(secret []byte) error) (err error) {
	const op = "quorum: provision"
	rnd := plan.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(rnd, raw); err != nil {
		return sceau.E(sceau.Internal, op, "no randomness for the secret", err)
	}
	// The secret is text so that it can also be a token's user PIN.
	secret := []byte(base64.RawStdEncoding.EncodeToString(raw))
	clear(raw)
	defer clear(secret)
	shares, err := Split(secret, plan.Threshold, len(plan.Holders), rnd)
	if err != nil {
		return sceau.E(sceau.Invalid, op, "", err)
	}
	defer func() {
		for i := range shares {
			clear(shares[i].Y)
		}
	}()
	carriers := make([]string, len(plan.Holders))
	type written struct {
		holder string
		card   Card
		pin    []byte
	}
	var onCards []written
	defer func() {
		for _, w := range onCards {
			if err != nil {
				if eerr := EraseCard(w.card, plan.KeyID, w.holder, w.pin); eerr != nil {
					err = errors.Join(err, fmt.Errorf("the share written to %s's %s could not be erased: %w", w.holder, w.card, eerr))
				}
			}
			clear(w.pin)
		}
	}()
	for i, h := range plan.Holders {
		pin, err := plan.PIN(h)
		if err != nil {
			return err
		}
		if card, ok := plan.Cards[h]; ok {
			carriers[i] = CarrierCard
			if err := WriteCard(card, plan.KeyID, h, shares[i], pin); err != nil {
				clear(pin)
				return err
			}
			onCards = append(onCards, written{holder: h, card: card, pin: pin})
			continue
		}
		carriers[i] = CarrierFile
		f, err := Seal(shares[i], plan.KeyID, h, pin)
		clear(pin)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(plan.SharesDir, 0o700); err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot create "+plan.SharesDir, err)
		}
		if err := f.WriteFile(filepath.Join(plan.SharesDir, h+".share")); err != nil {
			return sceau.E(sceau.Conflict, op, "", err)
		}
	}
	if err := install(secret); err != nil {
		return err
	}
	return r.RegisterCarriers(ctx, actor, plan.KeyID, shares, plan.Holders, carriers)
}
