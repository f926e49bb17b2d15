package archive

import (
	"bytes"
	"io"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/sceau"
)

// Confidential items are sealed with age (X25519 recipients, ChaCha20-
// Poly1305): authenticated encryption whose identities the archive never
// holds, so neither its signing key nor its database opens them (ARC-3).

func seal(content []byte, to []age.Recipient) ([]byte, error) {
	var b bytes.Buffer
	w, err := age.Encrypt(&b, to...)
	if err != nil {
		return nil, sceau.E(sceau.Internal, "archive: seal", "", err)
	}
	if _, err := w.Write(content); err != nil {
		return nil, sceau.E(sceau.Internal, "archive: seal", "", err)
	}
	if err := w.Close(); err != nil {
		return nil, sceau.E(sceau.Internal, "archive: seal", "", err)
	}
	return b.Bytes(), nil
}

func open(sealed []byte, ids []age.Identity) ([]byte, error) {
	if len(ids) == 0 {
		return nil, sceau.Errorf(sceau.Invalid, "archive: open", "the item is confidential: give an age identity of one of the archive's recipients (--identity)")
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), ids...)
	if err != nil {
		return nil, sceau.E(sceau.Denied, "archive: open", "the identity does not open this confidential item (not one of its recipients, or the ciphertext was altered)", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "archive: open", "the sealed item fails its authentication (altered ciphertext)", err)
	}
	return b, nil
}

// ParseRecipients reads age public keys (age1…).
func ParseRecipients(keys []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, k := range keys {
		r, err := age.ParseX25519Recipient(k)
		if err != nil {
			return nil, sceau.E(sceau.Invalid, "archive: recipients", "not an age X25519 public key (age1…)", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ParseIdentities reads an age identity file (AGE-SECRET-KEY-1… lines).
func ParseIdentities(r io.Reader) ([]age.Identity, error) {
	ids, err := age.ParseIdentities(r)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "archive: identity", "not an age identity file", err)
	}
	return ids, nil
}

// Open opens a retrieved confidential item with ids and checks its
// content in clear against its digest, where the identities are: on the
// client. A public or internal item, or no identity, is left as it is.
func Open(r *Retrieved, ids []age.Identity) error {
	if r.Item.Class != Confidential || len(ids) == 0 || !r.Sealed {
		return nil
	}
	clear, err := open(r.Content, ids)
	if err != nil {
		return err
	}
	if hexSHA256(clear) != r.Item.SHA256 {
		return failed("hash", "item %d: the content in clear does not match its digest %s", r.Item.Leaf, short(r.Item.SHA256))
	}
	r.Content, r.Sealed = clear, false
	r.Checks = append(r.Checks, "decrypt")
	return nil
}
