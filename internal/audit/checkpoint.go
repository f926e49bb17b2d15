package audit

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The kinds of checkpoint.
const (
	// KindPeriodic is written every N events or T (AUD-2).
	KindPeriodic = "periodic"
	// KindArchive also states that the events up to ArchivedThrough may
	// leave the live journal for the archive (AUD-4).
	KindArchive = "archive"
	// KindFinal is written when the service stops.
	KindFinal = "final"
)

// Checkpoint is a signed statement that the chain head was event Seq with
// hash Hash at time At (AUD-2). Checkpoints are numbered 1, 2, 3, … and
// each names the digest of the one before, so removing one is seen too.
type Checkpoint struct {
	ID              int64
	Seq             int64
	Hash            []byte
	At              string // store.FormatTime form
	Kind            string
	ArchivedThrough int64 // events 1..ArchivedThrough may be in the archive
	KeyID           string
	PrevDigest      []byte // Digest of checkpoint ID-1; 32 zero bytes for checkpoint 1
	Signature       []byte
}

const checkpointTag = "sceau-audit-checkpoint-v1"

// Message is the canonical encoding that is signed: a domain tag, then ID,
// Seq and ArchivedThrough as big-endian uint64, then Hash, At, Kind, KeyID
// and PrevDigest each as a big-endian uint64 length and its bytes.
func (c *Checkpoint) Message() []byte {
	b := make([]byte, 0, 256)
	b = append(b, checkpointTag...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.ID))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(c.ArchivedThrough))
	for _, f := range [][]byte{c.Hash, []byte(c.At), []byte(c.Kind), []byte(c.KeyID), c.PrevDigest} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// Digest is SHA-256 of Message; the next checkpoint names it.
func (c *Checkpoint) Digest() []byte {
	d := sha256.Sum256(c.Message())
	return d[:]
}

// SigningKey is the public half of a checkpoint signing key, as recorded
// in the journal (audit_keys) and in exports, so that verification needs
// neither the keystore nor the device.
type SigningKey struct {
	ID           string // hex SHA-256 of DER
	Algorithm    string // ecdsa-p256, ecdsa-p384, ed25519, rsa-2048, …
	DER          []byte // SubjectPublicKeyInfo
	Label        string // the keystore label
	RegisteredAt string
	Seq          int64 // the audit.key_registered event
	Public       crypto.PublicKey
}

// NewSigningKey describes pub.
func NewSigningKey(pub crypto.PublicKey, label string) (SigningKey, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return SigningKey{}, sceau.E(sceau.Invalid, "audit: signing key", "the public key cannot be encoded", err)
	}
	alg, err := algorithmOf(pub)
	if err != nil {
		return SigningKey{}, err
	}
	sum := sha256.Sum256(der)
	return SigningKey{ID: hex.EncodeToString(sum[:]), Algorithm: alg, DER: der, Label: label, Public: pub}, nil
}

// ParseSigningKey reads a recorded key and checks that its ID is the hash
// of its DER, so a substituted key does not pass for a recorded one.
func ParseSigningKey(id string, der []byte) (crypto.PublicKey, error) {
	sum := sha256.Sum256(der)
	if hex.EncodeToString(sum[:]) != id {
		return nil, fmt.Errorf("audit: key %s: its public key hashes to %x", short(id), sum[:8])
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("audit: key %s: %w", short(id), err)
	}
	if _, err := algorithmOf(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// KeyID returns the ID of pub: the hex SHA-256 of its SubjectPublicKeyInfo.
func KeyID(pub crypto.PublicKey) (string, error) {
	k, err := NewSigningKey(pub, "")
	return k.ID, err
}

func algorithmOf(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "ed25519", nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ecdsa-p256", nil
		case elliptic.P384():
			return "ecdsa-p384", nil
		}
	case *rsa.PublicKey:
		if k.N.BitLen() >= 2048 {
			return fmt.Sprintf("rsa-%d", k.N.BitLen()), nil
		}
	}
	return "", sceau.Errorf(sceau.Invalid, "audit: signing key", "a %T cannot sign checkpoints (use Ed25519, ECDSA P-256/P-384 or RSA ≥ 2048)", pub)
}

// signMessage signs msg: Ed25519 over the message itself, ECDSA and RSA
// (PKCS #1 v1.5) over its SHA-256 (SHA-384 for P-384).
func signMessage(signer crypto.Signer, msg []byte) ([]byte, error) {
	switch k := signer.Public().(type) {
	case ed25519.PublicKey:
		return signer.Sign(rand.Reader, msg, crypto.Hash(0))
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			d := sha512.Sum384(msg)
			return signer.Sign(rand.Reader, d[:], crypto.SHA384)
		}
	}
	d := sha256.Sum256(msg)
	return signer.Sign(rand.Reader, d[:], crypto.SHA256)
}

func verifySignature(pub crypto.PublicKey, msg, sig []byte) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(k, msg, sig)
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			d := sha512.Sum384(msg)
			return ecdsa.VerifyASN1(k, d[:], sig)
		}
		d := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(k, d[:], sig)
	case *rsa.PublicKey:
		d := sha256.Sum256(msg)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], sig) == nil
	}
	return false
}

// RegisterKey records the public key of the audit signing key in the
// journal: a row in audit_keys and an audit.key_registered event, in one
// transaction. It does nothing when the key is registered already.
func RegisterKey(ctx context.Context, db *store.DB, j *Journal, actor sceau.Actor, label string, pub crypto.PublicKey) (SigningKey, bool, error) {
	const op = "audit: register key"
	k, err := NewSigningKey(pub, label)
	if err != nil {
		return k, false, err
	}
	created := false
	err = db.InTx(ctx, func(tx *store.Tx) error {
		got, err := loadKey(ctx, tx, k.ID)
		if err == nil {
			k = got
			return nil
		}
		if !errors.Is(err, sceau.ErrNotFound) {
			return err
		}
		if err := j.Append(ctx, tx, Event{Actor: actor, Action: ActionKeyRegistered, Object: "key:" + label,
			Details: map[string]string{"key_id": k.ID, "algorithm": k.Algorithm, "label": label,
				"public_key": base64.StdEncoding.EncodeToString(k.DER)}}); err != nil {
			return err
		}
		seq, _, err := Head(ctx, tx)
		if err != nil {
			return err
		}
		k.Seq, k.RegisteredAt = seq, store.FormatTime(j.Now())
		if _, err := tx.ExecContext(ctx, sqlInsertKey, k.ID, k.Algorithm, k.DER, k.Label, k.RegisteredAt, k.Seq); err != nil {
			return store.Classify(op, err)
		}
		created = true
		return nil
	})
	return k, created, err
}

func loadKey(ctx context.Context, q store.Querier, id string) (SigningKey, error) {
	var k SigningKey
	err := q.QueryRowContext(ctx, sqlKey, id).Scan(&k.ID, &k.Algorithm, &k.DER, &k.Label, &k.RegisteredAt, &k.Seq)
	if err != nil {
		return k, store.Classify("audit: key", err)
	}
	k.Public, err = ParseSigningKey(k.ID, k.DER)
	return k, err
}

// Keys lists the recorded signing keys. A key whose ID does not match its
// DER is listed without Public.
func Keys(ctx context.Context, q store.Querier) ([]SigningKey, error) {
	const op = "audit: keys"
	rows, err := q.QueryContext(ctx, sqlKeys)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.DER, &k.Label, &k.RegisteredAt, &k.Seq); err != nil {
			return nil, store.Classify(op, err)
		}
		k.Public, _ = ParseSigningKey(k.ID, k.DER)
		out = append(out, k)
	}
	return out, store.Classify(op, rows.Err())
}

func scanCheckpoint(s interface{ Scan(...any) error }) (Checkpoint, error) {
	var c Checkpoint
	err := s.Scan(&c.ID, &c.Seq, &c.Hash, &c.At, &c.Kind, &c.ArchivedThrough, &c.KeyID, &c.PrevDigest, &c.Signature)
	return c, err
}

// Checkpoints lists every checkpoint in order.
func Checkpoints(ctx context.Context, q store.Querier) ([]Checkpoint, error) {
	const op = "audit: checkpoints"
	rows, err := q.QueryContext(ctx, sqlCheckpoints)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, store.Classify(op, err)
		}
		out = append(out, c)
	}
	return out, store.Classify(op, rows.Err())
}

// LastCheckpoint returns the latest checkpoint, or nil when there is none.
func LastCheckpoint(ctx context.Context, q store.Querier) (*Checkpoint, error) {
	c, err := scanCheckpoint(q.QueryRowContext(ctx, sqlLastCheckpoint))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, store.Classify("audit: checkpoint", err)
	}
	return &c, nil
}

// Checkpointer signs checkpoints of the chain head with the audit signing
// key (AUD-2). Signing happens outside any transaction, so a slow device
// holds no lock; two nodes that sign the same number conflict on insert
// and the loser tries again later.
type Checkpointer struct {
	db     *store.DB
	signer crypto.Signer
	key    SigningKey
	clock  sceau.Clock

	mu         sync.Mutex
	registered bool
}

// NewCheckpointer returns a checkpointer signing with signer, whose public
// key must be registered (RegisterKey) before the first checkpoint.
func NewCheckpointer(db *store.DB, signer crypto.Signer, clock sceau.Clock) (*Checkpointer, error) {
	k, err := NewSigningKey(signer.Public(), "")
	if err != nil {
		return nil, err
	}
	return &Checkpointer{db: db, signer: signer, key: k, clock: sceau.ClockOr(clock)}, nil
}

// KeyID is the ID of the signing key.
func (c *Checkpointer) KeyID() string { return c.key.ID }

// Checkpoint signs the current chain head and stores the checkpoint. A
// periodic checkpoint of a head signed already is not repeated: it
// returns nil, nil.
func (c *Checkpointer) Checkpoint(ctx context.Context, kind string) (*Checkpoint, error) {
	cp, err := c.prepare(ctx, kind, -1)
	if err != nil || cp == nil {
		return nil, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error { return insertCheckpoint(ctx, tx, cp) })
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// prepare signs a checkpoint of the current head that follows the latest
// one. archivedThrough < 0 keeps the latest checkpoint's boundary.
func (c *Checkpointer) prepare(ctx context.Context, kind string, archivedThrough int64) (*Checkpoint, error) {
	const op = "audit: checkpoint"
	if err := c.checkRegistered(ctx); err != nil {
		return nil, err
	}
	last, err := LastCheckpoint(ctx, c.db)
	if err != nil {
		return nil, err
	}
	seq, hash, err := Head(ctx, c.db)
	if err != nil {
		return nil, err
	}
	cp := &Checkpoint{ID: 1, Seq: seq, Hash: hash, At: store.FormatTime(c.clock.Now()), Kind: kind,
		KeyID: c.key.ID, PrevDigest: make([]byte, sha256.Size)}
	if last != nil {
		if kind == KindPeriodic && last.Seq == seq && bytes.Equal(last.Hash, hash) {
			return nil, nil
		}
		cp.ID, cp.PrevDigest, cp.ArchivedThrough = last.ID+1, last.Digest(), last.ArchivedThrough
	}
	if archivedThrough >= 0 {
		cp.ArchivedThrough = archivedThrough
	}
	if cp.Signature, err = signMessage(c.signer, cp.Message()); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "the audit signing key cannot sign", err)
	}
	return cp, nil
}

func (c *Checkpointer) checkRegistered(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.registered {
		return nil
	}
	if _, err := loadKey(ctx, c.db, c.key.ID); err != nil {
		if errors.Is(err, sceau.ErrNotFound) {
			return sceau.Errorf(sceau.Internal, "audit: checkpoint", "the audit signing key %s is not registered in the journal", short(c.key.ID))
		}
		return err
	}
	c.registered = true
	return nil
}

func insertCheckpoint(ctx context.Context, tx *store.Tx, cp *Checkpoint) error {
	_, err := tx.ExecContext(ctx, sqlInsertCheckpoint, cp.ID, cp.Seq, cp.Hash, cp.At, cp.Kind, cp.ArchivedThrough,
		cp.KeyID, cp.PrevDigest, cp.Signature)
	return store.Classify("audit: checkpoint", err)
}

// short abbreviates a key ID or hash for messages.
func short(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}
