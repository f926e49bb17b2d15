//go:build !cgo

package quorum

import "github.com/sceau/sceau/internal/sceau"

// errNoCards reads "quorum: PKCS#11 support is not compiled in (build with
// CGO_ENABLED=1)": smart cards are reached through PKCS#11, which needs cgo.
var errNoCards = sceau.Errorf(sceau.Unavailable, "quorum", "PKCS#11 support is not compiled in (build with CGO_ENABLED=1): smart-card share carriers are unavailable")

// WriteCard fails: PKCS#11 support is not compiled in.
func WriteCard(c Card, keyID, holder string, share Share, pin []byte) error { return errNoCards }

// ReadCard fails: PKCS#11 support is not compiled in.
func ReadCard(c Card, keyID, holder string, pin []byte) (*CardShare, error) { return nil, errNoCards }

// EraseCard fails: PKCS#11 support is not compiled in.
func EraseCard(c Card, keyID, holder string, pin []byte) error { return errNoCards }
