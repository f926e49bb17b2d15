package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Settle says what remains after a ceremony stopped. The share files of a
// split that was never registered protect nothing (the secret they share
// was wiped and opens no keystore): they are removed, so that a new
// ceremony can write them again. Every removal that fails is said.
func (c *Ceremony) Settle(ctx context.Context, cas []string) ([]string, error) {
	if !c.installed() {
		if err := emptyDir(c.newDir); err != nil {
			return []string{fmt.Sprintf("the new installation %s was not created, but: %v", c.newDir, err)}, nil
		}
		return []string{fmt.Sprintf("nothing was created: the new installation %s does not exist (no key, certificate or share)", c.newDir)}, nil
	}
	db, err := c.database(ctx)
	if err != nil {
		return nil, err
	}
	reg := registry(db)
	l := LayoutOf(c.Config)
	var out []string
	// KEY-4, KEY-8: a backup made at a ceremony that did not complete does
	// not outlive it: its registration and the split of its wrapping key
	// are discarded with their audit events, its files removed.
	for _, o := range c.backups {
		rec, err := c.ceremonyBackup(ctx, db, o.CA)
		if err != nil {
			out = append(out, fmt.Sprintf("the backup of CA %s could not be looked up: %v", o.CA, err))
			continue
		}
		if rec == nil {
			continue
		}
		removed, err := c.backupService(db).DiscardCeremonyBackup(ctx, c.Officer(), rec.ID, "the ceremony stopped before it completed")
		if err != nil {
			out = append(out, fmt.Sprintf("backup %s of CA %s was made and could NOT be undone: %v", rec.ID, o.CA, err))
			continue
		}
		out = append(out, fmt.Sprintf("backup %s of CA %s was undone: its registration and the split of its wrapping key were discarded (key.backup_discarded), %d files removed",
			rec.ID, o.CA, len(removed)))
	}
	created := 0
	for _, id := range cas {
		exists, err := ca.Exists(ctx, db, id)
		if err != nil {
			return out, err
		}
		var dc config.CA
		for _, x := range c.Config.CAs {
			if x.ID == id {
				dc = x
			}
		}
		if exists {
			created++
			out = append(out, fmt.Sprintf("CA %s EXISTS: its key (%s), certificate, OCSP responder and share files were created; it is in the database and the configuration", id, c.keyStore(dc)))
			continue
		}
		sp, lerr := reg.Lookup(ctx, sceau.CAKeyLabel(id))
		registered := lerr == nil
		storeDir := l.CAStoreDir(id)
		hasStore := fileExists(l.CAStoreIndex(id))
		shares, _ := filepath.Glob(filepath.Join(l.SharesDir(id), "*.share"))
		if dc.Activation == nil {
			out = append(out, fmt.Sprintf("CA %s was not created", id))
			continue
		}
		if !registered && !hasStore && len(shares) == 0 {
			_ = os.Remove(l.SharesDir(id)) // an empty directory, or none
			out = append(out, fmt.Sprintf("CA %s was not created; no share of it was made", id))
			continue
		}
		// KEY-2, KEY-8: the CA was not created, so the split protects a key
		// that was never certified: nothing of it may stay half-made. The
		// split is discarded with its audit event, the share files and the
		// CA's own keystore (with any key generated in it) are removed.
		var cards []string
		if registered {
			for _, h := range sp.Holders {
				if h.Carrier == quorum.CarrierCard {
					cards = append(cards, h.Holder)
				}
			}
			if err := reg.Discard(ctx, c.Officer(), sceau.CAKeyLabel(id), fmt.Sprintf("the ceremony stopped before CA %s was created", id)); err != nil {
				out = append(out, fmt.Sprintf("CA %s was NOT created, and its registered split could not be discarded: %v", id, err))
				continue
			}
		}
		var failed []string
		for _, f := range shares {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				failed = append(failed, fmt.Sprintf("share file %s could NOT be removed: %v", f, err))
			}
		}
		if err := os.Remove(l.SharesDir(id)); err != nil && !os.IsNotExist(err) {
			failed = append(failed, fmt.Sprintf("the directory %s could NOT be removed: %v", l.SharesDir(id), err))
		}
		if dc.Token == "" && hasStore {
			if err := os.RemoveAll(storeDir); err != nil {
				failed = append(failed, fmt.Sprintf("its keystore %s could NOT be removed: %v", storeDir, err))
			}
		}
		what := fmt.Sprintf("CA %s was not created; its unfinished split was undone: ", id)
		var parts []string
		if registered {
			parts = append(parts, "the registered split was discarded (key.split_discarded)")
		}
		if len(shares) > 0 {
			parts = append(parts, fmt.Sprintf("%d share files were removed", len(shares)))
		}
		if dc.Token == "" && hasStore {
			parts = append(parts, "its keystore "+storeDir+" was removed")
		}
		if dc.Token != "" && registered {
			parts = append(parts, fmt.Sprintf("the user PIN of token %q was the discarded secret: re-initialise the token with its SO PIN before a new ceremony", dc.Token))
		}
		if len(cards) > 0 {
			parts = append(parts, fmt.Sprintf("the shares written to the cards of %s open nothing any more and may be erased", strings.Join(cards, ", ")))
		}
		parts = append(parts, failed...)
		out = append(out, what+strings.Join(parts, "; "))
	}
	if created == 0 {
		out = append(out, "no CA was created: no CA key or certificate exists")
	}
	return out, nil
}

// leftovers finds what an earlier, failed attempt left of the CAs to
// create: a ceremony does not build on them.
func (c *Ceremony) leftovers(ctx context.Context, missing []string) []string {
	var out []string
	var reg *quorum.Registry
	if db, err := c.database(ctx); err == nil {
		reg = registry(db)
	}
	l := LayoutOf(c.Config)
	for _, id := range missing {
		if fileExists(l.CAStoreIndex(id)) {
			out = append(out, fmt.Sprintf("CA %s does not exist, but its keystore %s does (left by an earlier attempt?)", id, l.CAStoreDir(id)))
		}
		if err := emptyDir(l.SharesDir(id)); err != nil {
			out = append(out, fmt.Sprintf("CA %s does not exist, but share files do: %v", id, err))
		}
		if reg != nil {
			if _, err := reg.Lookup(ctx, sceau.CAKeyLabel(id)); err == nil {
				out = append(out, fmt.Sprintf("CA %s does not exist, but a split of its activation secret is registered already", id))
			}
		}
	}
	return out
}

// emptyDir refuses a directory that exists and holds something.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
