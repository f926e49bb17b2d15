package ceremony

import (
	"context"
	"crypto/x509"
	"time"
)

// The ports of a ceremony: what it asks of the installation it applies to,
// and the facts the installation reports back for the transcript.

// PINSource gives the PIN a key share holder chooses for a new share of a
// CA key's activation secret. The caller wipes it after use.
type PINSource func(caID, holder string) ([]byte, error)

// PresentSource gives the PIN with which a key share holder presents their
// share of an existing CA's activation secret (of their share file, or of
// their smart card). The caller wipes it after use.
type PresentSource func(caID, holder string) ([]byte, error)

// Installation is what a ceremony does to the installation it applies to.
// cmd/sceau implements it over its node.
type Installation interface {
	// Create generates the keys and certificates of the CAs the ceremony
	// creates, and splits each activation secret among its holders, who
	// give the PINs of their shares through g.PINs (KEY-2). The existing
	// CAs of the script's activate list are activated first: m of their
	// holders present their shares, with PINs from g.Present. Once the CAs
	// are created, their keys still activated, it makes the backups of
	// g.Backups (KEY-4). It returns who presented, "holder presented their
	// share of CA" lines.
	Create(ctx context.Context, g Generation) ([]string, error)
	// Describe returns what exists of a CA, nil when it was not created,
	// with the backup this ceremony made of its key.
	Describe(ctx context.Context, caID string) (*CAFacts, error)
	// FirstCRLs issues a CA's first CRL unless it has one, and returns the
	// CA's latest CRLs.
	FirstCRLs(ctx context.Context, caID string) ([]CRLFacts, error)
	// Settle, after a ceremony stopped, removes what cannot be used (the
	// share files of an unfinished split, the backups this ceremony made)
	// and says what remains of the CAs.
	Settle(ctx context.Context, cas []string) ([]string, error)
	// Vault returns where transcripts are signed and archived; an error
	// when the installation does not exist.
	Vault(ctx context.Context) (*Vault, error)
}

// Generation is what the generation step hands the installation.
type Generation struct {
	// PINs give the PINs holders choose for new activation shares (KEY-2).
	PINs PINSource
	// Present gives the PINs of the holders who present their shares of
	// the CAs to activate.
	Present PresentSource
	// Backups are the backups to make of new CA keys, approved in the
	// room (KEY-4, ROLE-3); BackupPINs give the PINs their holders choose
	// for the shares of the wrapping keys.
	Backups    []BackupOrder
	BackupPINs PINSource
}

// BackupOrder is a backup of a new CA key, as approved at the ceremony.
type BackupOrder struct {
	CA        string
	Holders   []string
	Threshold int
	// Approvers are the participants who confirmed the backup (ROLE-3).
	Approvers []string
	// Approval names the approval in the backup registry:
	// "ceremony:<transcript ID>/<CA>".
	Approval string
}

// CAFacts describe a CA as created.
type CAFacts struct {
	ID, Parent string
	KeyType    string
	KeyStore   string // where the private key is: "software keystore …", "PKCS#11 token …"
	Cert       *x509.Certificate
	OCSPCert   *x509.Certificate
	Split      *SplitFacts  // nil without an activation policy
	Backup     *BackupFacts // the backup made at this ceremony, nil if none
}

// BackupFacts describe a backup made at the ceremony (KEY-4): never its
// content, nor the wrapping key.
type BackupFacts struct {
	ID        string
	Mechanism string
	File      string
	SHA256    string
	Threshold int
	Approval  string
	Approvers []string
	// Shares are the share files of the wrapping key, one per holder.
	Shares []ShareFacts
}

// SplitFacts describe the registered split of a CA key's activation secret.
type SplitFacts struct {
	Threshold, Total int
	SetID            []byte
	Shares           []ShareFacts
}

// ShareFacts say where a holder's share was written: a share file, or
// their smart card (Card names it).
type ShareFacts struct {
	Holder string
	X      int
	File   string
	Card   string
}

// CRLFacts describe a CRL.
type CRLFacts struct {
	Shard                  int
	Number                 int64
	ThisUpdate, NextUpdate time.Time
	DER                    []byte
}
