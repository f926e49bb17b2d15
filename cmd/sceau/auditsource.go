package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// journal is the audit journal as the read commands see it, whichever way
// they reach it (AUD-3): through the admin API, where the service decides
// with the access matrix, or offline on the database file, where access to
// the journal is access to the file.
type journal interface {
	// where names the journal in what the commands print.
	where() string
	// offline says that it is read from the database file, not the service.
	offline() bool
	status(ctx context.Context) (*server.AuditStatus, error)
	// events reads at most limit events that match f, page by page.
	events(ctx context.Context, f audit.Filter, limit int) ([]server.EventInfo, error)
	event(ctx context.Context, seq int64) (*server.EventInfo, error)
	alerts(ctx context.Context, since time.Time, limit int) ([]audit.Alert, error)
	// export brings dir up to date with the journal (AUD-5): the service's
	// journal downloaded page by page, or the database's exported.
	export(ctx context.Context, e *env, dir string) error
	// record enters an event that happened outside the software (AUD-1);
	// offline, by is who enters it, taken as given.
	record(ctx context.Context, k audit.ManualKind, fields map[string]string, by sceau.Actor) (*server.RecordedEvent, error)
	// recorder checks who record will name, and says it for the dry run.
	recorder(by sceau.Actor) (named sceau.Actor, said string, err error)
	Close()
}

// openJournal opens the journal the audit command should read: through
// the admin API with --api or when someone is logged in here, else the
// database (dbPath, or the installation's) with exportDir as its export.
// write applies pending migrations first, as serve would: commands that only
// read leave the database as it is.
func openJournal(ctx context.Context, e *env, m *auditMode, dbPath, exportDir string, write bool) (journal, error) {
	c, err := m.remote(e, dbPath)
	if err != nil {
		return nil, err
	}
	if c != nil {
		return apiJournal{c}, nil
	}
	t, err := openAuditTarget(ctx, e, dbPath, true, write)
	if err != nil {
		return nil, err
	}
	if exportDir != "" {
		t.ExportDir = exportDir
	}
	return &localJournal{t: t, g: audit.Guard{DB: t.DB, Decider: audit.FileAccess}}, nil
}

// apiJournal reads through the admin API.
type apiJournal struct{ c *adminapi.Client }

func (j apiJournal) where() string { return "the service at " + j.c.Base() }
func (j apiJournal) Close()        {}
func (j apiJournal) offline() bool { return false }

func (j apiJournal) status(ctx context.Context) (*server.AuditStatus, error) {
	return j.c.AuditStatus(ctx)
}

func (j apiJournal) events(ctx context.Context, f audit.Filter, limit int) ([]server.EventInfo, error) {
	out := []server.EventInfo{}
	for len(out) < limit {
		p, err := j.c.AuditEvents(ctx, f, min(limit-len(out), audit.MaxPage))
		if err != nil {
			return nil, err
		}
		out = append(out, p.Events...)
		if !p.More || p.Next <= f.After {
			break
		}
		f.After = p.Next
	}
	return out, nil
}

func (j apiJournal) event(ctx context.Context, seq int64) (*server.EventInfo, error) {
	return j.c.AuditEvent(ctx, seq)
}

func (j apiJournal) alerts(ctx context.Context, since time.Time, limit int) ([]audit.Alert, error) {
	return j.c.AuditAlerts(ctx, since, limit)
}

func (j apiJournal) export(ctx context.Context, e *env, dir string) error {
	if dir == "" {
		return sceau.Errorf(sceau.Invalid, "audit export", "give --to DIR: the directory that receives the journal on this machine")
	}
	return downloadAudit(ctx, e, j.c, dir)
}

func (j apiJournal) record(ctx context.Context, k audit.ManualKind, fields map[string]string, by sceau.Actor) (*server.RecordedEvent, error) {
	if _, _, err := j.recorder(by); err != nil {
		return nil, err
	}
	return j.c.AuditRecord(ctx, server.ManualRecord{Kind: k.Name, Fields: fields})
}

func (j apiJournal) recorder(by sceau.Actor) (sceau.Actor, string, error) {
	if by.ID != "" || by.Role != "" {
		return by, "", sceau.Errorf(sceau.Invalid, "audit record", "through the admin API the event names the person logged in: leave out --operator and --role (they are for --local)")
	}
	return sceau.Actor{ID: "you"}, "you, as logged in at this terminal", nil
}

// localJournal reads the database file directly, as the local actor.
type localJournal struct {
	t *auditTarget
	g audit.Guard
}

var auditActor = sceau.Actor{ID: "local"}

func (j *localJournal) where() string { return j.t.DBName }
func (j *localJournal) Close()        { j.t.Close() }
func (j *localJournal) offline() bool { return true }

func (j *localJournal) status(ctx context.Context) (*server.AuditStatus, error) {
	st, err := j.g.Status(ctx, auditActor, j.t.ExportDir, time.Now())
	return &server.AuditStatus{Status: st}, err
}

func (j *localJournal) events(ctx context.Context, f audit.Filter, limit int) ([]server.EventInfo, error) {
	out := []server.EventInfo{}
	for len(out) < limit {
		f.Limit = min(limit-len(out), audit.MaxPage)
		p, err := j.g.Search(ctx, auditActor, f)
		if err != nil {
			return nil, err
		}
		for i := range p.Events {
			out = append(out, server.EventInfoOf(&p.Events[i]))
		}
		if !p.More || p.Next <= f.After {
			break
		}
		f.After = p.Next
	}
	return out, nil
}

func (j *localJournal) event(ctx context.Context, seq int64) (*server.EventInfo, error) {
	rec, err := j.g.Event(ctx, auditActor, seq)
	if err != nil {
		return nil, err
	}
	ev := server.EventInfoOf(&rec)
	return &ev, nil
}

func (j *localJournal) alerts(ctx context.Context, since time.Time, limit int) ([]audit.Alert, error) {
	return j.g.Alerts(ctx, auditActor, since, limit)
}

func (j *localJournal) export(ctx context.Context, e *env, dir string) error {
	if dir == "" {
		dir = j.t.ExportDir
	}
	if dir == "" {
		return sceau.Errorf(sceau.Invalid, "audit export", "no export directory: set audit.export.dir or give --to DIR")
	}
	n, err := j.g.Export(ctx, auditActor, dir)
	if err != nil {
		return err
	}
	st, err := audit.ReadExportStatus(ctx, j.t.DB, dir, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Exported %d events to %s: through event %d, checkpoint %d; lag %d events\n",
		n, dir, st.Cursor.Seq, st.Checkpoint, st.LagEvents)
	return nil
}

func (j *localJournal) record(ctx context.Context, k audit.ManualKind, fields map[string]string, by sceau.Actor) (*server.RecordedEvent, error) {
	jl := audit.NewJournal(nil)
	ev, err := audit.ManualEvent(k, by, fields, jl.Now())
	if err != nil {
		return nil, err
	}
	seq, err := audit.RecordManualOffline(ctx, j.t.DB, jl, by, k.Name, fields)
	if err != nil {
		return nil, err
	}
	return &server.RecordedEvent{Seq: seq, Action: ev.Action, Object: ev.Object, Actor: by.ID, Role: by.Role}, nil
}

func (j *localJournal) recorder(by sceau.Actor) (sceau.Actor, string, error) {
	return by, by.String() + " (offline: the name is taken as given)", nil
}
