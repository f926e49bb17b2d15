package quorum

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Backups, imports and destruction of CA keys (KEY-4, KEY-6), each under
// dual control (ROLE-3).
//
// A backup or an import is asked for by a person holding the role, and
// approved by two other people (access.Approvals). The approval alone
// cannot carry it out: a backup needs the PINs its holders choose for their
// shares of the wrapping key, an import the shares and PINs of m of them,
// and no secret may wait in a request (requests are journaled). So once
// approved, the requester carries it out, once, within BackupOptions.Within,
// with the holders at the terminal. Destruction needs no secret: it is
// carried out by the last approval.
//
// A backup is the CA key wrapped by its store under a random 256-bit
// wrapping key (keys.Backup), written to BackupOptions.Dir. The wrapping
// key is split m-of-n (Split) among named holders, each share sealed in a
// share file under the holder's PIN, the split registered in key_splits
// under the backup's ID, and the wrapping key wiped: nobody ever holds it
// whole. Every copy is registered in key_backups with its location, its
// SHA-256, who made it and who approved it.

// Backup states.
const (
	BackupActive    = "active"
	BackupDestroyed = "destroyed"
)

// DefaultWithin is how long an approved backup or import may wait to be
// carried out.
const DefaultWithin = 24 * time.Hour

// BackupOptions configure Backups.
type BackupOptions struct {
	// Dir receives the backup files (the data directory's backups/).
	Dir string
	// SharesDir receives, in one directory per backup, the share files of
	// its wrapping key, to be handed to their holders.
	SharesDir string
	// Vault returns the store that holds CA caID's key and the key's label.
	Vault func(caID string) (keys.Vault, string, error)
	// Public returns the public key of CA caID's certificate: a backup and
	// an import must be of that key.
	Public func(caID string) (crypto.PublicKey, error)
	// HolderCheck, if set, refuses a holder who does not hold the Key
	// Share Holder role (ROLE-4).
	HolderCheck func(ctx context.Context, holder string) error
	// Within bounds the time from approval to execution; 0: DefaultWithin.
	Within time.Duration
	// Window is how long the holders of an import have to present their
	// shares; 0: DefaultWindow.
	Window time.Duration
	Clock  sceau.Clock // nil: the real clock
}

// Approvals is the dual control (ROLE-3) that backups, imports and
// destruction go through: quorum registers how each action is checked and
// carried out, files requests, and reads them back when the requester acts.
// *access.Approvals implements it.
type Approvals interface {
	Register(action access.Action, e access.Executor) error
	Request(ctx context.Context, p access.Principal, action access.Action, res access.Resource, payload any) (*access.Request, error)
	Get(ctx context.Context, p access.Principal, id string) (*access.Request, error)
}

// Backups carries out backups, imports and destruction of CA keys.
type Backups struct {
	db        *store.DB
	journal   audit.Appender
	reg       *Registry
	approvals Approvals
	o         BackupOptions
	clock     sceau.Clock
}

// NewBackups returns the service; Register plugs its actions into approvals.
func NewBackups(db *store.DB, journal audit.Appender, reg *Registry, approvals Approvals, o BackupOptions) *Backups {
	if o.Within <= 0 {
		o.Within = DefaultWithin
	}
	return &Backups{db: db, journal: journal, reg: reg, approvals: approvals, o: o, clock: sceau.ClockOr(o.Clock)}
}

// BackupPlan is the payload of a key.backup request: who holds the shares
// of the wrapping key, and how many of them an import needs.
type BackupPlan struct {
	Holders   []string `json:"holders"`
	Threshold int      `json:"threshold"`
}

// ImportPlan is the payload of a key.import request: which registered
// backup to import.
type ImportPlan struct {
	Backup string `json:"backup"`
}

// BackupRecord is the registration of one backup copy (never its content).
type BackupRecord struct {
	ID          string     `json:"id"` // also the key ID of its wrapping key's split
	CA          string     `json:"ca"`
	Label       string     `json:"key_label"`
	Mechanism   string     `json:"mechanism"`
	Location    string     `json:"location"`
	SHA256      string     `json:"sha256"`
	CreatedAt   time.Time  `json:"created_at"`
	CreatedBy   string     `json:"created_by"`
	Approval    string     `json:"approval"`
	Approvers   []string   `json:"approvers"`
	Status      string     `json:"status"`
	DestroyedAt *time.Time `json:"destroyed_at,omitempty"`
	DestroyedBy string     `json:"destroyed_by,omitempty"`
	Threshold   int        `json:"threshold,omitempty"`
	Holders     []string   `json:"holders,omitempty"`
}

// PresentedShare is a holder's share file and the PIN they typed.
type PresentedShare struct {
	Holder string
	File   []byte
	PIN    []byte
}

// Register installs the executors of key.backup, key.import and
// key.destroy.
func (b *Backups) Register() error {
	for action, e := range map[access.Action]access.Executor{
		access.KeyBackup: {Check: b.checkBackup, Execute: func(ctx context.Context, tx *store.Tx, req *access.Request) (string, error) {
			if err := b.checkBackup(ctx, tx, req); err != nil {
				return "", err
			}
			return fmt.Sprintf("approved: %s carries out the backup of CA %s with its holders (sceau ca backup %s --approval %s)",
				req.Requester, req.Resource.ID, req.Resource.ID, req.ID), nil
		}},
		access.KeyImport: {Check: b.checkImport, Execute: func(ctx context.Context, tx *store.Tx, req *access.Request) (string, error) {
			if err := b.checkImport(ctx, tx, req); err != nil {
				return "", err
			}
			return fmt.Sprintf("approved: %s carries out the import into CA %s with m share holders (sceau ca import %s --approval %s)",
				req.Requester, req.Resource.ID, req.Resource.ID, req.ID), nil
		}},
		access.KeyDestroy: {Check: b.checkDestroy, Execute: b.executeDestroy},
	} {
		if err := b.approvals.Register(action, e); err != nil {
			return err
		}
	}
	return nil
}

// RequestBackup asks for a backup of CA caID's key, its wrapping key split
// as plan says (ROLE-3: it waits for two approvals).
func (b *Backups) RequestBackup(ctx context.Context, p access.Principal, caID string, plan BackupPlan) (*access.Request, error) {
	return b.approvals.Request(ctx, p, access.KeyBackup, access.Resource{Kind: "ca", ID: caID}, plan)
}

// RequestImport asks for the import of a registered backup into CA caID's
// store (ROLE-3).
func (b *Backups) RequestImport(ctx context.Context, p access.Principal, caID string, plan ImportPlan) (*access.Request, error) {
	return b.approvals.Request(ctx, p, access.KeyImport, access.Resource{Kind: "ca", ID: caID}, plan)
}

// RequestDestroy asks for the destruction of CA caID's key (KEY-6,
// ROLE-3); the last approval carries it out.
func (b *Backups) RequestDestroy(ctx context.Context, p access.Principal, caID string) (*access.Request, error) {
	return b.approvals.Request(ctx, p, access.KeyDestroy, access.Resource{Kind: "ca", ID: caID}, struct{}{})
}

var holderName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

func decodePayload(op string, req *access.Request, v any) error {
	dec := json.NewDecoder(bytes.NewReader(req.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return sceau.E(sceau.Invalid, op, "bad request payload", err)
	}
	return nil
}

func (b *Backups) backupPlan(req *access.Request) (BackupPlan, error) {
	const op = "quorum: backup"
	var plan BackupPlan
	if err := decodePayload(op, req, &plan); err != nil {
		return plan, err
	}
	return plan, plan.Validate()
}

// Validate refuses a split of the wrapping key outside 2 <= m <= n <= 16,
// or holders who are not distinct account names (KEY-4).
func (plan BackupPlan) Validate() error {
	const op = "quorum: backup"
	n := len(plan.Holders)
	if plan.Threshold < MinThreshold || n < plan.Threshold || n > MaxShares {
		return sceau.Errorf(sceau.Invalid, op, "the wrapping key's split of %d of %d is outside 2 <= m <= n <= 16", plan.Threshold, n)
	}
	seen := map[string]bool{}
	for _, h := range plan.Holders {
		if !holderName.MatchString(h) || seen[h] {
			return sceau.Errorf(sceau.Invalid, op, "the holders must be distinct account names (KEY-4)")
		}
		seen[h] = true
	}
	return nil
}

func (b *Backups) checkBackup(ctx context.Context, q store.Querier, req *access.Request) error {
	if _, err := b.backupPlan(req); err != nil {
		return err
	}
	_, _, err := b.o.Vault(req.Resource.ID)
	return err
}

func (b *Backups) checkImport(ctx context.Context, q store.Querier, req *access.Request) error {
	const op = "quorum: import"
	var plan ImportPlan
	if err := decodePayload(op, req, &plan); err != nil {
		return err
	}
	rec, err := b.lookup(ctx, q, plan.Backup)
	if err != nil {
		return err
	}
	if rec.CA != req.Resource.ID {
		return sceau.Errorf(sceau.Invalid, op, "backup %s is of CA %s, not %s", rec.ID, rec.CA, req.Resource.ID)
	}
	if rec.Status != BackupActive {
		return sceau.Errorf(sceau.Conflict, op, "backup %s was destroyed", rec.ID)
	}
	_, _, err = b.o.Vault(req.Resource.ID)
	return err
}

func (b *Backups) checkDestroy(ctx context.Context, q store.Querier, req *access.Request) error {
	_, _, err := b.o.Vault(req.Resource.ID)
	return err
}

// approved returns request id when p may carry it out now: a request of
// action that two other people approved (ROLE-3), made by p, who still
// may request it, and not older than Within.
func (b *Backups) approved(ctx context.Context, p access.Principal, id string, action access.Action, caID string) (*access.Request, []string, error) {
	op := "quorum: " + string(action)
	req, err := b.approvals.Get(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case req.Action != action || req.Resource.ID != caID:
		return nil, nil, sceau.Errorf(sceau.Invalid, op, "request %s is %s on %s, not %s on CA %s", id, req.Action, req.Resource, action, caID)
	case req.Status == access.StatusPending:
		return nil, nil, sceau.Errorf(sceau.Denied, op, "request %s has %d of the %d approvals it needs, by people other than the requester (ROLE-3)",
			id, req.Approvals, req.Required)
	case req.Status != access.StatusExecuted:
		return nil, nil, sceau.Errorf(sceau.Denied, op, "request %s is %s", id, req.Status)
	case req.Requester != p.Account:
		return nil, nil, sceau.Errorf(sceau.Denied, op, "only %s, who requested it, may carry out request %s", req.Requester, id)
	case req.DecidedAt == nil || b.clock.Now().After(req.DecidedAt.Add(b.o.Within)):
		return nil, nil, sceau.Errorf(sceau.Denied, op, "the approval of request %s is older than %s: request it again", id, b.o.Within)
	}
	if err := access.Decide(p, action, req.Resource).Err(); err != nil {
		return nil, nil, err
	}
	approvers := []string{}
	for _, v := range req.Votes {
		if v.Vote == "approve" {
			approvers = append(approvers, v.Account)
		}
	}
	if len(approvers) < 2 || slices.Contains(approvers, req.Requester) {
		return nil, nil, sceau.Errorf(sceau.Denied, op, "request %s was not approved by two people other than the requester (ROLE-3)", id)
	}
	return req, approvers, nil
}

func (b *Backups) checkHolder(ctx context.Context, holder string) error {
	if b.o.HolderCheck == nil {
		return nil
	}
	return b.o.HolderCheck(ctx, holder)
}

// Backup carries out the approved backup request approvalID of CA caID
// (KEY-4): it draws a wrapping key, has the CA's store wrap the key under
// it, splits it among the plan's holders, each share sealed under the PIN
// in pins (typed by the holder; the caller wipes them), writes the backup
// file and the share files, registers the copy and the split with their
// audit event, and wipes the wrapping key. It is carried out once.
func (b *Backups) Backup(ctx context.Context, p access.Principal, caID, approvalID string, pins map[string][]byte) (*BackupRecord, error) {
	req, approvers, err := b.approved(ctx, p, approvalID, access.KeyBackup, caID)
	if err != nil {
		return nil, err
	}
	plan, err := b.backupPlan(req)
	if err != nil {
		return nil, err
	}
	return b.makeBackup(ctx, p.Actor(req.RequesterRole), caID, approvalID, approvers, plan, pins)
}

// makeBackup is the core shared by Backup and BackupAtCeremony, once the
// approval is established: wrap, check, split, seal, write, register.
func (b *Backups) makeBackup(ctx context.Context, actor sceau.Actor, caID, approvalID string, approvers []string, plan BackupPlan, pins map[string][]byte) (*BackupRecord, error) {
	const op = "quorum: backup"
	if len(pins) != len(plan.Holders) {
		return nil, sceau.Errorf(sceau.Invalid, op, "a PIN is needed for each of the %d holders %v, and only for them", len(plan.Holders), plan.Holders)
	}
	for _, h := range plan.Holders {
		if _, ok := pins[h]; !ok {
			return nil, sceau.Errorf(sceau.Invalid, op, "no PIN for %s", h)
		}
		if err := b.checkHolder(ctx, h); err != nil {
			return nil, err
		}
	}
	var used int
	if err := b.db.QueryRowContext(ctx, qBackupsByApproval, approvalID).Scan(&used); err != nil {
		return nil, store.Classify(op, err)
	}
	if used > 0 {
		return nil, sceau.Errorf(sceau.Conflict, op, "request %s was carried out already", approvalID)
	}
	vault, label, err := b.o.Vault(caID)
	if err != nil {
		return nil, err
	}
	id, err := b.nextID(ctx, caID)
	if err != nil {
		return nil, err
	}
	now := b.clock.Now().UTC()

	kek := make([]byte, keys.WrapKeySize)
	defer wipe(kek)
	if _, err := rand.Read(kek); err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	bk, err := vault.BackupKey(label, kek, keys.BackupRef{CA: caID, WrapKeyID: id, CreatedAt: now})
	if err != nil {
		return nil, err
	}
	if err := b.samePublic(caID, bk); err != nil {
		return nil, err
	}
	shares, err := Split(kek, plan.Threshold, len(plan.Holders), nil)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	defer func() {
		for i := range shares {
			wipe(shares[i].Y)
		}
	}()
	// Seal every share before writing anything: a PIN too short stops
	// the backup before a file exists.
	sealed := make([]*ShareFile, len(shares))
	for i, h := range plan.Holders {
		if sealed[i], err = Seal(shares[i], id, h, pins[h]); err != nil {
			return nil, err
		}
	}
	file := bk.Marshal()
	sum := sha256.Sum256(file)
	rec := &BackupRecord{ID: id, CA: caID, Label: label, Mechanism: bk.Mechanism, Location: filepath.Join(b.o.Dir, id+".backup"),
		SHA256: hex.EncodeToString(sum[:]), CreatedAt: now, CreatedBy: actor.ID, Approval: approvalID, Approvers: approvers,
		Status: BackupActive, Threshold: plan.Threshold, Holders: plan.Holders}
	written, err := b.writeFiles(rec, file, plan.Holders, sealed)
	if err != nil {
		return nil, err
	}
	approversJSON, _ := json.Marshal(approvers)
	err = b.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qInsertBackup, rec.ID, caID, label, rec.Mechanism, rec.Location, rec.SHA256, store.FormatTime(now),
			actor.ID, approvalID, string(approversJSON)); err != nil {
			return store.Classify(op, err)
		}
		if err := b.reg.registerIn(ctx, tx, actor, id, shares, plan.Holders, CarrierFile); err != nil {
			return err
		}
		return b.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.backup_created", Object: "key:" + label,
			Details: map[string]any{"ca": caID, "backup": id, "location": rec.Location, "sha256": rec.SHA256, "mechanism": rec.Mechanism,
				"approval": approvalID, "approvers": approvers, "holders": plan.Holders, "threshold": plan.Threshold,
				"share_files": b.ShareDir(id)}})
	})
	if err != nil {
		b.removeFiles(rec.ID, written)
		return nil, err
	}
	return rec, nil
}

// nextID names the next backup of CA caID: backup-<ca>-<n>, n one more
// than the highest registered, so that a discarded ceremony copy never
// makes two backups share an ID.
func (b *Backups) nextID(ctx context.Context, caID string) (string, error) {
	rows, err := b.db.QueryContext(ctx, qBackupIDs, caID)
	if err != nil {
		return "", store.Classify("quorum: backup", err)
	}
	defer rows.Close()
	highest := 0
	prefix := "backup-" + caID + "-"
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", store.Classify("quorum: backup", err)
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(id, prefix)); err == nil && strings.HasPrefix(id, prefix) && n > highest {
			highest = n
		}
	}
	if err := rows.Err(); err != nil {
		return "", store.Classify("quorum: backup", err)
	}
	return fmt.Sprintf("%s%d", prefix, highest+1), nil
}

// ShareDir is where the share files of backup id's wrapping key are written.
func (b *Backups) ShareDir(id string) string { return filepath.Join(b.o.SharesDir, id) }

// removeFiles removes the files written for backup id, and its share
// directory once empty.
func (b *Backups) removeFiles(id string, files []string) {
	for _, f := range files {
		os.Remove(f)
	}
	os.Remove(b.ShareDir(id))
}

// Lookup returns the registered backup id.
func (b *Backups) Lookup(ctx context.Context, id string) (*BackupRecord, error) {
	return b.lookup(ctx, b.db, id)
}

// writeFiles writes the backup file and the share files, never over an
// existing file; on failure it removes what it wrote.
func (b *Backups) writeFiles(rec *BackupRecord, file []byte, holders []string, sealed []*ShareFile) ([]string, error) {
	const op = "quorum: backup"
	var written []string
	fail := func(err error) ([]string, error) {
		for _, f := range written {
			os.Remove(f)
		}
		return nil, err
	}
	if err := os.MkdirAll(b.o.Dir, 0o700); err != nil {
		return fail(sceau.E(sceau.Unavailable, op, "cannot create "+b.o.Dir, err))
	}
	if err := safefile.WriteNew(rec.Location, file, 0o600); err != nil {
		return fail(sceau.E(sceau.Conflict, op, "cannot write the backup file", err))
	}
	written = append(written, rec.Location)
	dir := filepath.Join(b.o.SharesDir, rec.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(sceau.E(sceau.Unavailable, op, "cannot create "+dir, err))
	}
	for i, h := range holders {
		path := filepath.Join(dir, h+".share")
		if err := sealed[i].WriteFile(path); err != nil {
			return fail(sceau.E(sceau.Conflict, op, "cannot write the share file of "+h, err))
		}
		written = append(written, path)
	}
	return written, nil
}

// samePublic checks that a backup is of the key of CA caID's certificate.
func (b *Backups) samePublic(caID string, bk *keys.Backup) error {
	if b.o.Public == nil {
		return nil
	}
	want, err := b.o.Public(caID)
	if err != nil {
		return err
	}
	got, err := bk.PublicKey()
	if err != nil {
		return err
	}
	if eq, ok := want.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(got) {
		return sceau.Errorf(sceau.Invalid, "quorum: backup", "the key of backup %s is not the key of CA %s's certificate", bk.WrapKeyID, caID)
	}
	return nil
}

// Import carries out the approved import request approvalID (KEY-4): the
// registered backup is read from its location and checked against its
// registered SHA-256; the holders in shares present their shares of its
// wrapping key as for an activation (wrong PINs counted, locked and revoked
// shares refused, each an audit event); with m of them the wrapping key is
// rebuilt in memory, the backup verified and restored into CA caID's
// store, and the wrapping key wiped. The caller wipes the PINs.
func (b *Backups) Import(ctx context.Context, p access.Principal, caID, approvalID string, shares []PresentedShare) (*BackupRecord, error) {
	const op = "quorum: import"
	req, approvers, err := b.approved(ctx, p, approvalID, access.KeyImport, caID)
	if err != nil {
		return nil, err
	}
	if err := b.checkImport(ctx, b.db, req); err != nil {
		return nil, err
	}
	var plan ImportPlan
	_ = decodePayload(op, req, &plan)
	var used int
	if err := b.db.QueryRowContext(ctx, qImportsByApproval, approvalID).Scan(&used); err != nil {
		return nil, store.Classify(op, err)
	}
	if used > 0 {
		return nil, sceau.Errorf(sceau.Conflict, op, "request %s was carried out already", approvalID)
	}
	rec, err := b.lookup(ctx, b.db, plan.Backup)
	if err != nil {
		return nil, err
	}
	bk, raw, err := keys.ReadBackupFile(rec.Location)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != rec.SHA256 {
		return nil, sceau.Errorf(sceau.Invalid, op, "the file at %s is not backup %s as registered (its SHA-256 differs)", rec.Location, rec.ID)
	}
	if bk.CA != caID || bk.WrapKeyID != rec.ID || bk.Label != rec.Label {
		return nil, sceau.Errorf(sceau.Invalid, op, "the file at %s names another CA, key or wrapping key than backup %s", rec.Location, rec.ID)
	}
	if err := b.samePublic(caID, bk); err != nil {
		return nil, err
	}
	vault, label, err := b.o.Vault(caID)
	if err != nil {
		return nil, err
	}
	if label != bk.Label {
		return nil, sceau.Errorf(sceau.Invalid, op, "backup %s is of key %q; CA %s's key is %q", rec.ID, bk.Label, caID, label)
	}
	actor := p.Actor(req.RequesterRole)
	a, err := b.reg.Begin(ctx, actor, rec.ID, b.o.Window)
	if err != nil {
		return nil, err
	}
	var holders []string
	for _, s := range shares {
		if err := b.checkHolder(ctx, s.Holder); err != nil {
			return nil, err
		}
		var f ShareFile
		if err := json.Unmarshal(s.File, &f); err != nil {
			return nil, sceau.Errorf(sceau.Invalid, op, "the share file of %s is not a Sceau share file", s.Holder)
		}
		if err := a.Present(ctx, s.Holder, &f, s.PIN); err != nil {
			return nil, err
		}
		holders = append(holders, s.Holder)
	}
	restored := false
	err = a.Complete(ctx, func(kek []byte) error {
		if err := vault.RestoreKey(bk, kek); err != nil {
			return err
		}
		restored = true
		return nil
	}, func() {})
	if err != nil {
		if restored {
			_ = vault.DestroyKey(label)
		}
		return nil, err
	}
	approversJSON, _ := json.Marshal(approvers)
	err = b.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qInsertImport,
			approvalID, rec.ID, caID, store.FormatTime(b.clock.Now()), p.Account, string(approversJSON)); err != nil {
			return store.Classify(op, err)
		}
		return b.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.imported", Object: "key:" + label,
			Details: map[string]any{"ca": caID, "backup": rec.ID, "location": rec.Location, "mechanism": rec.Mechanism,
				"approval": approvalID, "approvers": approvers, "holders": holders}})
	})
	if err != nil {
		// AUD-7: an import that cannot be recorded is undone.
		_ = vault.DestroyKey(label)
		return nil, err
	}
	return rec, nil
}

// executeDestroy destroys CA req.Resource.ID's key (KEY-6) inside the
// transaction of the last approval: every registered backup is marked
// destroyed and its file removed where it is still at its location, the
// share carriers of the activation secret and of every backup's wrapping
// key are revoked, and the key is destroyed in its store, last, so that a
// store that refuses leaves nothing recorded.
func (b *Backups) executeDestroy(ctx context.Context, tx *store.Tx, req *access.Request) (string, error) {
	return b.DestroyKey(ctx, tx, sceau.Actor{ID: req.Requester, Role: string(req.RequesterRole)}, req.Resource.ID, req.ID)
}

// DestroyKey destroys CA caID's key in tx as executeDestroy says, for a
// procedure approved elsewhere (a CA's termination, END-1), approval naming
// its request.
func (b *Backups) DestroyKey(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, approval string) (string, error) {
	const op = "quorum: destroy"
	vault, label, err := b.o.Vault(caID)
	if err != nil {
		return "", err
	}
	now := store.FormatTime(b.clock.Now())
	list, err := b.list(ctx, tx, caID)
	if err != nil {
		return "", err
	}
	var destroyed []*BackupRecord
	for i := range list {
		rec := &list[i]
		if rec.Status == BackupActive {
			if _, err := tx.ExecContext(ctx, qSetBackupStatus,
				BackupDestroyed, now, actor.ID, rec.ID, BackupActive); err != nil {
				return "", store.Classify(op, err)
			}
			destroyed = append(destroyed, rec)
		}
		if err := b.revokeIfSplit(ctx, tx, actor, rec.ID); err != nil {
			return "", err
		}
	}
	if err := b.revokeIfSplit(ctx, tx, actor, label); err != nil {
		return "", err
	}
	if err := vault.DestroyKey(label); err != nil {
		return "", err
	}
	for _, rec := range destroyed {
		removed := os.Remove(rec.Location) == nil
		if err := b.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.backup_destroyed", Object: "key:" + label,
			Details: map[string]any{"ca": caID, "backup": rec.ID, "location": rec.Location, "file_removed": removed, "approval": approval}}); err != nil {
			return "", err
		}
	}
	if err := b.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.destroyed", Object: "key:" + label,
		Details: map[string]any{"ca": caID, "approval": approval, "backups_destroyed": len(destroyed)}}); err != nil {
		return "", err
	}
	return fmt.Sprintf("the key of CA %s was destroyed; %d backups marked destroyed; share carriers revoked", caID, len(destroyed)), nil
}

// revokeIfSplit revokes the shares of keyID if it has a registered split
// with shares not yet revoked.
func (b *Backups) revokeIfSplit(ctx context.Context, tx *store.Tx, actor sceau.Actor, keyID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, qCountLiveShares, keyID).Scan(&n); err != nil {
		return store.Classify("quorum: destroy", err)
	}
	if n == 0 {
		return nil
	}
	return b.reg.RevokeAll(ctx, tx, actor, keyID)
}

// List returns the registered backups of CA caID, oldest first, with the
// holders of their wrapping keys.
func (b *Backups) List(ctx context.Context, caID string) ([]BackupRecord, error) {
	list, err := b.list(ctx, b.db, caID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		sp, err := b.reg.Lookup(ctx, list[i].ID)
		if sceau.KindOf(err) == sceau.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		list[i].Threshold = sp.Threshold
		for _, h := range sp.Holders {
			list[i].Holders = append(list[i].Holders, h.Holder)
		}
	}
	return list, nil
}

func (b *Backups) list(ctx context.Context, q store.Querier, caID string) ([]BackupRecord, error) {
	rows, err := q.QueryContext(ctx, qBackupsOfCA, caID)
	if err != nil {
		return nil, store.Classify("quorum: backups", err)
	}
	defer rows.Close()
	out := []BackupRecord{}
	for rows.Next() {
		rec, err := scanBackup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *rec)
	}
	return out, store.Classify("quorum: backups", rows.Err())
}

func (b *Backups) lookup(ctx context.Context, q store.Querier, id string) (*BackupRecord, error) {
	rec, err := scanBackup(q.QueryRowContext(ctx, qBackupByID, id))
	if errors.Is(err, sql.ErrNoRows) || sceau.KindOf(err) == sceau.NotFound {
		return nil, sceau.Errorf(sceau.NotFound, "quorum: backups", "no registered backup %q", id)
	}
	return rec, err
}

func scanBackup(sc interface{ Scan(...any) error }) (*BackupRecord, error) {
	const op = "quorum: backups"
	var (
		rec                      BackupRecord
		created, approvers       string
		destroyedAt, destroyedBy sql.NullString
	)
	if err := sc.Scan(&rec.ID, &rec.CA, &rec.Label, &rec.Mechanism, &rec.Location, &rec.SHA256, &created, &rec.CreatedBy,
		&rec.Approval, &approvers, &rec.Status, &destroyedAt, &destroyedBy); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, store.Classify(op, err)
	}
	var err error
	if rec.CreatedAt, err = store.ParseTime(created); err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	if err := json.Unmarshal([]byte(approvers), &rec.Approvers); err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	if destroyedAt.Valid {
		t, err := store.ParseTime(destroyedAt.String)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		rec.DestroyedAt = &t
	}
	rec.DestroyedBy = destroyedBy.String
	return &rec, nil
}

// registerIn records a new split inside tx, as Register does.
func (r *Registry) registerIn(ctx context.Context, tx *store.Tx, actor sceau.Actor, keyID string, shares []Share, holders []string, carrier string) error {
	const op = "quorum: register split"
	if len(shares) == 0 || len(shares) != len(holders) {
		return sceau.Errorf(sceau.Invalid, op, "%d shares for %d holders", len(shares), len(holders))
	}
	now := store.FormatTime(r.clock.Now())
	s := shares[0]
	if _, err := tx.ExecContext(ctx, qInsertSplit,
		keyID, s.SetID[:], s.Threshold, s.Total, now); err != nil {
		return store.Classify(op, err)
	}
	for i, h := range holders {
		if _, err := tx.ExecContext(ctx, qInsertShare,
			keyID, h, int(shares[i].X), carrier, now); err != nil {
			return store.Classify(op, err)
		}
	}
	return r.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.split_registered", Object: "key:" + keyID,
		Details: map[string]any{"threshold": s.Threshold, "total": s.Total, "holders": holders, "carrier": carrier}})
}
