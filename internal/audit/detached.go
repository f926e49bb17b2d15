package audit

import "crypto"

// SignDetached signs msg with the audit signing key as checkpoints are
// signed (AUD-2): Ed25519 over msg, ECDSA and RSA over its SHA-256
// (SHA-384 for P-384). Other packages use it to make a document verifiable
// with the journal's registered keys (CONT-1: a backup's manifest).
func SignDetached(signer crypto.Signer, msg []byte) ([]byte, error) { return signMessage(signer, msg) }

// VerifyDetached reports whether sig is a SignDetached signature of msg by pub.
func VerifyDetached(pub crypto.PublicKey, msg, sig []byte) bool {
	return verifySignature(pub, msg, sig)
}
