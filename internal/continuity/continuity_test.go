package continuity_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/continuity"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// fixture is a small installation: a database with a registered audit key
// and some events, and a data directory with a config, a sealed keystore
// file, a PEM key in clear and a secret.
type fixture struct {
	db       *store.DB
	dataDir  string
	signer   crypto.Signer
	id       *age.X25519Identity
	target   continuity.Dir
	opts     continuity.Options
	clearKey string
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	j := audit.NewJournal(nil)
	if _, _, err := audit.RegisterKey(ctx, db, j, sceau.System("test"), "audit-signing", key.Public()); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return j.Append(ctx, tx, audit.Event{Actor: sceau.System("test"), Action: "service.started", Object: "service:sceau", Details: map[string]any{"i": i}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{db: db, dataDir: t.TempDir(), signer: key}
	write := func(rel, body string) {
		p := filepath.Join(f.dataDir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("sceau.yaml", "data_dir: .\n")
	write("keys/keystore.json", `{"sealed":"AAAA"}`)
	write("keys/ca-issuing.key", `{"nonce":"x","ciphertext":"y"}`)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	f.clearKey = "admin/operator-key.pem"
	write(f.clearKey, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	write("secrets/keystore.secret", "the activation secret\n")
	f.id, _ = age.GenerateX25519Identity()
	f.target = continuity.Dir(t.TempDir())
	f.opts = continuity.Options{Node: "test", DB: db, DataDir: f.dataDir, Recipients: []string{f.id.Recipient().String()}, Signer: key,
		Skip: []continuity.Excluded{{Path: filepath.Join(f.dataDir, "secrets"), Reason: "a secret"}}}
	return f
}

func (f *fixture) create(t *testing.T) *continuity.Result {
	t.Helper()
	res, err := continuity.Create(context.Background(), f.target, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCONT1_BackupRoundTripsAndLeavesKeysOut: a backup decrypts with the
// second site's identity, its manifest verifies, every file comes back
// byte for byte, the SQLite snapshot opens with the journal head the
// manifest states, and the PEM key in clear and the secret are left out
// and named.
func TestCONT1_BackupRoundTripsAndLeavesKeysOut(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, sceautest.OpenSQLite(t))
	res := f.create(t)
	head, _, _ := audit.Head(ctx, f.db)
	if res.Manifest.JournalSeq != head || res.Manifest.Engine != "sqlite" {
		t.Errorf("manifest: journal %d (head %d), engine %s", res.Manifest.JournalSeq, head, res.Manifest.Engine)
	}
	excluded := map[string]string{}
	for _, x := range res.Manifest.Excluded {
		excluded[x.Path] = x.Reason
	}
	if excluded[f.clearKey] != continuity.ReasonClearKey || excluded["secrets/keystore.secret"] != "a secret" {
		t.Errorf("excluded: %v", excluded)
	}
	names, err := continuity.Backups(ctx, f.target)
	if err != nil || len(names) != 1 || names[0] != res.Name {
		t.Fatalf("Backups: %v %v", names, err)
	}
	if m, _, err := continuity.ReadSidecar(ctx, f.target, res.Name); err != nil || m.JournalSeq != head {
		t.Errorf("sidecar: %v %v", m, err)
	}
	stage := filepath.Join(t.TempDir(), "stage")
	o, err := continuity.Extract(ctx, f.target, res.Name, []age.Identity{f.id}, stage)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"sceau.yaml", "keys/keystore.json", "keys/ca-issuing.key"} {
		want, _ := os.ReadFile(filepath.Join(f.dataDir, rel))
		got, err := os.ReadFile(filepath.Join(o.DataDir(), rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s did not come back: %v", rel, err)
		}
	}
	for _, rel := range []string{f.clearKey, "secrets/keystore.secret"} {
		if _, err := os.Stat(filepath.Join(o.DataDir(), rel)); err == nil {
			t.Errorf("%s is in the backup", rel)
		}
	}
	snap, err := store.Open(ctx, store.SQLite, o.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if h, _, err := audit.Head(ctx, snap); err != nil || h != head {
		t.Errorf("the snapshot's head: %d %v, want %d", h, err, head)
	}
	if err := continuity.Trusted(ctx, snap, o.Signed); err != nil {
		t.Errorf("Trusted: %v", err)
	}
	if res, err := audit.Verify(ctx, snap); err != nil || !res.OK() {
		t.Errorf("the snapshot's journal: %+v %v", res, err)
	}
	// A restore goes into an empty directory only.
	if err := continuity.CheckEmpty(f.dataDir); sceau.KindOf(err) != sceau.Conflict {
		t.Errorf("CheckEmpty of a full directory: %v", err)
	}
}

// TestCONT1_DamagedBackupIsRefused: one byte changed anywhere, a wrong
// identity, a truncated file, a manifest signed by a stranger: each is
// refused with what is wrong, and the staging directory is removed.
func TestCONT1_DamagedBackupIsRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, sceautest.OpenSQLite(t))
	res := f.create(t)
	orig, err := os.ReadFile(filepath.Join(string(f.target), res.Name))
	if err != nil {
		t.Fatal(err)
	}
	side, err := os.ReadFile(filepath.Join(string(f.target), res.Name+continuity.SidecarSuffix))
	if err != nil {
		t.Fatal(err)
	}
	try := func(t *testing.T, b []byte, ids ...age.Identity) error {
		t.Helper()
		d := continuity.Dir(t.TempDir())
		os.WriteFile(filepath.Join(string(d), res.Name), b, 0o600)
		os.WriteFile(filepath.Join(string(d), res.Name+continuity.SidecarSuffix), side, 0o600)
		if len(ids) == 0 {
			ids = []age.Identity{f.id}
		}
		stage := filepath.Join(t.TempDir(), "stage")
		o, err := continuity.Extract(ctx, d, res.Name, ids, stage)
		if err == nil {
			t.Fatalf("accepted: %+v", o.Manifest)
		}
		if _, serr := os.Stat(stage); serr == nil {
			t.Errorf("the staging directory is left after a refusal")
		}
		return err
	}
	for _, at := range []int{10, 100, len(orig) / 3, len(orig) / 2, len(orig) - 20, len(orig) - 1} {
		b := bytes.Clone(orig)
		b[at] ^= 0x01
		err := try(t, b)
		if sceau.KindOf(err) != sceau.Invalid || !(strings.Contains(err.Error(), "damaged") || strings.Contains(err.Error(), "altered")) {
			t.Errorf("byte %d of %d changed: %v", at, len(orig), err)
		}
	}
	for _, n := range []int{len(orig) - 1, len(orig) - 100, len(orig) / 2, 200} {
		err := try(t, orig[:n])
		if sceau.KindOf(err) != sceau.Invalid || !(strings.Contains(err.Error(), "truncated") || strings.Contains(err.Error(), "damaged")) {
			t.Errorf("truncated at %d of %d: %v", n, len(orig), err)
		}
	}
	other, _ := age.GenerateX25519Identity()
	if err := try(t, orig, other); sceau.KindOf(err) != sceau.Denied || !strings.Contains(err.Error(), "none of the identities") {
		t.Errorf("a wrong identity: %v", err)
	}
	// Encrypted to the right recipient and well formed, but signed by a key
	// the journal never registered: refused by Trusted.
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	o2 := f.opts
	o2.Signer = stranger
	d2 := continuity.Dir(t.TempDir())
	res2, err := continuity.Create(ctx, d2, o2)
	if err != nil {
		t.Fatal(err)
	}
	opened, err := continuity.Extract(ctx, d2, res2.Name, []age.Identity{f.id}, filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	if err := continuity.Trusted(ctx, f.db, opened.Signed); sceau.KindOf(err) != sceau.Denied {
		t.Errorf("a manifest signed by a stranger: %v", err)
	}
	// A changed clear manifest beside it is refused too.
	sidePath := filepath.Join(string(f.target), res.Name+continuity.SidecarSuffix)
	os.WriteFile(sidePath, bytes.Replace(side, []byte(`"test`), []byte(`"tost`), 1), 0o600)
	if _, _, err := continuity.ReadSidecar(ctx, f.target, res.Name); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Errorf("an altered sidecar: %v", err)
	}
}

// failingTarget is a directory whose writes fail with err after n bytes.
type failingTarget struct {
	continuity.Dir
	n   int
	err error
}

func (f failingTarget) Put(ctx context.Context, name string, write func(w io.Writer) error) error {
	return f.Dir.Put(ctx, name, func(w io.Writer) error { return write(&failingWriter{w: w, left: f.n, err: f.err}) })
}

type failingWriter struct {
	w    io.Writer
	left int
	err  error
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n, _ := f.w.Write(p[:f.left])
		f.left = 0
		return n, f.err
	}
	f.left -= len(p)
	return f.w.Write(p)
}

// TestCONT1_ATargetDownOrFullIsReported: a target that is not there is
// reported and not created; a target that fills up mid-write is reported
// as full, leaves no partial file, and the earlier backup stays whole.
func TestCONT1_ATargetDownOrFullIsReported(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, sceautest.OpenSQLite(t))
	first := f.create(t)
	missing := continuity.Dir(filepath.Join(t.TempDir(), "not-mounted"))
	if _, err := continuity.Create(ctx, missing, f.opts); sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(err.Error(), "is the second site mounted") {
		t.Errorf("a missing target: %v", err)
	}
	if _, err := os.Stat(string(missing)); err == nil {
		t.Error("the missing target was created")
	}
	full := failingTarget{Dir: f.target, n: 50_000, err: &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}}
	f.opts.Clock = sceautest.NewClock(first.Manifest.CreatedAt.Add(3600e9))
	_, err := continuity.Create(ctx, full, f.opts)
	if sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(err.Error(), "the target is full") || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("a full target: %v", err)
	}
	entries, _ := os.ReadDir(string(f.target))
	if len(entries) != 2 {
		t.Errorf("the target holds %d files after the failure, want the first backup and its manifest", len(entries))
	}
	if _, err := continuity.Extract(ctx, f.target, first.Name, []age.Identity{f.id}, filepath.Join(t.TempDir(), "s")); err != nil {
		t.Errorf("the earlier backup after a failed one: %v", err)
	}
	// Never overwritten.
	f.opts.Clock = sceautest.NewClock(first.Manifest.CreatedAt)
	if _, err := continuity.Create(ctx, f.target, f.opts); sceau.KindOf(err) != sceau.Conflict {
		t.Errorf("a second backup of the same name: %v", err)
	}
}

// TestCONT1_ClearPrivateKeyIsRecognised: what the backup leaves out.
func TestCONT1_ClearPrivateKeyIsRecognised(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	sec1, _ := x509.MarshalECPrivateKey(key)
	pub, _ := x509.MarshalPKIXPublicKey(key.Public())
	for name, c := range map[string]struct {
		b    []byte
		want bool
	}{
		"pkcs8 pem":     {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), true},
		"sec1 pem":      {pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), true},
		"after a cert":  {append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pub}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})...), true},
		"pkcs8 der":     {p8, true},
		"sec1 der":      {sec1, true},
		"broken pem":    {[]byte("-----BEGIN PRIVATE KEY-----\nnot base64\n"), true},
		"encrypted pem": {pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("sealed")}), false},
		"public key":    {pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), false},
		"sealed json":   {[]byte(`{"nonce":"x","ciphertext":"y"}`), false},
	} {
		if got := continuity.ClearPrivateKey(c.b); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}
