package quorum

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// Limits on a split (KEY-2: 2 <= m <= n <= 16).
const (
	MinThreshold = 2
	MaxShares    = 16
)

// Share is one share of a split secret.
type Share struct {
	SetID     [16]byte // identifies the split; all shares of one split share it
	Threshold int      // m
	Total     int      // n
	X         byte     // 1..n, the evaluation point
	Y         []byte   // one byte per secret byte
}

// Errors of Combine; each names a rule of KEY-2.
var (
	ErrTooFewShares   = errors.New("quorum: fewer shares than the threshold")
	ErrDuplicateShare = errors.New("quorum: the same share was presented twice")
	ErrMixedShares    = errors.New("quorum: the shares belong to different splits")
	ErrBadShare       = errors.New("quorum: malformed share")
)

// Split divides secret into n shares, any m of which reconstruct it.
// rand nil means crypto/rand.
func Split(secret []byte, m, n int, r io.Reader) ([]Share, error) {
	if m < MinThreshold || n < m || n > MaxShares {
		return nil, fmt.Errorf("quorum: threshold %d of %d is outside 2 <= m <= n <= 16", m, n)
	}
	if len(secret) == 0 {
		return nil, errors.New("quorum: empty secret")
	}
	if r == nil {
		r = rand.Reader
	}
	var set [16]byte
	if _, err := io.ReadFull(r, set[:]); err != nil {
		return nil, err
	}
	shares := make([]Share, n)
	for i := range shares {
		shares[i] = Share{SetID: set, Threshold: m, Total: n, X: byte(i + 1), Y: make([]byte, len(secret))}
	}
	coeffs := make([]byte, m) // coeffs[0] is the secret byte
	defer wipe(coeffs)
	for j, s := range secret {
		coeffs[0] = s
		if _, err := io.ReadFull(r, coeffs[1:]); err != nil {
			return nil, err
		}
		for i := range shares {
			shares[i].Y[j] = eval(coeffs, shares[i].X)
		}
	}
	return shares, nil
}

// eval computes the polynomial at x by Horner's rule.
func eval(coeffs []byte, x byte) byte {
	var y byte
	for i := len(coeffs) - 1; i >= 0; i-- {
		y = gfMul(y, x) ^ coeffs[i]
	}
	return y
}

// Combine reconstructs the secret from at least Threshold shares of one
// split. It refuses fewer shares, duplicates and shares of another split.
// The caller must wipe the result after use.
func Combine(shares []Share) ([]byte, error) {
	if len(shares) == 0 {
		return nil, ErrTooFewShares
	}
	first := shares[0]
	if first.Threshold < MinThreshold || first.Total > MaxShares || first.Threshold > first.Total {
		return nil, ErrBadShare
	}
	seen := map[byte]bool{}
	for _, s := range shares {
		if s.SetID != first.SetID || s.Threshold != first.Threshold || s.Total != first.Total {
			return nil, ErrMixedShares
		}
		if s.X == 0 || int(s.X) > s.Total || len(s.Y) != len(first.Y) || len(s.Y) == 0 {
			return nil, ErrBadShare
		}
		if seen[s.X] {
			return nil, ErrDuplicateShare
		}
		seen[s.X] = true
	}
	if len(shares) < first.Threshold {
		return nil, fmt.Errorf("%w: %d of %d", ErrTooFewShares, len(shares), first.Threshold)
	}
	use := shares[:first.Threshold]
	// Lagrange basis at 0: l_i = prod_{j != i} x_j / (x_j - x_i); in
	// GF(2^8) subtraction is XOR. The x values are public.
	basis := make([]byte, len(use))
	for i := range use {
		num, den := byte(1), byte(1)
		for j := range use {
			if i == j {
				continue
			}
			num = gfMul(num, use[j].X)
			den = gfMul(den, use[j].X^use[i].X)
		}
		basis[i] = gfMul(num, gfInv(den))
	}
	secret := make([]byte, len(first.Y))
	for k := range secret {
		var acc byte
		for i := range use {
			acc ^= gfMul(basis[i], use[i].Y[k])
		}
		secret[k] = acc
	}
	return secret, nil
}

// wipe overwrites b with zeros.
func wipe(b []byte) { subtle.XORBytes(b, b, b) }
