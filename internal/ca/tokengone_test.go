//go:build cgo

package ca_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// KEY-1: the issuing CA's token disappears between two requests. The next
// request fails with the token's error, and nothing is half-written: its
// serial stays a reservation (never a certificate), which OCSP does not
// call good, and the certificate issued before is intact.
func TestKEY1_TokenGoneMidIssuanceLeavesOnlyAReservation(t *testing.T) {
	module, label, pin := sceautest.SoftHSM(t)
	token := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: label})
	if err := token.Activate([]byte(pin)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(token.Deactivate)
	soft := keys.OpenSoftStore(filepath.Join(t.TempDir(), "keys"))
	if err := soft.Init([]byte("test activation secret, not for production")); err != nil {
		t.Fatal(err)
	}
	ring := keys.NewRing(soft)
	ring.AddCA("issuing", token)

	db := sceautest.OpenSQLite(t)
	journal := audit.NewJournal(nil)
	rev := revocation.New(db, journal, revocation.Options{})
	auth := ca.New(db, journal, ring, rev, ca.Options{URLs: ca.URLs{Base: "http://127.0.0.1:8080"}})
	t.Cleanup(auth.Close)
	if err := auth.Bootstrap(t.Context(), sceau.System("test"), sceautest.Specs()); err != nil {
		t.Fatal(err)
	}
	request := func() (*ca.Issued, error) {
		csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org", "www.example.org")
		return auth.IssueCSR(t.Context(), operator, ca.Request{CA: "issuing", Profile: "server", CSR: csr})
	}
	first, err := request()
	if err != nil {
		t.Fatalf("issuance with the token present: %v", err)
	}

	if err := os.RemoveAll(filepath.Join(filepath.Dir(os.Getenv("SOFTHSM2_CONF")), "tokens")); err != nil {
		t.Fatal(err)
	}
	_, err = request()
	if err == nil {
		t.Fatal("issued with the token gone")
	}
	if strings.Contains(err.Error(), pin) || !strings.Contains(err.Error(), label) {
		t.Errorf("the error should name the token, never its PIN: %v", err)
	}

	var reserved, issued int
	if err := db.QueryRowContext(t.Context(), `SELECT
		COALESCE(SUM(CASE WHEN status = 'reserved' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'issued' THEN 1 ELSE 0 END), 0)
		FROM certificates WHERE ca_id = 'issuing'`).Scan(&reserved, &issued); err != nil {
		t.Fatal(err)
	}
	if reserved != 1 || issued != 1 {
		t.Fatalf("after the failure: %d reserved, %d issued; want the failed request's reservation and the first certificate", reserved, issued)
	}
	var orphan string
	if err := db.QueryRowContext(t.Context(), `SELECT serial FROM certificates WHERE status = 'reserved'`).Scan(&orphan); err != nil {
		t.Fatal(err)
	}
	st, err := rev.Lookup(t.Context(), db, orphan)
	if err != nil {
		t.Fatal(err)
	}
	// The responder answers tryLater for a serial reserved and not issued,
	// until the orphan is revoked: never good.
	if st.Issued || st.Response != nil {
		t.Errorf("the reserved serial %s looks issued to OCSP: %+v", orphan, st)
	}
	rec, err := auth.Certificate(t.Context(), first.Serial)
	if err != nil || rec.Status != "issued" {
		t.Errorf("the first certificate after the failure: %+v, %v", rec, err)
	}
}
