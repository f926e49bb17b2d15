package registration

import (
	"context"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/store"
)

// Query searches dossiers for the console: by state, by profile, and by a
// text found in the subject or the contact (a name, an e-mail address, an
// organisation), newest first.
type Query struct {
	State   State
	Profile string
	Text    string
	Limit   int // default and at most 200
}

// Search returns the dossiers matching q, without their evidence (CA-4:
// read by the Registration Officer, the Auditor and the Security Officer).
func (s *Service) Search(ctx context.Context, p access.Principal, q Query) ([]*Dossier, error) {
	const op = "registration: search"
	if _, err := decide(p, access.DossierRead, "dossier", 0); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 200
	}
	text := strings.ToLower(strings.TrimSpace(q.Text))
	like := "%" + strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(text) + "%"
	rows, err := s.db.QueryContext(ctx, qSearch, string(q.State), string(q.State), q.Profile, q.Profile, text, like, like, q.Limit)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	out := []*Dossier{}
	for rows.Next() {
		d, err := scanDossier(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, store.Classify(op, rows.Err())
}

// Acceptances returns every CGU acceptance of dossier id, oldest first
// (Dossier carries only the latest).
func (s *Service) Acceptances(ctx context.Context, p access.Principal, id int64) ([]CGU, error) {
	const op = "registration: acceptances"
	if _, err := decide(p, access.DossierRead, "dossier", id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, qAcceptances, id)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []CGU
	for rows.Next() {
		var c CGU
		var at string
		if err := rows.Scan(&c.Document, &c.SHA256, &c.URL, &c.How, &at, &c.RecordedBy, &c.ProofLeaf); err != nil {
			return nil, store.Classify(op, err)
		}
		if c.AcceptedAt, err = store.ParseTime(at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, store.Classify(op, rows.Err())
}

// History returns the journal events about dossier id, in order: its
// history is part of the dossier, read under dossier.read (the rest of the
// journal stays the Auditor's, AUD-3). since is the dossier's creation
// time: the walk starts at the last event before it, found by halving the
// journal (its times grow with its numbers), so a dossier's page does not
// read the journal from its start.
func (s *Service) History(ctx context.Context, p access.Principal, id int64, since time.Time) ([]audit.Record, error) {
	if _, err := decide(p, access.DossierRead, "dossier", id); err != nil {
		return nil, err
	}
	start, err := s.eventBefore(ctx, since.Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	obj := objectOf(id)
	var out []audit.Record
	f := audit.Filter{Object: obj, After: start, Limit: audit.MaxPage}
	for range 20 { // at most 20 pages of the journal's walk per view
		pg, err := audit.Search(ctx, s.db, f)
		if err != nil {
			return nil, err
		}
		for _, r := range pg.Events {
			if r.Object == obj { // the filter is a prefix: dossier:1 also finds dossier:12
				out = append(out, r)
			}
		}
		if !pg.More || len(out) >= audit.MaxPage {
			break
		}
		f.After = pg.Next
	}
	return out, nil
}

// eventBefore is the number of an event dated before t (0 if none is
// known): the walk of the journal for what follows t starts after it.
func (s *Service) eventBefore(ctx context.Context, t time.Time) (int64, error) {
	head, _, err := audit.Head(ctx, s.db)
	if err != nil {
		return 0, err
	}
	at := store.FormatTime(t)
	lo, hi := int64(0), head
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		rec, err := audit.ReadEvent(ctx, s.db, mid)
		if err != nil {
			break // a gap (an event archived elsewhere): lo is still before t
		}
		if rec.At < at {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo, nil
}
