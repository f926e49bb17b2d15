package node

import (
	"context"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// JournalCheck is what 'sceau audit verify' found: the off-site export
// first, then the database, anchored on the export (AUD-2, AUD-5).
type JournalCheck struct {
	Export   *audit.VerifyResult `json:"export,omitempty"`
	Database *audit.VerifyResult `json:"database,omitempty"`
	OK       bool                `json:"ok"`
	// NoExport says why the export was skipped: it holds nothing yet
	// (and there is a database to check).
	NoExport error `json:"-"`
	// Anchor is the export's last event and checkpoint, which the database
	// held unchanged when Database is whole: no rollback.
	Anchor *audit.Anchor `json:"-"`
}

// VerifyJournal checks the export in exportDir (if any) and then db (if
// not nil): a whole export anchors the database, so a rolled-back or
// truncated database does not pass for want of a witness. progress, if
// not nil, gives each check's progress callback. The error names the
// first part found broken and where; a failure to read is returned as is.
func VerifyJournal(ctx context.Context, db *store.DB, exportDir string, opts audit.VerifyOptions,
	progress func(what string) func(done, total int64)) (*JournalCheck, error) {
	if progress == nil {
		progress = func(string) func(done, total int64) { return nil }
	}
	broken := func(what string, r *audit.VerifyResult) error {
		return sceau.Errorf(sceau.Conflict, "audit verify", "%s is broken at event %d: %s", what, r.BrokenAt, r.Reason)
	}
	c := &JournalCheck{}
	var failed error
	if exportDir != "" {
		eo := opts
		eo.Progress = progress("verifying the export")
		res, anchor, err := audit.VerifyExport(ctx, exportDir, eo)
		switch {
		case err != nil && sceau.KindOf(err) == sceau.NotFound && db != nil:
			c.NoExport = err
		case err != nil:
			return nil, err
		default:
			c.Export = &res
			if !res.OK() {
				failed = broken("the export", &res)
			} else {
				opts.Anchor, c.Anchor = anchor, anchor
			}
		}
	}
	if db != nil && failed == nil {
		do := opts
		do.Progress = progress("verifying the database")
		res, err := audit.VerifyWith(ctx, db, do)
		if err != nil {
			return nil, err
		}
		c.Database = &res
		if !res.OK() {
			failed = broken("the database", &res)
		}
	}
	c.OK = failed == nil
	return c, failed
}
