package revocation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// INC-3: a selector finds exactly the live certificates with the weak key
// or signature, a dry run changes nothing, the revocation takes exactly
// those in one transaction with an event each, and a selector that
// selects by nothing, names what does not exist or matches nothing is
// refused.
func TestINC3_SelectorFindsAndRevokesExactlyTheWeakCertificates(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		f := newFixture(t, db)
		issue := func(kt keys.Type) string {
			csr := sceautest.CSR(t, sceautest.NewKey(t, kt), "weak.example", "weak.example")
			iss, err := f.h.Authority.IssueCSR(ctx, testActor, ca.Request{CA: "issuing", Profile: "server", CSR: csr})
			if err != nil {
				t.Fatal(err)
			}
			return iss.Serial
		}
		rsa := []string{issue(keys.RSA2048), issue(keys.RSA2048)}
		strong := []string{issue(keys.RSA3072), issue(keys.ECDSAP256), issue(keys.ECDSAP384)}
		weak := revocation.Selector{KeyType: "rsa", KeyBitsBelow: 3072}
		var progressed int64
		sel, err := revocation.Select(ctx, db, weak, revocation.SelectOptions{Progress: func(done, total int64) { progressed = total }})
		if err != nil {
			t.Fatal(err)
		}
		if sel.Matched != 2 || sel.ByCA["issuing"] != 2 || progressed < 5 || sel.Sample[0].Key != "rsa 2048" {
			t.Fatalf("dry run: %+v (progress total %d)", sel, progressed)
		}
		if sel, err := revocation.Select(ctx, db, revocation.Selector{Curve: "P-384"}, revocation.SelectOptions{}); err != nil || sel.Matched != 1 {
			t.Errorf("curve P-384: %+v %v", sel, err)
		}
		if sel, err := revocation.Select(ctx, db, revocation.Selector{SignatureAlgorithm: "ECDSA-SHA256", IssuedBefore: time.Now().Add(time.Hour)},
			revocation.SelectOptions{}); err != nil || sel.Matched != 5 {
			t.Errorf("by the CA's signature: %+v %v", sel, err)
		}
		for _, bad := range []revocation.Selector{{}, {CA: "issuing"}, {KeyType: "dsa"}, {Curve: "P-192"}, {SignatureAlgorithm: "ROT13"}} {
			if _, err := revocation.Select(ctx, db, bad, revocation.SelectOptions{}); sceau.KindOf(err) != sceau.Invalid {
				t.Errorf("selector %+v: %v, want invalid", bad, err)
			}
		}
		if err := f.h.Revocation.CheckSelection(ctx, db, []byte(`{"selector":{"curve":"P-521"},"reason":"superseded"}`)); sceau.KindOf(err) != sceau.NotFound {
			t.Errorf("a selector matching nothing: %v, want not found", err)
		}
		if err := f.h.Revocation.CheckSelection(ctx, db, []byte(`{"selector":{"key_type":"rsa"},"reason":"bored"}`)); sceau.KindOf(err) != sceau.Invalid {
			t.Errorf("a bad reason: %v", err)
		}
		payload := []byte(`{"selector":{"key_type":"rsa","key_bits_below":3072},"reason":"superseded"}`)
		if err := f.h.Revocation.CheckSelection(ctx, db, payload); err != nil {
			t.Fatal(err)
		}
		var n int
		err = db.InTx(ctx, func(tx *store.Tx) error {
			n, err = f.h.Revocation.RevokeSelected(ctx, tx, testActor, payload, "approval-1")
			return err
		})
		if err != nil || n != 2 {
			t.Fatalf("revoke selected: %d %v", n, err)
		}
		for _, sn := range rsa {
			st, err := f.h.Revocation.Lookup(ctx, db, sn)
			if err != nil || !st.Revoked || st.Reason != 4 {
				t.Errorf("%s after the revocation: %+v %v", sn, st, err)
			}
		}
		for _, sn := range strong {
			if st, _ := f.h.Revocation.Lookup(ctx, db, sn); st.Revoked {
				t.Errorf("%s was revoked though its key is strong", sn)
			}
		}
		page, _ := audit.Search(ctx, db, audit.Filter{Action: "certificate.revoked"})
		if len(page.Events) != 2 || !strings.Contains(page.Events[0].Details, `"selection":"rsa keys, keys under 3072 bits"`) {
			t.Errorf("events: %+v", page.Events)
		}
		// Once revoked, the selector matches nothing live any more.
		if err := f.h.Revocation.CheckSelection(ctx, db, payload); sceau.KindOf(err) != sceau.NotFound {
			t.Errorf("a second time: %v", err)
		}
	})
}
