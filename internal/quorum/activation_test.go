package quorum_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

type fixture struct {
	reg     *quorum.Registry
	ks      *keys.SoftStore
	files   map[string]*quorum.ShareFile
	pins    map[string][]byte
	clock   *sceautest.Clock
	db      *store.DB
	holders []string
}

var so = sceau.Actor{ID: "sophie", Role: "security officer"}

// newFixture splits a software keystore's secret 3 of 5 among five holders.
func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{clock: sceautest.NewClock(time.Now()), db: db, files: map[string]*quorum.ShareFile{}, pins: map[string][]byte{},
		holders: []string{"alice", "bob", "carol", "dave", "erin"}}
	f.reg = quorum.NewRegistry(db, audit.NewJournal(f.clock), f.clock)
	secret := []byte("keystore activation secret 0123456789")
	f.ks = keys.OpenSoftStore(filepath.Join(t.TempDir(), "keys"))
	if err := f.ks.Init(secret); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ks.Generate("ca-issuing", keys.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	f.ks.Deactivate()
	shares, err := quorum.Split(secret, 3, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range f.holders {
		f.pins[h] = []byte("PIN of " + h)
		if f.files[h], err = quorum.Seal(shares[i], "issuing", h, f.pins[h]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.reg.Register(context.Background(), so, "issuing", shares, f.holders, "file"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) present(t *testing.T, a *quorum.Activation, holders ...string) {
	t.Helper()
	for _, h := range holders {
		if err := a.Present(context.Background(), h, f.files[h], f.pins[h]); err != nil {
			t.Fatalf("%s presents: %v", h, err)
		}
	}
}

func (f *fixture) complete(a *quorum.Activation) error {
	return a.Complete(context.Background(), f.ks.Activate, f.ks.Deactivate)
}

func TestKEY2_ThresholdMinusOneFails(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a, err := f.reg.Begin(ctx, so, "issuing", 0)
		if err != nil {
			t.Fatal(err)
		}
		f.present(t, a, "alice", "bob")
		err = f.complete(a)
		if sceau.KindOf(err) != sceau.Denied || !strings.Contains(err.Error(), "needs 3 of 5") || !strings.Contains(err.Error(), "alice") {
			t.Fatalf("2 of 3: %v", err)
		}
		if f.ks.Active() {
			t.Fatal("the keystore was activated by 2 holders")
		}
		// A fresh activation with three holders works.
		a, _ = f.reg.Begin(ctx, so, "issuing", 0)
		f.present(t, a, "carol", "alice", "erin")
		if err := f.complete(a); err != nil {
			t.Fatal(err)
		}
		if !f.ks.Active() {
			t.Fatal("3 holders did not activate the keystore")
		}
		var events []string
		recs, _ := audit.Read(ctx, db, 0, 100)
		for _, r := range recs {
			events = append(events, r.Action)
		}
		for _, want := range []string{"key.activation_refused", "key.activated", "key.share_presented"} {
			if !strings.Contains(strings.Join(events, ","), want) {
				t.Errorf("no %s event in %v", want, events)
			}
		}
	})
}

func TestKEY2_RefusedPresentations(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, sceautest.OpenSQLite(t))
	a, err := f.reg.Begin(ctx, so, "issuing", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f.present(t, a, "alice")
	other, _ := quorum.Split([]byte("another key's secret"), 2, 2, nil)
	foreign, _ := quorum.Seal(other[0], "root", "bob", f.pins["bob"])
	cases := []struct {
		name, holder string
		file         *quorum.ShareFile
		pin          []byte
		want         string
	}{
		{"same holder twice", "alice", f.files["alice"], f.pins["alice"], "presented a share already"},
		{"unknown holder", "mallory", f.files["bob"], f.pins["bob"], "holds no share"},
		{"another holder's file", "bob", f.files["carol"], f.pins["carol"], "presented the share of carol"},
		{"share of another key", "bob", foreign, f.pins["bob"], "another key"},
		{"wrong PIN", "bob", f.files["bob"], []byte("not bob's PIN"), "wrong PIN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := a.Present(ctx, c.holder, c.file, c.pin)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), string(c.pin)) {
				t.Fatal("the PIN is in the error")
			}
		})
	}
	if a.Need() != 2 {
		t.Fatalf("refused shares counted: need %d", a.Need())
	}
	// The window closes.
	f.clock.Advance(11 * time.Minute)
	if err := a.Present(ctx, "bob", f.files["bob"], f.pins["bob"]); err == nil || !strings.Contains(err.Error(), "window") {
		t.Fatalf("after the window: %v", err)
	}
}

func TestKEY2_FiveWrongPINsLockTheShare(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, sceautest.OpenSQLite(t))
	a, _ := f.reg.Begin(ctx, so, "issuing", 0)
	for i := 1; i <= quorum.MaxFailures; i++ {
		err := a.Present(ctx, "bob", f.files["bob"], []byte(fmt.Sprintf("guess number %d", i)))
		if err == nil {
			t.Fatal("a wrong PIN was accepted")
		}
		if i == quorum.MaxFailures && !strings.Contains(err.Error(), "locked") {
			t.Fatalf("fifth wrong PIN: %v", err)
		}
	}
	if err := a.Present(ctx, "bob", f.files["bob"], f.pins["bob"]); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("the right PIN on a locked share: %v", err)
	}
	if err := f.reg.Unlock(ctx, so, "issuing", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := a.Present(ctx, "bob", f.files["bob"], f.pins["bob"]); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}
