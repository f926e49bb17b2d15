// Package keys holds every private key Sceau uses and hands out only
// crypto.Signer values: key material never leaves this package (KEY-3), and
// there is no function that exports a private key in clear.
//
// This version provides the encrypted software keystore (KEY-1 for
// installations without a device, KEY-4 for its protection): each key is a
// file sealed with AES-256-GCM under a key derived with Argon2id from the
// store's activation secret. A signer from a store that is not activated
// answers ErrNotActivated (KEY-5). The PKCS#11 provider and m-of-n
// activation come behind the same crypto.Signer.
package keys
