package ceremony

import (
	"context"
	"crypto"
	"database/sql"
	"encoding/base64"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The journal events of ceremonies (AUD-1); to be listed in audit.Catalogue.
const (
	ActionStarted       = "ceremony.started"        // a ceremony started, with its script
	ActionCompleted     = "ceremony.completed"      // a ceremony completed; its transcript archived
	ActionAborted       = "ceremony.aborted"        // a ceremony stopped on a refusal or failure; its transcript archived
	ActionKeyRegistered = "ceremony.key_registered" // a transcript signing key was created and recorded
)

// KeyLabel is the transcript key's label in the service keystore.
const KeyLabel = "ceremony-transcript"

// KeyStore is what a ceremony needs of package keys: the transcript key is
// generated in, and signs from, the service keystore; it never leaves it.
type KeyStore interface {
	Generate(label string, t keys.Type) (crypto.Signer, error)
	Signer(label string) (crypto.Signer, error)
}

// Vault signs and archives transcripts for one installation: the
// transcript key in its service keystore, the ceremony_keys and
// ceremony_transcripts tables and the journal of its database.
type Vault struct {
	db      *store.DB
	journal audit.Appender
	keys    KeyStore
	clock   sceau.Clock
}

// NewVault returns the vault of an installation; a nil clock is the real one.
func NewVault(db *store.DB, journal audit.Appender, ks KeyStore, clock sceau.Clock) *Vault {
	return &Vault{db: db, journal: journal, keys: ks, clock: sceau.ClockOr(clock)}
}

// Key is the transcript key, ready to sign.
type Key struct {
	Signer crypto.Signer
	SignerRecord
	SPKI    []byte
	Created bool // made by this call
}

// Key returns the transcript key, creating it on first use (ECDSA P-256 in
// the service keystore) and recording its public key in ceremony_keys with
// its audit event. A key lost from the keystore is replaced by a new one;
// the old one stays recorded, so the transcripts it signed still verify.
func (v *Vault) Key(ctx context.Context, actor sceau.Actor) (*Key, error) {
	const op = "ceremony: transcript key"
	signer, err := v.keys.Signer(KeyLabel)
	created := false
	if sceau.KindOf(err) == sceau.NotFound {
		signer, err = v.keys.Generate(KeyLabel, keys.ECDSAP256)
		created = true
	}
	if err != nil {
		return nil, err
	}
	alg, err := algorithmOf(signer.Public())
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	fp, spki, err := KeyFingerprint(signer.Public())
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	err = v.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, sqlKeyExists, fp).Scan(&n); err != nil {
			return store.Classify(op, err)
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, sqlInsertKey, fp, alg, spki, KeyLabel, store.FormatTime(v.clock.Now())); err != nil {
			return store.Classify(op, err)
		}
		return v.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: ActionKeyRegistered, Object: "ceremony-key:" + fp,
			Details: map[string]any{"fingerprint": fp, "algorithm": alg, "label": KeyLabel, "public_key": base64.StdEncoding.EncodeToString(spki)}})
	})
	if err != nil {
		return nil, err
	}
	return &Key{Signer: signer, SignerRecord: SignerRecord{Label: KeyLabel, Algorithm: alg, Fingerprint: fp}, SPKI: spki, Created: created}, nil
}

// Started records the start of a ceremony in the journal.
func (v *Vault) Started(ctx context.Context, actor sceau.Actor, t *Transcript) error {
	var who []string
	for _, p := range t.Participants {
		who = append(who, p.String())
	}
	return v.db.InTx(ctx, func(tx *store.Tx) error {
		return v.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: ActionStarted, Object: "ceremony:" + t.ID,
			Details: map[string]any{"name": t.Name, "location": t.Location, "started_at": t.StartedAt, "script_sha256": t.Script.SHA256,
				"participants": who, "confirmations": t.Confirmations.Mode}})
	})
}

// Archive stores a signed transcript in ceremony_transcripts with its
// audit event (ceremony.completed or ceremony.aborted), in one
// transaction (AUD-7, ARC-1).
func (v *Vault) Archive(ctx context.Context, actor sceau.Actor, t *Transcript, transcript []byte, sig *Signature, spki []byte) error {
	const op = "ceremony: archive transcript"
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	action := ActionCompleted
	if t.Status == StatusAborted {
		action = ActionAborted
	}
	var created []map[string]string
	for _, c := range t.CAs {
		created = append(created, map[string]string{"ca": c.ID, "certificate_sha256": c.CertSHA256, "key_sha256": c.KeySHA256})
	}
	details := map[string]any{"name": t.Name, "status": t.Status, "sha256": sig.TranscriptSHA256, "key_fingerprint": sig.KeyFingerprint,
		"cas": created}
	if t.Abort != nil {
		details["aborted_at_step"] = t.Abort.Step
		details["reason"] = t.Abort.Reason
	}
	return v.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, sqlInsertTranscript, t.ID, t.Name, t.Status, sig.TranscriptSHA256, string(transcript), value,
			sig.KeyFingerprint, spki, store.FormatTime(v.clock.Now())); err != nil {
			return store.Classify(op, err)
		}
		return v.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: action, Object: "ceremony:" + t.ID, Details: details})
	})
}

// RecordedKey is a transcript key as recorded in the database.
type RecordedKey struct {
	Fingerprint string
	Algorithm   string
	PublicKey   []byte // DER SPKI
	Label       string
	CreatedAt   string
}

// RecordedKeys returns every transcript key the installation recorded:
// the keys its transcripts are verified against.
func RecordedKeys(ctx context.Context, q store.Querier) ([]RecordedKey, error) {
	const op = "ceremony: transcript keys"
	rows, err := q.QueryContext(ctx, sqlKeys)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []RecordedKey
	for rows.Next() {
		var k RecordedKey
		if err := rows.Scan(&k.Fingerprint, &k.Algorithm, &k.PublicKey, &k.Label, &k.CreatedAt); err != nil {
			return nil, store.Classify(op, err)
		}
		out = append(out, k)
	}
	return out, store.Classify(op, rows.Err())
}

// Archived is a transcript as archived in the database.
type Archived struct {
	ID, Name, Status, SHA256 string
	Transcript               []byte
	Signature                []byte
	SignerKey                string
	SignerPublicKey          []byte
	CreatedAt                string
}

// ArchivedTranscript returns the archived transcript with this ID, or
// whose SHA-256 is this (hex).
func ArchivedTranscript(ctx context.Context, q store.Querier, idOrSHA256 string) (*Archived, error) {
	const op = "ceremony: archived transcript"
	a, err := scanArchived(q.QueryRowContext(ctx, sqlTranscript, idOrSHA256))
	if err == sql.ErrNoRows {
		a, err = scanArchived(q.QueryRowContext(ctx, sqlTranscriptBySum, idOrSHA256))
	}
	if err == sql.ErrNoRows {
		return nil, sceau.Errorf(sceau.NotFound, op, "no archived transcript %s", idOrSHA256)
	}
	return a, store.Classify(op, err)
}

// ArchivedTranscripts returns every archived transcript, oldest first.
func ArchivedTranscripts(ctx context.Context, q store.Querier) ([]*Archived, error) {
	const op = "ceremony: archived transcripts"
	rows, err := q.QueryContext(ctx, sqlTranscripts)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []*Archived
	for rows.Next() {
		a, err := scanArchived(rows)
		if err != nil {
			return nil, store.Classify(op, err)
		}
		out = append(out, a)
	}
	return out, store.Classify(op, rows.Err())
}

func scanArchived(r interface{ Scan(...any) error }) (*Archived, error) {
	var (
		a    Archived
		text string
	)
	if err := r.Scan(&a.ID, &a.Name, &a.Status, &a.SHA256, &text, &a.Signature, &a.SignerKey, &a.SignerPublicKey, &a.CreatedAt); err != nil {
		return nil, err
	}
	a.Transcript = []byte(text)
	return &a, nil
}

// SignatureOf rebuilds transcript.sig from an archived transcript, so that
// an archived copy verifies like the files (ARC-6).
func (a *Archived) SignatureOf() (*Signature, error) {
	t, err := ParseTranscript(a.Transcript)
	if err != nil {
		return nil, err
	}
	alg := ""
	if t.Signer != nil {
		alg = t.Signer.Algorithm
	}
	return &Signature{Format: SignatureFormat, TranscriptID: a.ID, TranscriptSHA256: a.SHA256, Algorithm: alg, KeyFingerprint: a.SignerKey,
		PublicKey: pemPublicKey(a.SignerPublicKey), Value: base64.StdEncoding.EncodeToString(a.Signature)}, nil
}
