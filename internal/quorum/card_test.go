//go:build cgo

package quorum_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// cardFixture splits a keystore's secret 3 of 5: alice, bob and carol
// hold their shares on SoftHSM2 tokens of their own (their smart cards),
// dave and erin in share files. Alice's card also holds her share of
// another key.
type cardFixture struct {
	module string
	reg    *quorum.Registry
	ks     *keys.SoftStore
	db     *store.DB
	cards  map[string]quorum.Card
	pins   map[string][]byte
	files  map[string]*quorum.ShareFile
	shares []quorum.Share
}

func newCardFixture(t *testing.T) *cardFixture {
	t.Helper()
	module, _, _ := sceautest.SoftHSM(t)
	f := &cardFixture{module: module, db: sceautest.OpenSQLite(t), cards: map[string]quorum.Card{}, pins: map[string][]byte{},
		files: map[string]*quorum.ShareFile{}}
	for _, h := range []string{"alice", "bob", "carol"} {
		f.pins[h] = []byte(sceautest.SoftHSMExtraToken(t, h+"-card"))
		f.cards[h] = quorum.Card{Module: module, Token: h + "-card"}
	}
	f.reg = quorum.NewRegistry(f.db, audit.NewJournal(nil), nil)
	secret := []byte("keystore activation secret on cards 0123456789")
	f.ks = keys.OpenSoftStore(filepath.Join(t.TempDir(), "keys"))
	if err := f.ks.Init(secret); err != nil {
		t.Fatal(err)
	}
	f.ks.Deactivate()
	var err error
	if f.shares, err = quorum.Split(secret, 3, 5, nil); err != nil {
		t.Fatal(err)
	}
	holders := []string{"alice", "bob", "carol", "dave", "erin"}
	carriers := []string{quorum.CarrierCard, quorum.CarrierCard, quorum.CarrierCard, quorum.CarrierFile, quorum.CarrierFile}
	for i, h := range holders {
		if carriers[i] == quorum.CarrierCard {
			if err := quorum.WriteCard(f.cards[h], "issuing", h, f.shares[i], f.pins[h]); err != nil {
				t.Fatalf("write %s's card: %v", h, err)
			}
			continue
		}
		f.pins[h] = []byte("PIN of " + h)
		if f.files[h], err = quorum.Seal(f.shares[i], "issuing", h, f.pins[h]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.reg.RegisterCarriers(context.Background(), so, "issuing", f.shares, holders, carriers); err != nil {
		t.Fatal(err)
	}
	root, _ := quorum.Split([]byte("the root key's activation secret"), 2, 2, nil)
	if err := quorum.WriteCard(f.cards["alice"], "root", "alice", root[0], f.pins["alice"]); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *cardFixture) presentCard(t *testing.T, a *quorum.Activation, h string) {
	t.Helper()
	cs, err := quorum.ReadCard(f.cards[h], "issuing", h, f.pins[h])
	if err != nil {
		t.Fatalf("read %s's card: %v", h, err)
	}
	defer cs.Wipe()
	if err := a.PresentCard(context.Background(), h, cs); err != nil {
		t.Fatalf("%s presents their card: %v", h, err)
	}
}

// Three of five holders, two with smart cards and one with a share file,
// activate the key; two are not enough (KEY-2).
func TestKEY2_CardAndFileHoldersActivateThreeOfFive(t *testing.T) {
	ctx := context.Background()
	f := newCardFixture(t)
	sp, err := f.reg.Lookup(ctx, "issuing")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"card", "card", "card", "file", "file"} {
		if sp.Holders[i].Carrier != want {
			t.Errorf("%s's carrier: %s, want %s", sp.Holders[i].Holder, sp.Holders[i].Carrier, want)
		}
	}
	// m-1: two cards are not enough.
	a, _ := f.reg.Begin(ctx, so, "issuing", 0)
	f.presentCard(t, a, "alice")
	f.presentCard(t, a, "carol")
	if err := a.Complete(ctx, f.ks.Activate, f.ks.Deactivate); sceau.KindOf(err) != sceau.Denied || f.ks.Active() {
		t.Fatalf("two cards: %v, active %v", err, f.ks.Active())
	}
	// Two cards and a file.
	a, _ = f.reg.Begin(ctx, so, "issuing", 0)
	f.presentCard(t, a, "bob")
	if err := a.Present(ctx, "erin", f.files["erin"], f.pins["erin"]); err != nil {
		t.Fatal(err)
	}
	f.presentCard(t, a, "alice")
	if err := a.Complete(ctx, f.ks.Activate, f.ks.Deactivate); err != nil || !f.ks.Active() {
		t.Fatalf("three holders: %v", err)
	}
	recs, _ := audit.Read(ctx, f.db, 0, 100)
	cardEvents := 0
	for _, r := range recs {
		if r.Action == "key.share_presented" && strings.Contains(string(r.Details), `"carrier":"card"`) {
			cardEvents++
		}
	}
	if cardEvents != 4 {
		t.Errorf("%d share_presented events from cards, want 4", cardEvents)
	}
}

// The card, not Sceau, checks and counts the PIN; the share object is
// private (invisible without the PIN) and never overwritten; an unknown
// card, a card without the share and a share of another key are refused
// with clear errors that never hold the PIN (KEY-2).
func TestKEY2_CardRefusals(t *testing.T) {
	ctx := context.Background()
	f := newCardFixture(t)
	alice := f.cards["alice"]

	wrong := []byte("wrong-card-pin-0000")
	_, err := quorum.ReadCard(alice, "issuing", "alice", wrong)
	if !errors.Is(err, quorum.ErrCardWrongPIN) || sceau.KindOf(err) != sceau.Denied || strings.Contains(err.Error(), string(wrong)) {
		t.Fatalf("wrong card PIN: %v", err)
	}
	sp, _ := f.reg.Lookup(ctx, "issuing")
	if sp.Holders[0].Failures != 0 {
		t.Errorf("Sceau counted the card's wrong PIN: %d", sp.Holders[0].Failures)
	}

	cases := []struct {
		name   string
		card   quorum.Card
		key    string
		kind   sceau.Kind
		want   string
		target error
	}{
		{"unknown card", quorum.Card{Module: f.module, Token: "mallory-card"}, "issuing", sceau.NotFound, `no card "mallory-card"`, nil},
		{"unknown serial", quorum.Card{Module: f.module, Serial: "0000"}, "issuing", sceau.NotFound, "serial 0000", nil},
		{"no share of that key", alice, "ca-other", sceau.NotFound, "it holds: issuing alice; root alice", quorum.ErrNoCardShare},
		{"missing module", quorum.Card{Module: "/nonexistent/libpkcs11.so", Token: "alice-card"}, "issuing", sceau.Unavailable, "cannot load", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := quorum.ReadCard(c.card, c.key, "alice", f.pins["alice"])
			if sceau.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.want) || (c.target != nil && !errors.Is(err, c.target)) {
				t.Fatalf("got %v (%v), want %v %q", err, sceau.KindOf(err), c.kind, c.want)
			}
			if strings.Contains(err.Error(), string(f.pins["alice"])) {
				t.Fatal("the PIN is in the error")
			}
		})
	}
	if err := quorum.WriteCard(alice, "issuing", "alice", f.shares[0], f.pins["alice"]); sceau.KindOf(err) != sceau.Conflict {
		t.Errorf("a share was overwritten: %v", err)
	}
	if _, err := quorum.ParseCard("", "alice-card"); sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("a card without module: %v", err)
	}

	// Without login the share object cannot even be seen.
	if n := visibleWithoutLogin(t, f.module, "alice-card"); n != 0 {
		t.Errorf("%d share objects are visible without the card's PIN", n)
	}

	a, _ := f.reg.Begin(ctx, so, "issuing", 10*time.Minute)
	// A share of another key, read from alice's own card.
	rootShare, err := quorum.ReadCard(alice, "root", "alice", f.pins["alice"])
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PresentCard(ctx, "alice", rootShare); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("another key's card share: %v", err)
	}
	// Bob's card share presented as carol's.
	bobShare, _ := quorum.ReadCard(f.cards["bob"], "issuing", "bob", f.pins["bob"])
	if err := a.PresentCard(ctx, "carol", bobShare); err == nil || !strings.Contains(err.Error(), "card share of bob") {
		t.Errorf("another holder's card share: %v", err)
	}
	// Dave's share was issued in a file: a card share of it is refused.
	if err := a.PresentCard(ctx, "dave", quorum.NewCardShare(f.shares[3], "issuing", "dave")); err == nil || !strings.Contains(err.Error(), "issued on a file carrier") {
		t.Errorf("a file holder presenting a card share: %v", err)
	}
	// And alice's card share cannot be passed off as a share file.
	if err := a.Present(ctx, "alice", f.files["dave"], f.pins["dave"]); err == nil || !strings.Contains(err.Error(), "issued on a card carrier") {
		t.Errorf("a card holder presenting a file: %v", err)
	}
	if err := a.CardRefused(ctx, "bob", "wrong PIN"); err != nil {
		t.Fatal(err)
	}
	if a.Need() != 3 {
		t.Fatalf("refused shares were counted: need %d", a.Need())
	}
	recs, _ := audit.Read(ctx, f.db, 0, 100)
	refused := 0
	for _, r := range recs {
		if r.Action == "key.share_refused" {
			refused++
		}
		if strings.Contains(string(r.Details), string(f.pins["alice"])) {
			t.Fatal("a card PIN reached the journal")
		}
	}
	if refused != 5 {
		t.Errorf("%d key.share_refused events, want 5", refused)
	}

	// Erasing removes the share; a new one can then be written.
	if err := quorum.EraseCard(alice, "root", "alice", f.pins["alice"]); err != nil {
		t.Fatal(err)
	}
	if _, err := quorum.ReadCard(alice, "root", "alice", f.pins["alice"]); !errors.Is(err, quorum.ErrNoCardShare) {
		t.Errorf("after erase: %v", err)
	}
}

// visibleWithoutLogin counts the data objects a session that did not log
// in sees on the token labelled label.
func visibleWithoutLogin(t *testing.T, module, label string) int {
	t.Helper()
	p := pkcs11.New(module)
	if err := p.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer p.Destroy()
	defer p.Finalize()
	slots, _ := p.GetSlotList(true)
	for _, s := range slots {
		info, _ := p.GetTokenInfo(s)
		if strings.TrimRight(info.Label, " ") != label {
			continue
		}
		sess, err := p.OpenSession(s, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		defer p.CloseSession(sess)
		p.FindObjectsInit(sess, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA)})
		objs, _, _ := p.FindObjects(sess, 10)
		p.FindObjectsFinal(sess)
		return len(objs)
	}
	t.Fatalf("no token %s", label)
	return 0
}
