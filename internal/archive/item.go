package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Class is an item's confidentiality class (ARC-3): who may read it and
// whether it is sealed at rest.
type Class string

const (
	// Public items are published elsewhere too: CRLs, CA certificates,
	// CP/CPS versions.
	Public Class = "public"
	// Internal items are for the trusted roles: journal segments,
	// ceremony transcripts, audit reports.
	Internal Class = "internal"
	// Confidential items (identity evidence, personnel records) are sealed
	// with age to the archive's recipients and read by the Security
	// Officer and the auditor alone.
	Confidential Class = "confidential"
)

// ParseClass reads a class name.
func ParseClass(s string) (Class, error) {
	switch c := Class(strings.ToLower(strings.TrimSpace(s))); c {
	case Public, Internal, Confidential:
		return c, nil
	}
	return "", sceau.Errorf(sceau.Invalid, "archive: class", "unknown class %q (public, internal, confidential)", s)
}

// The kinds Sceau produces; an operator may add others.
const (
	KindCRL            = "crl"
	KindCACertificate  = "ca-certificate"
	KindDocument       = "document" // CP/CPS, CGU, PDS versions
	KindJournalSegment = "journal-segment"
	KindCeremony       = "ceremony-transcript"
	KindAuditReport    = "audit-report"
	KindAgreement      = "subscriber-agreement"
	// KindEvidence is what an operator shows for a clause of the
	// self-audit that a program cannot check (COMP-1): its source is
	// "compliance:<clause>".
	KindEvidence = "compliance-evidence"
)

// DefaultRetention is the policy's: ten years from the event (ARC-2).
const DefaultRetention = 10 * 365 * 24 * time.Hour

// New describes an item to archive.
type New struct {
	Kind      string    // crl, ca-certificate, …: lower case, digits, '-'
	Source    string    // what it is in Sceau: "crl:issuing:42", "document:cps/1.2/fr"
	EventAt   time.Time // the time of the event it records; zero: now
	MediaType string    // default application/octet-stream
	Class     Class     // default Internal
	Content   []byte
}

// Item is an archived item as described in the index.
type Item struct {
	Leaf        int64     `json:"leaf"`
	Kind        string    `json:"kind"`
	Source      string    `json:"source"`
	EventAt     time.Time `json:"event_at"`
	AddedAt     time.Time `json:"added_at"`
	AddedBy     string    `json:"added_by"`
	MediaType   string    `json:"media_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"` // of the content in clear
	Class       Class     `json:"class"`
	Object      string    `json:"object"` // SHA-256 of the stored bytes
	RetainUntil time.Time `json:"retain_until"`
}

// leafData is the item's description as the tree commits to it: every
// field but who added it and when, one per line, so that no two items
// share it and a change to any field changes the leaf.
func (it *Item) leafData() []byte {
	var b strings.Builder
	b.WriteString("sceau-archive-item/1\n")
	for _, f := range []string{strconv.FormatInt(it.Leaf, 10), it.Kind, it.Source, store.FormatTime(it.EventAt), it.MediaType,
		strconv.FormatInt(it.Size, 10), it.SHA256, string(it.Class), it.Object, store.FormatTime(it.RetainUntil)} {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// LeafHash is the item's RFC 6962 leaf hash.
func (it *Item) LeafHash() []byte { return rfc6962.DefaultHasher.HashLeaf(it.leafData()) }

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func validKind(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
