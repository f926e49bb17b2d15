package revocation_test

import (
	"crypto"
	"crypto/x509"
	"io"
	"log/slog"
	"math/big"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// secondNode is another node's revocation service on the same database,
// with the issuing CA of f; signer, if not nil, replaces its responder key.
func secondNode(t *testing.T, f *fixture, db *store.DB, signer crypto.Signer) *revocation.Service {
	t.Helper()
	iss, err := f.h.Revocation.Issuer("issuing")
	if err != nil {
		t.Fatal(err)
	}
	cp := *iss
	if signer != nil {
		cp.OCSPSigner = signer
	}
	svc := revocation.New(db, f.h.Journal, revocation.Options{Clock: f.clock})
	svc.AddIssuer(&cp)
	return svc
}

// CA-3 on several nodes (docs/scaling.md): a node reads a CRL's entries,
// then another node revokes a certificate and signs its CRL before the
// first takes its number. The first node's CRL has the higher number: it
// must list that revocation too, so that the newest CRL never lists less
// than an older one.
func TestCA3_ACRLNumberedAfterAnotherNodesListsItsRevocation(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		a, other := f.issue(t), secondNode(t, f, db, nil)
		var between int64
		f.h.Revocation.AfterCRLRead(func() {
			f.h.Revocation.AfterCRLRead(nil)
			if err := other.Revoke(ctx, testActor, a.Serial, 1); err != nil {
				t.Errorf("revoke on the other node: %v", err)
			}
			crls, err := other.IssueCRL(ctx, testActor, "issuing")
			if err != nil {
				t.Errorf("CRL on the other node: %v", err)
				return
			}
			between = crls[0].Number
		})
		crls, err := f.h.Revocation.IssueCRL(ctx, testActor, "issuing")
		if err != nil {
			t.Fatal(err)
		}
		if crls[0].Number <= between {
			t.Fatalf("CRL %d taken after CRL %d", crls[0].Number, between)
		}
		rl, err := x509.ParseRevocationList(crls[0].DER)
		if err != nil {
			t.Fatal(err)
		}
		if len(rl.RevokedCertificateEntries) != 1 || revocation.SerialHex(rl.RevokedCertificateEntries[0].SerialNumber) != a.Serial {
			t.Fatalf("CRL %d, after CRL %d of the other node listed %s, lists %d entries: it must list that revocation",
				crls[0].Number, between, a.Serial, len(rl.RevokedCertificateEntries))
		}
	})
}

// inactive is a responder key whose store is not activated (KEY-5), as on
// a public-only node.
type inactive struct{ crypto.Signer }

func (inactive) Active() bool { return false }
func (inactive) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	panic("a responder without its key signed")
}

// CA-3, SYS-2: a responder whose key is not activated (a public-only node,
// docs/scaling.md) signs nothing: it answers with the response stored by
// the node that issued or revoked, nonce or not, and tryLater where only a
// new signature would do (a SHA-256 CertID, a serial never issued).
func TestCA3_AResponderWithoutItsKeyAnswersFromStoredResponsesOnly(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a, b := f.issue(t), f.issue(t)
		if err := f.h.Revocation.Revoke(t.Context(), testActor, b.Serial, 1); err != nil {
			t.Fatal(err)
		}
		iss, _ := f.h.Revocation.Issuer("issuing")
		public := secondNode(t, f, db, inactive{iss.OCSPSigner}).NewResponder(slog.New(slog.DiscardHandler))
		for _, c := range []struct {
			name   string
			serial *big.Int
			hash   crypto.Hash
			nonce  []byte
			want   string
			status int
		}{
			{"good", a.Cert.SerialNumber, crypto.SHA1, nil, "good", ocsp.Good},
			{"good, nonce", a.Cert.SerialNumber, crypto.SHA1, []byte("0123456789abcdef"), "good", ocsp.Good},
			{"revoked, nonce", b.Cert.SerialNumber, crypto.SHA1, []byte("0123456789abcdef"), "revoked", ocsp.Revoked},
			{"SHA-256 CertID", a.Cert.SerialNumber, crypto.SHA256, nil, "trylater", -1},
			{"never issued", big.NewInt(12345), crypto.SHA1, nil, "trylater", -1},
		} {
			der, status := public.Respond(t.Context(), requestDER(t, c.nonce, certID(f.issuing, c.hash, c.serial)))
			if status != c.want {
				t.Errorf("%s: %s, want %s", c.name, status, c.want)
				continue
			}
			if c.status < 0 {
				continue
			}
			stored, _ := f.rs.Respond(t.Context(), requestDER(t, nil, certID(f.issuing, crypto.SHA1, c.serial)))
			if string(der) != string(stored) {
				t.Errorf("%s: not the stored response", c.name)
			}
			r, err := ocsp.ParseResponse(der, f.issuing)
			if err != nil || r.Status != c.status {
				t.Errorf("%s: %v, %v", c.name, r, err)
			}
		}
	})
}
