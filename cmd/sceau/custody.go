package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Key custody flags and PIN sources (KEY-2): where the PINs of new shares
// come from (the holders at the terminal, or files for automation), and
// which holders receive their shares on a smart card. The custody itself
// is in internal/node and internal/quorum.

// pinSource gives a holder's PIN for a new share, or an error.
type pinSource = node.PINSource

// tokenPINsFromDir reads the current user PIN of a token from DIR/<token>.pin.
func tokenPINsFromDir(dir string) node.TokenPINSource {
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
func pkcs11Module(cfg *config.Config) string { return node.PKCS11Module(cfg) }
