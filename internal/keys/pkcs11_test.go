//go:build cgo

package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

var _ ca.KeyStore = (*keys.PKCS11Store)(nil)

// activeToken gives the test a fresh SoftHSM2 token and a store activated
// on it, deactivated when the test ends.
func activeToken(t *testing.T) (*keys.PKCS11Store, keys.PKCS11Config, string) {
	t.Helper()
	module, label, pin := sceautest.SoftHSM(t)
	cfg := keys.PKCS11Config{Module: module, TokenLabel: label}
	s := keys.OpenPKCS11(cfg)
	if err := s.Activate([]byte(pin)); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	t.Cleanup(s.Deactivate)
	return s, cfg, pin
}

func generate(t *testing.T, s *keys.PKCS11Store, label string, kt keys.Type) crypto.Signer {
	t.Helper()
	k, err := s.Generate(label, kt)
	if err != nil {
		t.Fatalf("Generate(%q, %s): %v", label, kt, err)
	}
	if got, err := keys.TypeOf(k.Public()); err != nil || got != kt {
		t.Fatalf("Generate(%q, %s) made a %s key (%v)", label, kt, got, err)
	}
	return k
}

// signVerify signs a fixed message with k and checks the signature with the
// standard library.
func signVerify(k crypto.Signer) error {
	d := sha256.Sum256([]byte("sceau"))
	sig, err := k.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		return err
	}
	switch pub := k.Public().(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, d[:], sig) {
			return errors.New("ECDSA signature does not verify")
		}
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig); err != nil {
			return fmt.Errorf("RSA signature does not verify: %v", err)
		}
	}
	return nil
}

// rawToken logs in to the token with github.com/miekg/pkcs11 directly, to
// look at objects the way another PKCS#11 application would. No store of
// the process may be activated: they would share the module.
func rawToken(t *testing.T, cfg keys.PKCS11Config, pin string) (*pkcs11.Ctx, pkcs11.SessionHandle) {
	t.Helper()
	p := pkcs11.New(cfg.Module)
	if p == nil {
		t.Fatalf("cannot load %s", cfg.Module)
	}
	if err := p.Initialize(); err != nil {
		p.Destroy()
		t.Fatalf("C_Initialize: %v", err)
	}
	t.Cleanup(func() { p.Finalize(); p.Destroy() })
	slots, err := p.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, slot := range slots {
		info, err := p.GetTokenInfo(slot)
		if err != nil || info.Label != cfg.TokenLabel {
			continue
		}
		sh, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Login(sh, pkcs11.CKU_USER, pin); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Logout(sh); p.CloseSession(sh) })
		return p, sh
	}
	t.Fatalf("no token %q", cfg.TokenLabel)
	return nil, 0
}

func findObjects(t *testing.T, p *pkcs11.Ctx, sh pkcs11.SessionHandle, class uint, label string) []pkcs11.ObjectHandle {
	t.Helper()
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class), pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}
	if err := p.FindObjectsInit(sh, tmpl); err != nil {
		t.Fatal(err)
	}
	defer p.FindObjectsFinal(sh)
	objs, _, err := p.FindObjects(sh, 10)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

var attrNames = map[uint]string{
	pkcs11.CKA_TOKEN: "CKA_TOKEN", pkcs11.CKA_PRIVATE: "CKA_PRIVATE", pkcs11.CKA_SENSITIVE: "CKA_SENSITIVE",
	pkcs11.CKA_ALWAYS_SENSITIVE: "CKA_ALWAYS_SENSITIVE", pkcs11.CKA_EXTRACTABLE: "CKA_EXTRACTABLE",
	pkcs11.CKA_NEVER_EXTRACTABLE: "CKA_NEVER_EXTRACTABLE", pkcs11.CKA_SIGN: "CKA_SIGN",
	pkcs11.CKA_DECRYPT: "CKA_DECRYPT", pkcs11.CKA_UNWRAP: "CKA_UNWRAP",
}

func TestKEY1_PKCS11GeneratesNonExtractableKeysInToken(t *testing.T) {
	s, cfg, pin := activeToken(t)
	types := map[string]keys.Type{"ca-p256": keys.ECDSAP256, "ca-p384": keys.ECDSAP384, "ca-rsa2048": keys.RSA2048}
	for label, kt := range types {
		k := generate(t, s, label, kt)
		if _, ok := k.(crypto.Decrypter); ok {
			t.Errorf("%s: the signer is also a crypto.Decrypter", label)
		}
	}
	s.Deactivate()

	p, sh := rawToken(t, cfg, pin)
	for label, kt := range types {
		t.Run(label, func(t *testing.T) {
			privs := findObjects(t, p, sh, pkcs11.CKO_PRIVATE_KEY, label)
			pubs := findObjects(t, p, sh, pkcs11.CKO_PUBLIC_KEY, label)
			if len(privs) != 1 || len(pubs) != 1 {
				t.Fatalf("found %d private and %d public key objects labelled %q, want 1 and 1", len(privs), len(pubs), label)
			}
			want := map[uint]bool{
				pkcs11.CKA_TOKEN:             true,
				pkcs11.CKA_PRIVATE:           true,
				pkcs11.CKA_SENSITIVE:         true,
				pkcs11.CKA_ALWAYS_SENSITIVE:  true,
				pkcs11.CKA_EXTRACTABLE:       false,
				pkcs11.CKA_NEVER_EXTRACTABLE: true,
				pkcs11.CKA_SIGN:              true,
			}
			if kt == keys.RSA2048 {
				want[pkcs11.CKA_DECRYPT] = false
				want[pkcs11.CKA_UNWRAP] = false
			}
			var tmpl []*pkcs11.Attribute
			for a := range want {
				tmpl = append(tmpl, pkcs11.NewAttribute(a, nil))
			}
			tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, nil))
			attrs, err := p.GetAttributeValue(sh, privs[0], tmpl)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range attrs {
				if a.Type == pkcs11.CKA_ID {
					if len(a.Value) < 16 {
						t.Errorf("CKA_ID is %x, want at least 16 random bytes", a.Value)
					}
					continue
				}
				if got := len(a.Value) == 1 && a.Value[0] == 1; got != want[a.Type] {
					t.Errorf("%s is %v, want %v", attrNames[a.Type], got, want[a.Type])
				}
			}
			// The private value cannot be read.
			secret := uint(pkcs11.CKA_VALUE)
			if kt == keys.RSA2048 {
				secret = pkcs11.CKA_PRIVATE_EXPONENT
			}
			_, err = p.GetAttributeValue(sh, privs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(secret, nil)})
			if !errors.Is(err, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_SENSITIVE)) {
				t.Errorf("reading the private value: got error %v, want CKR_ATTRIBUTE_SENSITIVE", err)
			}
		})
	}
}

// KEY-3: the store offers nothing but activation, generation, signing,
// and (KEY-4, KEY-6) wrapped backup, restore and destruction: BackupKey
// returns the key only as wrapped by the token under a split key.
func TestKEY3_PKCS11StoreExportsNoKey(t *testing.T) {
	typ := reflect.TypeFor[*keys.PKCS11Store]()
	var methods []string
	for m := range typ.Methods() {
		methods = append(methods, m.Name)
	}
	want := []string{"Activate", "Active", "BackupKey", "Deactivate", "DestroyKey", "Generate", "RestoreKey", "Signer"}
	if !slices.Equal(methods, want) {
		t.Errorf("PKCS11Store methods = %v, want %v: review any new one against KEY-3", methods, want)
	}
}

func TestKEY1_PKCS11SignsVerifiably(t *testing.T) {
	s, _, _ := activeToken(t)
	d256 := sha256.Sum256([]byte("sceau"))
	d384 := sha512.Sum384([]byte("sceau"))

	for _, kt := range []keys.Type{keys.ECDSAP256, keys.ECDSAP384} {
		k := generate(t, s, "ca-"+string(kt), kt)
		for _, d := range []struct {
			h      crypto.Hash
			digest []byte
		}{{crypto.SHA256, d256[:]}, {crypto.SHA384, d384[:]}} {
			sig, err := k.Sign(rand.Reader, d.digest, d.h)
			if err != nil {
				t.Fatalf("%s %v: %v", kt, d.h, err)
			}
			if !ecdsa.VerifyASN1(k.Public().(*ecdsa.PublicKey), d.digest, sig) {
				t.Errorf("%s %v: signature does not verify", kt, d.h)
			}
		}
	}

	rk := generate(t, s, "ca-rsa", keys.RSA2048)
	pub := rk.Public().(*rsa.PublicKey)
	maxSalt := (pub.N.BitLen()-1+7)/8 - 32 - 2
	for _, tc := range []struct {
		name   string
		opts   crypto.SignerOpts
		verify *rsa.PSSOptions // nil: PKCS#1 v1.5
	}{
		{"pkcs1v15", crypto.SHA256, nil},
		{"pss-equals-hash", &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}, &rsa.PSSOptions{SaltLength: 32}},
		{"pss-auto", &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256}, &rsa.PSSOptions{SaltLength: maxSalt}},
		{"pss-20", &rsa.PSSOptions{SaltLength: 20, Hash: crypto.SHA256}, &rsa.PSSOptions{SaltLength: 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := rk.Sign(rand.Reader, d256[:], tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.verify == nil {
				err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, d256[:], sig)
			} else {
				err = rsa.VerifyPSS(pub, crypto.SHA256, d256[:], sig, tc.verify)
			}
			if err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
		})
	}

	// Options crypto11 would get wrong silently are refused.
	for name, sign := range map[string]func() ([]byte, error){
		"unsupported hash": func() ([]byte, error) { return rk.Sign(nil, d256[:], crypto.SHA3_256) },
		"digest length":    func() ([]byte, error) { return rk.Sign(nil, d384[:], crypto.SHA256) },
		"pss salt": func() ([]byte, error) {
			return rk.Sign(nil, d256[:], &rsa.PSSOptions{SaltLength: maxSalt + 1, Hash: crypto.SHA256})
		},
	} {
		if _, err := sign(); sceau.KindOf(err) != sceau.Invalid {
			t.Errorf("%s: got %v, want kind Invalid", name, err)
		}
	}

	// The CA use: a root signed by itself, a leaf signed by the root.
	for _, tc := range []struct {
		label string
		kt    keys.Type
		alg   x509.SignatureAlgorithm
	}{
		{"root-p256", keys.ECDSAP256, x509.ECDSAWithSHA256},
		{"root-p384", keys.ECDSAP384, x509.ECDSAWithSHA384},
		{"root-rsa", keys.RSA2048, x509.SHA256WithRSA},
		{"root-rsa-pss", keys.RSA2048, x509.SHA256WithRSAPSS},
	} {
		t.Run(tc.label, func(t *testing.T) {
			k := generate(t, s, tc.label, tc.kt)
			now := time.Now()
			root := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: tc.label},
				NotBefore: now, NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
				KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SignatureAlgorithm: tc.alg}
			der, err := x509.CreateCertificate(rand.Reader, root, root, k.Public(), k)
			if err != nil {
				t.Fatal(err)
			}
			rootCert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := rootCert.CheckSignatureFrom(rootCert); err != nil {
				t.Fatalf("root: %v", err)
			}
			leafKey, _ := keys.ECDSAP256.Generate(nil)
			leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "leaf"},
				NotBefore: now, NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, SignatureAlgorithm: tc.alg}
			der, err = x509.CreateCertificate(rand.Reader, leaf, rootCert, leafKey.Public(), k)
			if err != nil {
				t.Fatal(err)
			}
			leafCert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := leafCert.CheckSignatureFrom(rootCert); err != nil {
				t.Fatalf("leaf: %v", err)
			}
		})
	}
}

func TestKEY5_PKCS11DeactivateRefusesSigning(t *testing.T) {
	s, cfg, pin := activeToken(t)
	k := generate(t, s, "ca-k5", keys.ECDSAP256)
	if err := signVerify(k); err != nil {
		t.Fatalf("active store: %v", err)
	}

	s.Deactivate()
	if s.Active() {
		t.Fatal("Active after Deactivate")
	}
	if err := signVerify(k); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("Sign after Deactivate: got %v, want ErrNotActivated", err)
	}
	if _, err := s.Signer("ca-k5"); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("Signer after Deactivate: got %v, want ErrNotActivated", err)
	}
	if _, err := s.Generate("ca-other", keys.ECDSAP256); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("Generate after Deactivate: got %v, want ErrNotActivated", err)
	}

	// A restarted service: a new store on the same token signs nothing
	// before activation.
	s2 := keys.OpenPKCS11(cfg)
	t.Cleanup(s2.Deactivate)
	if s2.Active() {
		t.Fatal("a new store is active before Activate")
	}
	if _, err := s2.Signer("ca-k5"); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("Signer before Activate: got %v, want ErrNotActivated", err)
	}
	if err := s2.Activate([]byte(pin)); err != nil {
		t.Fatal(err)
	}
	k2, err := s2.Signer("ca-k5")
	if err != nil {
		t.Fatal(err)
	}
	if !k2.Public().(*ecdsa.PublicKey).Equal(k.Public()) {
		t.Fatal("Signer found another key")
	}
	if err := signVerify(k2); err != nil {
		t.Fatalf("after Activate: %v", err)
	}
	if err := signVerify(k); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("the first store's signer signs while that store is deactivated: %v", err)
	}

	// While s2 holds the login, s cannot ride on it.
	if err := s.Activate([]byte("not-the-pin")); sceau.KindOf(err) != sceau.Conflict {
		t.Fatalf("second store on an activated token: got %v, want kind Conflict", err)
	}

	// Once the first store is activated again, its old signer finds the
	// key again.
	s2.Deactivate()
	if err := signVerify(k2); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("Sign after second Deactivate: got %v, want ErrNotActivated", err)
	}
	if err := s.Activate([]byte(pin)); err != nil {
		t.Fatal(err)
	}
	if err := signVerify(k); err != nil {
		t.Fatalf("old signer after reactivation: %v", err)
	}
}

func TestPKCS11Errors(t *testing.T) {
	module, label, pin := sceautest.SoftHSM(t)
	cfg := keys.PKCS11Config{Module: module, TokenLabel: label}

	// Activation errors, with no store activated on the token.
	const wrongPIN = "wrong-pin-4242"
	for _, tc := range []struct {
		name string
		cfg  keys.PKCS11Config
		pin  string
		want sceau.Kind
		in   string // the message names it
	}{
		{"wrong PIN", cfg, wrongPIN, sceau.Denied, "wrong PIN for token " + `"` + label + `"`},
		{"unknown token", keys.PKCS11Config{Module: module, TokenLabel: "no-such-token"}, pin, sceau.NotFound, "no-such-token"},
		{"missing module", keys.PKCS11Config{Module: "/nonexistent/libpkcs11.so", TokenLabel: label}, pin, sceau.Unavailable, "/nonexistent/libpkcs11.so"},
		{"one session", keys.PKCS11Config{Module: module, TokenLabel: label, MaxSessions: 1}, pin, sceau.Invalid, "max sessions"},
		{"no label", keys.PKCS11Config{Module: module}, pin, sceau.Invalid, "token label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := keys.OpenPKCS11(tc.cfg)
			defer s.Deactivate()
			err := s.Activate([]byte(tc.pin))
			if sceau.KindOf(err) != tc.want {
				t.Fatalf("got %v, want kind %v", err, tc.want)
			}
			if s.Active() {
				t.Error("active after a failed Activate")
			}
			t.Log(err)
			if msg := err.Error(); !strings.Contains(msg, tc.in) || strings.Contains(msg, tc.pin) {
				t.Errorf("message %q: want it to name %q and not hold the PIN", msg, tc.in)
			}
		})
	}

	s := keys.OpenPKCS11(cfg)
	if err := s.Activate([]byte(pin)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Deactivate)
	if err := s.Activate([]byte(pin)); sceau.KindOf(err) != sceau.Conflict {
		t.Errorf("Activate twice: got %v, want kind Conflict", err)
	}
	generate(t, s, "ca-exists", keys.ECDSAP256)
	for _, tc := range []struct {
		name string
		err  error
		want sceau.Kind
	}{
		{"existing label", second(s.Generate("ca-exists", keys.ECDSAP384)), sceau.Conflict},
		{"bad label", second(s.Generate("CA Root!", keys.ECDSAP256)), sceau.Invalid},
		{"bad type", second(s.Generate("ca-dsa", keys.Type("dsa-1024"))), sceau.Invalid},
		{"missing key", second(s.Signer("ca-missing")), sceau.NotFound},
	} {
		if sceau.KindOf(tc.err) != tc.want {
			t.Errorf("%s: got %v, want kind %v", tc.name, tc.err, tc.want)
		}
	}
	if _, err := s.Signer("ca-exists"); err != nil {
		t.Errorf("the key survives a refused Generate: %v", err)
	}
}

func second(_ crypto.Signer, err error) error { return err }

func TestPKCS11ConcurrentSigning(t *testing.T) {
	s, _, _ := activeToken(t)
	ks := []crypto.Signer{generate(t, s, "ca-ec", keys.ECDSAP256), generate(t, s, "ca-rsa", keys.RSA2048)}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			k := ks[g%len(ks)]
			for range 50 {
				if err := signVerify(k); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Deactivation in the middle of signatures: each one either completes
	// or answers ErrNotActivated.
	errs = make(chan error, 8*50)
	start := make(chan struct{})
	for g := range 8 {
		wg.Go(func() {
			<-start
			for range 50 {
				if err := signVerify(ks[g%len(ks)]); err != nil {
					errs <- err
				}
			}
		})
	}
	close(start)
	time.Sleep(5 * time.Millisecond)
	s.Deactivate()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, keys.ErrNotActivated) {
			t.Errorf("Sign during Deactivate: %v, want ErrNotActivated", err)
		}
	}
}
