// Package cms makes and checks detached CMS SignedData signatures (RFC 5652
// §5), the format `openssl cms -verify` reads, so that a publication's
// manifest can be checked with or without Sceau (PUB-2: each publication is
// a signed, hashed manifest; a client can verify any file against it). Go's
// standard library has no CMS; this package implements the one shape Sceau
// needs, with encoding/asn1 identifiers and golang.org/x/crypto/cryptobyte.
//
// The shape: a ContentInfo holding a SignedData whose encapsulated content
// is absent (eContentType id-data), one SignerInfo with signed attributes
// (contentType, messageDigest and, unless the time is zero, signingTime),
// and the signer's certificate with its chain. Algorithms follow RFC 5753
// and RFC 5754 for ECDSA and RSA (PKCS#1 v1.5) and RFC 8419 for Ed25519.
//
// A second shape holds its content (SignEncapsulated, VerifyEncapsulated):
// eContent of any type, as an RFC 3161 time-stamp token carries its TSTInfo
// (ARC-5), signed with contentType, messageDigest and the ESS
// signingCertificateV2 (RFC 5035) that binds the signer's certificate, with
// or without the certificates.
//
// Invariants:
//   - SignDetached and SignEncapsulated refuse a signer whose public key is
//     not the certificate's, and check the signature they made before
//     returning it;
//   - the signed attributes are a DER SET OF, sorted, and the signature is
//     over exactly the bytes the SignerInfo carries (with the SET tag);
//   - VerifyDetached and VerifyEncapsulated never panic; every refusal of
//     their input is an error of kind sceau.Invalid whose message starts
//     "cms: ";
//   - they check the signature, not trust: they do not validate
//     the signer's chain, its validity period or its key usage. The caller
//     does, with x509.Certificate.Verify and its own roots.
//
// The package does no I/O and imports no other Sceau domain package.
package cms
