// Package keys holds every private key Sceau uses and hands out only
// crypto.Signer values: key material never leaves this package (KEY-3), and
// there is no function that exports a private key in clear.
//
// Two providers hand out the same crypto.Signer:
//   - PKCS11Store (KEY-1): keys generated and used inside a PKCS#11 token,
//     sensitive and never extractable; built with cgo, tested against
//     SoftHSM2. Without cgo it says that support is not compiled in.
//   - SoftStore, for installations without a device (KEY-1, KEY-4): each
//     key a file sealed with AES-256-GCM under a key derived with Argon2id
//     from the store's activation secret.
//
// A signer from a store that is not activated answers ErrNotActivated
// (KEY-5); deactivation drops every handle, and a restarted process signs
// nothing until activated again.
package keys
