// Package keys holds every private key Sceau uses and hands out only
// crypto.Signer values: key material never leaves this package (KEY-3), and
// there is no function that exports a private key in clear.
//
// Two providers hand out the same crypto.Signer:
//   - PKCS11Store (KEY-1): keys generated and used inside a PKCS#11 token,
//     sensitive and not extractable (with AllowBackup, extractable but
//     still sensitive: the token wraps them, KEY-4); built with cgo,
//     tested against SoftHSM2. Without cgo it says that support is not
//     compiled in.
//   - SoftStore, for installations without a device (KEY-1, KEY-4): each
//     key a file sealed with AES-256-GCM under a key derived with Argon2id
//     from the store's activation secret.
//
// Both are Vaults (backup.go): a key leaves its store only wrapped under a
// 256-bit wrapping key the caller splits m-of-n (KEY-4) — with
// CKM_AES_KEY_WRAP_PAD inside a token, as PKCS#8 sealed with AES-256-GCM
// from the keystore — in a file whose every field is authenticated; and a
// key can be destroyed for good (KEY-6).
//
// A signer from a store that is not activated answers ErrNotActivated
// (KEY-5); deactivation drops every handle, and a restarted process signs
// nothing until activated again.
package keys
