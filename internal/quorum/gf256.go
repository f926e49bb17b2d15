package quorum

// Arithmetic in GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1,
// written without secret-dependent branches or table lookups.

// gfMul multiplies a and b in constant time.
func gfMul(a, b byte) byte {
	var p byte
	for i := 0; i < 8; i++ {
		// mask is 0xff when the low bit of b is set, else 0.
		mask := -(b & 1)
		p ^= a & mask
		// Multiply a by x, reducing by the polynomial when the top bit overflows.
		hi := -(a >> 7)
		a = (a << 1) ^ (0x1b & hi)
		b >>= 1
	}
	return p
}

// gfInv returns the inverse of a (a^254); the inverse of 0 is 0.
func gfInv(a byte) byte {
	// a^254 = a^(2+4+8+16+32+64+128)
	x2 := gfMul(a, a)
	x3 := gfMul(x2, a)
	x6 := gfMul(x3, x3)
	x12 := gfMul(x6, x6)
	x15 := gfMul(x12, x3)
	x30 := gfMul(x15, x15)
	x60 := gfMul(x30, x30)
	x120 := gfMul(x60, x60)
	x126 := gfMul(x120, x6)
	x127 := gfMul(x126, a)
	return gfMul(x127, x127) // a^254
}
