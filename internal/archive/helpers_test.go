package archive_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/cms"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// testPKI is a root and an archive key certified by it with the
// documentSigning usage, as the node's archive key is.
type testPKI struct {
	root       *x509.Certificate
	key        crypto.Signer
	leaf       *x509.Certificate
	roots      *x509.CertPool
	otherRoots *x509.CertPool
}

var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Archive Test Root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(der)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Archive Test Key"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(23 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidDocumentSigning}}
	der, err = x509.CreateCertificate(rand.Reader, leafTmpl, root, key.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	p := &testPKI{root: root, key: key, leaf: leaf, roots: x509.NewCertPool(), otherRoots: x509.NewCertPool()}
	p.roots.AddCert(root)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	oder, _ := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, other.Public(), other)
	oc, _ := x509.ParseCertificate(oder)
	p.otherRoots.AddCert(oc)
	return p
}

func (p *testPKI) SignHead(body []byte) ([]byte, error) {
	return cms.SignDetached(body, p.key, p.leaf, []*x509.Certificate{p.root}, time.Now())
}

// newService is an archive over db signed by a fresh test PKI.
func newService(t testing.TB, db *store.DB, o archive.Options) (*archive.Service, *testPKI) {
	t.Helper()
	p := newPKI(t)
	if o.Heads == nil {
		o.Heads = p
	}
	if o.Roots == nil {
		o.Roots = func() *x509.CertPool { return p.roots }
	}
	return archive.NewService(db, audit.NewJournal(nil), o), p
}

var actor = sceauActor()

func add(t testing.TB, s *archive.Service, items ...archive.New) []archive.Item {
	t.Helper()
	out, err := s.Add(context.Background(), actor, items...)
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	return out
}

// untrigger drops the archive's guards, as someone with the database's
// owner rights could: what the tamper tests then change must still be
// found by verification.
func untrigger(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if db.Engine() == store.Postgres {
		for _, tbl := range []string{"archive_items", "archive_objects", "archive_tree", "archive_heads", "archive_stamps", "archive_state", "archive_purges"} {
			if _, err := db.ExecContext(ctx, "ALTER TABLE "+tbl+" DISABLE TRIGGER USER"); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'archive_%'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.ExecContext(ctx, "DROP TRIGGER "+n); err != nil {
			t.Fatal(err)
		}
	}
}

func sceauActor() sceau.Actor { return sceau.Actor{ID: "alice", Role: "application-administrator"} }
