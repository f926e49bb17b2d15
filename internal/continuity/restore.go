package continuity

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Trusted checks that the key that signed a backup's manifest is one the
// journal of the backed-up database registered (AUD-2): a backup made by
// anyone else, even encrypted to the right recipients, is refused.
func Trusted(ctx context.Context, q store.Querier, s *Signed) error {
	keys, err := audit.Keys(ctx, q)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID == s.KeyID {
			return nil
		}
	}
	return sceau.Errorf(sceau.Denied, "continuity: manifest", "the manifest is signed by key %.16s…, which the backed-up journal never registered: not this installation's backup", s.KeyID)
}

// CheckEmpty refuses a restore directory that holds anything: a restore
// never mixes with, or overwrites, another installation.
func CheckEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return sceau.E(sceau.Unavailable, "continuity: restore", "cannot read "+dir, err)
	}
	if len(entries) > 0 {
		return sceau.Errorf(sceau.Conflict, "continuity: restore", "%s is not empty: a restore goes into an empty directory", dir)
	}
	return nil
}

// Install moves the staged data directory of o into dir, which CheckEmpty
// accepted.
func Install(o *Opened, dir string) error {
	const op = "continuity: restore"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot create "+dir, err)
	}
	src := o.DataDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == src {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(src, path)
		dst := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		return moveFile(path, dst)
	})
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot put the files in place", err)
	}
	return nil
}

// InstallSQLite moves the staged SQLite snapshot of o to dbPath, where no
// database is.
func InstallSQLite(o *Opened, dbPath string) error {
	const op = "continuity: restore"
	{
		if _, err := os.Stat(dbPath); err == nil {
			return sceau.Errorf(sceau.Conflict, op, "%s exists already: refused", dbPath)
		}
		if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot create the database's directory", err)
		}
		if err := moveFile(o.DBPath(), dbPath); err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot put the database in place", err)
		}
	}
	return nil
}

// moveFile renames src to dst, copying when they are on two file systems.
func moveFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Recoverer recreates, in tx, the state a replayed journal event records
// (ca.RecoverFromEvent, revocation.RecoverFromEvent); it reports whether
// the event was one it handles.
type Recoverer func(ctx context.Context, tx *store.Tx, r *audit.Record) (bool, error)

// Reconciled is what Reconcile put back.
type Reconciled struct {
	From, To  int64          // the database's head before, and after
	Events    int64          // events appended from the export
	Recovered map[string]int // events that recreated state, per action
}

// Reconcile brings a restored database up to the journal's off-site export
// in exportDir (CONT-1, AUD-5): it verifies the export (its chain, and its
// checkpoints against the keys the database registered), then in one
// transaction appends the events the database lacks and lets each
// recoverer recreate what they record, so that every certificate issued or
// revoked since the copy answers OCSP as it did. An export that is not this
// database's, or is broken, is refused and nothing is written.
func Reconcile(ctx context.Context, db *store.DB, exportDir string, recoverers ...Recoverer) (*Reconciled, error) {
	const op = "continuity: reconcile with the journal's export"
	keys, err := audit.Keys(ctx, db)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	res, _, err := audit.VerifyExport(ctx, exportDir, audit.VerifyOptions{TrustedKeyIDs: ids})
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		return nil, sceau.Errorf(sceau.Invalid, op, "the export %s is broken at event %d (%s): nothing was replayed", exportDir, res.BrokenAt, res.Reason)
	}
	out := &Reconciled{Recovered: map[string]int{}}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		head, _, err := audit.Head(ctx, tx)
		if err != nil {
			return err
		}
		out.From = head
		n, err := audit.ReplayExport(ctx, tx, exportDir, func(r *audit.Record) error {
			for _, rec := range recoverers {
				ok, err := rec(ctx, tx, r)
				if err != nil {
					return err
				}
				if ok {
					out.Recovered[r.Action]++
				}
			}
			return nil
		})
		out.Events, out.To = n, head+n
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}
