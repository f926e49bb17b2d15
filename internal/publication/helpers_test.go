package publication_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"strings"
)

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func sha256Colons(b []byte) string {
	s := sha256.Sum256(b)
	h := hex.EncodeToString(s[:])
	var out []string
	for i := 0; i < len(h); i += 2 {
		out = append(out, h[i:i+2])
	}
	return strings.Join(out, ":")
}
