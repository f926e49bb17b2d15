package quorum

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

// FIPS-197 §4.2 gives 0x57 • 0x83 = 0xc1 and 0x57 • 0x13 = 0xfe.
func TestGF256KnownAnswers(t *testing.T) {
	for _, c := range []struct{ a, b, want byte }{{0x57, 0x83, 0xc1}, {0x57, 0x13, 0xfe}, {0x57, 0x02, 0xae}, {0x01, 0xff, 0xff}, {0, 0x42, 0}} {
		if got := gfMul(c.a, c.b); got != c.want {
			t.Errorf("%#x * %#x = %#x, want %#x", c.a, c.b, got, c.want)
		}
	}
	for a := 1; a < 256; a++ {
		if gfMul(byte(a), gfInv(byte(a))) != 1 {
			t.Fatalf("inverse of %#x is wrong", a)
		}
	}
}

// A split with fixed "random" coefficients has shares computable by hand:
// for the byte 0x2a and polynomial 0x2a + 0x07 x, share x is 0x2a ^ 7•x.
func TestShamirKnownAnswer(t *testing.T) {
	r := bytes.NewReader(append(make([]byte, 16), 0x07))
	shares, err := Split([]byte{0x2a}, 2, 3, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x2a ^ 0x07, 0x2a ^ 0x0e, 0x2a ^ 0x09} // 7•1, 7•2 = 0x0e, 7•3 = 0x09
	for i, s := range shares {
		if s.Y[0] != want[i] {
			t.Errorf("share %d = %#x, want %#x", s.X, s.Y[0], want[i])
		}
	}
	got, err := Combine([]Share{shares[2], shares[0]})
	if err != nil || got[0] != 0x2a {
		t.Fatalf("combine: %x %v", got, err)
	}
}

// subsets calls fn with every subset of {0..n-1} as a slice of indices.
func subsets(n int, fn func([]int)) {
	for mask := 1; mask < 1<<n; mask++ {
		var idx []int
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				idx = append(idx, i)
			}
		}
		fn(idx)
	}
}

func TestKEY2_AnyMOfNReconstructsAndEveryMinusOneSubsetFails(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	for n := 2; n <= 6; n++ {
		for m := 2; m <= n; m++ {
			shares, err := Split(secret, m, n, nil)
			if err != nil {
				t.Fatal(err)
			}
			subsets(n, func(idx []int) {
				pick := make([]Share, len(idx))
				for i, k := range idx {
					pick[i] = shares[k]
				}
				got, err := Combine(pick)
				switch {
				case len(idx) >= m && (err != nil || !bytes.Equal(got, secret)):
					t.Errorf("%d of %d with shares %v: %v", m, n, idx, err)
				case len(idx) < m && !errors.Is(err, ErrTooFewShares):
					t.Errorf("%d of %d with only %v: %v, want ErrTooFewShares", m, n, idx, err)
				}
			})
		}
	}
}

func TestKEY2_DuplicateAndMixedSharesRefused(t *testing.T) {
	a, _ := Split([]byte("secret one"), 2, 3, nil)
	b, _ := Split([]byte("secret two"), 2, 3, nil)
	if _, err := Combine([]Share{a[0], a[0]}); !errors.Is(err, ErrDuplicateShare) {
		t.Errorf("same share twice: %v", err)
	}
	if _, err := Combine([]Share{a[0], b[1]}); !errors.Is(err, ErrMixedShares) {
		t.Errorf("shares of two splits: %v", err)
	}
	bad := a[1]
	bad.X = 9
	if _, err := Combine([]Share{a[0], bad}); !errors.Is(err, ErrBadShare) {
		t.Errorf("x out of range: %v", err)
	}
	for _, c := range []struct{ m, n int }{{1, 3}, {4, 3}, {2, 17}} {
		if _, err := Split([]byte("x"), c.m, c.n, nil); err == nil {
			t.Errorf("Split %d of %d accepted", c.m, c.n)
		}
	}
}

func FuzzKEY2_Combine(f *testing.F) {
	f.Add([]byte("activation secret"), uint8(3), uint8(5), uint8(0b10101))
	f.Add([]byte{0}, uint8(2), uint8(2), uint8(0b11))
	f.Fuzz(func(t *testing.T, secret []byte, m, n, pick uint8) {
		if len(secret) == 0 || len(secret) > 64 {
			return
		}
		mm, nn := int(m%15)+2, int(n%15)+2
		if mm > nn {
			mm, nn = nn, mm
		}
		shares, err := Split(secret, mm, nn, nil)
		if err != nil {
			t.Fatal(err)
		}
		var chosen []Share
		for i := 0; i < nn && i < 8; i++ {
			if pick&(1<<i) != 0 {
				chosen = append(chosen, shares[i])
			}
		}
		got, err := Combine(chosen)
		if len(chosen) >= mm {
			if err != nil || !bytes.Equal(got, secret) {
				t.Fatalf("%d of %d from %d shares: %v", mm, nn, len(chosen), err)
			}
		} else if err == nil {
			t.Fatalf("%d shares reconstructed a %d-of-%d secret", len(chosen), mm, nn)
		}
	})
}
