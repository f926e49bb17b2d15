package continuity

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
)

// Format names the backup format in every manifest.
const Format = "sceau-backup-v1"

// Names inside a backup's tar stream.
const (
	manifestEntry = "manifest.json"
	// DBEntrySQLite and DBEntryPostgres hold the database snapshot.
	DBEntrySQLite   = "db/sceau.db"
	DBEntryPostgres = "db/postgres.dump"
	// DataPrefix prefixes the files of the data directory.
	DataPrefix = "data/"
)

// Manifest describes one backup; it is signed with the audit key.
type Manifest struct {
	Format        string     `json:"format"`
	Name          string     `json:"name"`
	Node          string     `json:"node"`
	CreatedAt     time.Time  `json:"created_at"`
	Engine        string     `json:"engine"`
	SchemaVersion int        `json:"schema_version"`
	JournalSeq    int64      `json:"journal_seq"`  // the journal's head in the snapshot
	JournalHash   string     `json:"journal_hash"` // its hash, hex
	Recipients    []string   `json:"recipients"`
	Files         []File     `json:"files"`
	Excluded      []Excluded `json:"excluded,omitempty"`
}

// File is one entry of the tar stream.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   uint32 `json:"mode"`
}

// Excluded is a file of the data directory a backup leaves out, and why.
type Excluded struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Size is the total size of the files.
func (m *Manifest) Size() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// Signed is a manifest with its signature: the bytes signed, the key's ID
// (audit.KeyID) and public key, and the signature (audit.SignDetached).
type Signed struct {
	Manifest  json.RawMessage `json:"manifest"`
	KeyID     string          `json:"key_id"`
	PublicKey []byte          `json:"public_key"` // SubjectPublicKeyInfo
	Signature []byte          `json:"signature"`
}

func signManifest(m *Manifest, signer crypto.Signer) ([]byte, error) {
	const op = "continuity: sign the manifest"
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	id, err := audit.KeyID(signer.Public())
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	sig, err := audit.SignDetached(signer, raw)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "the audit signing key cannot sign", err)
	}
	// Compact: an indenting encoder would re-indent the signed bytes.
	return json.Marshal(Signed{Manifest: raw, KeyID: id, PublicKey: der, Signature: sig})
}

// ParseSigned reads a signed manifest and checks its signature against
// the public key it names; whether that key is trusted is the caller's
// question (Trusted).
func ParseSigned(b []byte) (*Manifest, *Signed, error) {
	const op = "continuity: manifest"
	var s Signed
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, nil, sceau.Errorf(sceau.Invalid, op, "the signed manifest cannot be read: it is damaged")
	}
	pub, err := audit.ParseSigningKey(s.KeyID, s.PublicKey)
	if err != nil {
		return nil, nil, sceau.E(sceau.Invalid, op, "the manifest's signing key does not match its ID", err)
	}
	if !audit.VerifyDetached(pub, s.Manifest, s.Signature) {
		return nil, nil, sceau.Errorf(sceau.Invalid, op, "the manifest's signature does not verify with key %.16s…: the manifest was altered", s.KeyID)
	}
	var m Manifest
	if err := json.Unmarshal(s.Manifest, &m); err != nil || m.Format != Format {
		return nil, nil, sceau.Errorf(sceau.Invalid, op, "the manifest is not a %s manifest", Format)
	}
	return &m, &s, nil
}
