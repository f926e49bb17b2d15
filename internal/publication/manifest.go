package publication

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Entry is one published file as the manifest lists it (PUB-2).
type Entry struct {
	Path        string    `json:"path"`
	MediaType   string    `json:"media_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	PublishedAt time.Time `json:"published_at"`
}

// Manifest lists every file the site publishes. Each change produces a
// new one, numbered, chained to the one before by its SHA-256, and signed
// (detached CMS) with the publication key.
type Manifest struct {
	Number         int64     `json:"manifest"`
	IssuedAt       time.Time `json:"issued_at"`
	Publisher      string    `json:"publisher"`
	PreviousSHA256 string    `json:"previous_sha256,omitempty"`
	Files          []Entry   `json:"files"`
}

// Signed is a stored manifest: its exact bytes and signature.
type Signed struct {
	Number    int64
	CreatedAt time.Time
	Digest    string // of the file list alone: equal lists, equal digests
	Body      []byte // the JSON the signature covers
	Signature []byte // DER CMS SignedData, detached
}

// SHA256 is the hex SHA-256 of the manifest's bytes.
func (s *Signed) SHA256() string {
	sum := sha256.Sum256(s.Body)
	return hex.EncodeToString(sum[:])
}

// ManifestSigner signs a manifest's bytes with the publication key: a
// detached CMS signature carrying the key's certificate and its chain.
type ManifestSigner interface {
	SignManifest(body []byte) ([]byte, error)
}

// filesDigest identifies a list of files, whatever its order.
func filesDigest(files []Entry) string {
	sorted := append([]Entry(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	b, _ := json.Marshal(sorted)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// LatestManifest returns the newest stored manifest, or NotFound.
func (s *Service) LatestManifest(ctx context.Context) (*Signed, error) {
	return scanManifest(s.db.QueryRowContext(ctx, qLatestManifest))
}

// ManifestNumber returns manifest n, or NotFound.
func (s *Service) ManifestNumber(ctx context.Context, n int64) (*Signed, error) {
	return scanManifest(s.db.QueryRowContext(ctx, qManifest, n))
}

func scanManifest(row *sql.Row) (*Signed, error) {
	const op = "publication: manifest"
	var m Signed
	var at string
	err := row.Scan(&m.Number, &at, &m.Digest, &m.Body, &m.Signature)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, op, "no manifest was signed yet")
	}
	if err != nil {
		return nil, store.Classify(op, err)
	}
	if m.CreatedAt, err = store.ParseTime(at); err != nil {
		return nil, err
	}
	return &m, nil
}

// SignIfChanged signs and stores a new manifest of files when they differ
// from the newest manifest's, and returns the newest. Several nodes may
// race: the number is the primary key, so one wins and the others read
// its manifest.
func (s *Service) SignIfChanged(ctx context.Context, publisher string, files []Entry, signer ManifestSigner) (*Signed, error) {
	const op = "publication: manifest"
	digest := filesDigest(files)
	latest, err := s.LatestManifest(ctx)
	if err != nil && sceau.KindOf(err) != sceau.NotFound {
		return nil, err
	}
	if latest != nil && latest.Digest == digest {
		return latest, nil
	}
	if signer == nil {
		return latest, sceau.Errorf(sceau.Unavailable, op, "the published files changed but this node holds no publication key to sign a new manifest")
	}
	m := Manifest{Number: 1, IssuedAt: s.clock.Now().UTC().Truncate(time.Second), Publisher: publisher, Files: files}
	if latest != nil {
		m.Number, m.PreviousSHA256 = latest.Number+1, latest.SHA256()
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	body = append(body, '\n')
	sig, err := signer.SignManifest(body)
	if err != nil {
		return nil, err
	}
	out := &Signed{Number: m.Number, CreatedAt: m.IssuedAt, Digest: digest, Body: body, Signature: sig}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qInsertManifest, m.Number, store.FormatTime(m.IssuedAt), digest, body, sig); err != nil {
			return store.Classify(op, err)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("publication"), Action: audit.ActionManifestSigned,
			Object: "manifest:" + itoa(m.Number), Details: map[string]any{"files": len(files), "sha256": out.SHA256(), "previous": m.PreviousSHA256}})
	})
	if sceau.KindOf(err) == sceau.Conflict {
		return s.LatestManifest(ctx) // another node signed this number first
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return sceau.E(sceau.Internal, "publication: manifest", "the stored manifest cannot be read", err)
	}
	return nil
}
