package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/compliance"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// The journal events the backup procedure writes (CONT-1): the self-audit
// judges the backups' age and the last restore test from them.
const (
	backupCreatedAction  = "backup.created"
	backupVerifiedAction = "backup.verified"
)

// SelfAudit returns the self-audit of this node (COMP-1), served by the
// admin API: the checks below, the manual clauses with the evidence
// archived for them, and the report archived (COMP-2) in the transaction
// that journals it.
func (n *Node) SelfAudit(site *publication.Site, acc *access.Service) server.SelfAudit {
	return func(ctx context.Context, actor sceau.Actor) (*compliance.Report, error) {
		ev, err := n.evidence(ctx)
		if err != nil {
			return nil, err
		}
		r := compliance.Run(ctx, n.complianceChecks(site, acc), compliance.ManualClauses(), compliance.Options{
			Installation: n.Config.Publication.Name, Version: version(), By: actor.ID, Now: time.Now(),
			FollowUp: n.Config.Compliance.FollowUp.Duration, Evidence: ev})
		if err := n.archiveReport(ctx, actor, r); err != nil {
			return nil, err
		}
		return r, nil
	}
}

// archiveReport keeps the report's JSON and HTML in the archive and
// journals compliance.checked, in one transaction (COMP-2).
func (n *Node) archiveReport(ctx context.Context, actor sceau.Actor, r *compliance.Report) error {
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return sceau.E(sceau.Internal, "compliance", "the report cannot be encoded", err)
	}
	var page bytes.Buffer
	if err := compliance.WriteHTML(&page, r, publication.Stylesheet()); err != nil {
		return sceau.E(sceau.Internal, "compliance", "the report cannot be rendered", err)
	}
	source := "compliance:" + r.At.Format("2006-01-02T150405Z")
	return n.DB.InTx(ctx, func(tx *store.Tx) error {
		items, err := n.Archive.AddTx(ctx, tx, actor,
			archive.New{Kind: archive.KindAuditReport, Source: source, EventAt: r.At, MediaType: "application/json", Class: archive.Internal, Content: body},
			archive.New{Kind: archive.KindAuditReport, Source: source + ".html", EventAt: r.At, MediaType: "text/html", Class: archive.Internal, Content: page.Bytes()})
		if err != nil {
			return err
		}
		leaf := items[0].Leaf
		r.Archived = &leaf
		var follow []string
		for _, c := range r.Clauses {
			if c.FollowUp != nil {
				follow = append(follow, c.ID+" by "+c.FollowUp.Format(time.DateOnly))
			}
		}
		return n.Journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionComplianceChecked, Object: "archive:item:" + fmt.Sprint(leaf),
			Details: map[string]any{"verdict": r.Verdict, "passed": r.Passed, "failed": r.Failed, "to_confirm": r.Confirm,
				"failed_clauses": r.FailedClauses(), "follow_up": follow}})
	})
}

// evidence lists what was archived for the manual clauses (sceau check
// confirm: kind compliance-evidence, source compliance:<clause>).
func (n *Node) evidence(ctx context.Context) ([]compliance.Evidence, error) {
	var out []compliance.Evidence
	for from := int64(0); ; {
		items, err := n.Archive.List(ctx, archive.Filter{Kind: archive.KindEvidence, From: from, Limit: 10_000})
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, compliance.Evidence{Clause: strings.TrimPrefix(it.Source, "compliance:"), Item: it.Leaf, SHA256: it.SHA256, RecordedAt: it.AddedAt})
			from = it.Leaf + 1
		}
		if len(items) < 10_000 {
			return out, nil
		}
	}
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// complianceChecks are the automatic clauses of COMP-1, each citing what
// it shows.
func (n *Node) complianceChecks(site *publication.Site, acc *access.Service) []compliance.Check {
	return []compliance.Check{
		{ID: "roles.separation", Cites: []string{"ROLE-2"}, Title: "Role grants obey the separation of duties", Run: func(ctx context.Context) ([]compliance.Finding, error) {
			return checkRoles(ctx, acc)
		}},
		{ID: "keys.custody", Cites: []string{"KEY-1", "KEY-2"}, Title: "CA keys are in a device or an encrypted keystore, activated by m of n holders", Run: n.checkKeyCustody},
		{ID: "keys.lifetimes", Cites: []string{"KEY-7"}, Title: "CA certificates live at most 10 years and within their issuer's validity", Run: n.checkLifetimes},
		{ID: "crl.freshness", Cites: []string{"CA-3", "PUB-3"}, Title: "Every CA's CRL is current", Run: n.checkCRLs},
		{ID: "publication.manifest", Cites: []string{"PUB-1", "PUB-2"}, Title: "The public site verifies against its signed manifest", Run: func(ctx context.Context) ([]compliance.Finding, error) {
			return n.checkSite(ctx, site)
		}},
		{ID: "journal.chain", Cites: []string{"AUD-2", "AUD-5"}, Title: "The journal's chain and checkpoints verify, with its export", Run: n.checkJournal},
		{ID: "archive.replication", Cites: []string{"ARC-3", "ARC-4", "ARC-5"}, Title: "The archive is signed, stamped and replicated within its limits", Run: n.checkArchive},
		{ID: "backups", Cites: []string{"CONT-1"}, Title: "Backups are recent and a restore was tested recently", Run: n.checkBackups},
		{ID: "clock", Cites: []string{"SYS-4"}, Title: "The clock is checked against NTP and in sync", Run: n.checkClock},
		{ID: "profiles.lint", Cites: []string{"CA-2"}, Title: "Each profile's latest certificate lints clean", Run: n.checkProfiles},
		{ID: "termination", Cites: []string{"END-1"}, Title: "Every CA termination ran to its end", Run: n.checkTerminations},
		{ID: "incidents", Cites: []string{"INC-1", "INC-4"}, Title: "Incidents were notified and the authorities told in time", Run: n.checkIncidents},
	}
}

// ROLE-2: what the grant refuses must also not be found in the store
// (a row written around the service).
func checkRoles(ctx context.Context, acc *access.Service) ([]compliance.Finding, error) {
	accounts, err := acc.AllAccounts(ctx)
	if err != nil {
		return nil, err
	}
	var fs []compliance.Finding
	held := 0
	for _, a := range accounts {
		if a.Status != access.AccountActive || len(a.Roles) == 0 {
			continue
		}
		held++
		if err := access.CheckRoles(a.Roles); err != nil {
			fs = append(fs, compliance.Bad("%s holds %v: %v", a.Name, a.Roles, err))
		}
		// ROLE-4: every holder of a role authenticates with a second factor.
		if !a.TOTP && len(a.Certificates) == 0 {
			fs = append(fs, compliance.Bad("%s holds %v with neither TOTP nor a personal certificate (ROLE-4)", a.Name, a.Roles))
		}
	}
	if len(fs) == 0 {
		fs = append(fs, compliance.OK("%d active accounts hold roles; every combination is allowed", held))
	}
	return fs, nil
}

func (n *Node) checkKeyCustody(context.Context) ([]compliance.Finding, error) {
	var fs []compliance.Finding
	for _, c := range n.Config.CAs {
		switch {
		case c.Token != "":
			fs = append(fs, compliance.OK("%s: in the PKCS#11 device, token %q, m-of-n activation", c.ID, c.Token))
		case c.Activation != nil:
			fs = append(fs, compliance.OK("%s: in its own encrypted keystore, %d of %d holders activate it", c.ID, c.Activation.Threshold, len(c.Activation.Holders)))
		default:
			fs = append(fs, compliance.Bad("%s: in the service keystore, activated from keystore.secret_file without m-of-n control (KEY-2: give it an activation policy)", c.ID))
		}
	}
	return fs, nil
}

func (n *Node) checkLifetimes(context.Context) ([]compliance.Finding, error) {
	const tenYears = 10*365*24*time.Hour + 3*24*time.Hour // leap days
	var fs []compliance.Finding
	now := time.Now()
	for _, c := range n.Authority.CAs() {
		cert := c.Cert
		life := cert.NotAfter.Sub(cert.NotBefore)
		switch {
		case life > tenYears:
			fs = append(fs, compliance.Bad("%s: its certificate lives %s, over 10 years", c.Spec.ID, life.Round(24*time.Hour)))
		case len(c.Chain) > 1 && cert.NotAfter.After(c.Chain[1].NotAfter):
			fs = append(fs, compliance.Bad("%s: it outlives its issuer (%s after %s)", c.Spec.ID, cert.NotAfter.Format(time.DateOnly), c.Chain[1].NotAfter.Format(time.DateOnly)))
		case now.After(cert.NotAfter):
			fs = append(fs, compliance.Bad("%s: its certificate expired on %s", c.Spec.ID, cert.NotAfter.Format(time.DateOnly)))
		default:
			fs = append(fs, compliance.OK("%s: valid until %s", c.Spec.ID, cert.NotAfter.Format(time.DateOnly)))
		}
	}
	return fs, nil
}

func (n *Node) checkCRLs(ctx context.Context) ([]compliance.Finding, error) {
	var fs []compliance.Finding
	now := time.Now()
	for _, c := range n.Authority.CAs() {
		id := c.Spec.ID
		if _, final, err := n.Revocation.Final(ctx, n.DB, id); err != nil {
			return nil, err
		} else if final {
			fs = append(fs, compliance.OK("%s: terminated, its final CRL stands (END-1)", id))
			continue
		}
		crl, err := n.Revocation.Latest(ctx, id, 0)
		if sceau.KindOf(err) == sceau.NotFound {
			fs = append(fs, compliance.Bad("%s: no CRL was ever issued", id))
			continue
		}
		if err != nil {
			return nil, err
		}
		due := crl.ThisUpdate.Add(c.Spec.CRL.Refresh + time.Hour)
		switch {
		case !now.Before(crl.NextUpdate):
			fs = append(fs, compliance.Bad("%s: CRL %d's nextUpdate %s has passed", id, crl.Number, crl.NextUpdate.Format(time.RFC3339)))
		case c.Spec.CRL.Refresh > 0 && now.After(due):
			fs = append(fs, compliance.Bad("%s: CRL %d of %s was not reissued on schedule (every %s)", id, crl.Number, crl.ThisUpdate.Format(time.RFC3339), c.Spec.CRL.Refresh))
		default:
			fs = append(fs, compliance.OK("%s: CRL %d, next update %s", id, crl.Number, crl.NextUpdate.Format(time.RFC3339)))
		}
	}
	return fs, nil
}

// checkSite verifies what the site serves now against its manifest, as a
// relying party would (PUB-2), reading the handler in process.
func (n *Node) checkSite(ctx context.Context, site *publication.Site) ([]compliance.Finding, error) {
	if site == nil {
		return []compliance.Finding{compliance.Bad("this node serves no public site")}, nil
	}
	rep, err := publication.Verify(ctx, handlerFetcher{site.Handler()}, n.rootPool())
	if err != nil {
		return nil, err
	}
	if !rep.OK() {
		return []compliance.Finding{compliance.Bad("%s", rep.Summary())}, nil
	}
	return []compliance.Finding{compliance.OK("%s", rep.Summary())}, nil
}

// handlerFetcher reads the site from its handler.
type handlerFetcher struct{ h http.Handler }

func (f handlerFetcher) Fetch(ctx context.Context, path string) ([]byte, error) {
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	switch rec.Code {
	case http.StatusOK:
		return rec.Body.Bytes(), nil
	case http.StatusNotFound:
		return nil, sceau.Errorf(sceau.NotFound, "compliance: site", "%s is not published", path)
	}
	return nil, sceau.Errorf(sceau.Unavailable, "compliance: site", "%s answered %d", path, rec.Code)
}

func (handlerFetcher) List(context.Context) ([]string, error) { return nil, nil }

func (n *Node) checkJournal(ctx context.Context) ([]compliance.Finding, error) {
	c, err := VerifyJournal(ctx, n.DB, n.Layout.ExportDir(), audit.VerifyOptions{}, nil)
	if err != nil {
		if sceau.KindOf(err) == sceau.Conflict {
			return []compliance.Finding{compliance.Bad("%v", err)}, nil
		}
		return nil, err
	}
	var fs []compliance.Finding
	if d := c.Database; d != nil {
		fs = append(fs, compliance.OK("the database's %d events and %d checkpoints verify, up to event %d", d.Events, d.Checkpoints, d.HeadSeq))
	}
	if x := c.Export; x != nil {
		fs = append(fs, compliance.OK("the export's %d events verify and anchor the database", x.Events))
	} else if n.Layout.ExportDir() == "" {
		fs = append(fs, compliance.OK("no export directory to check here (audit.export.dir)"))
	}
	return fs, nil
}

func (n *Node) checkArchive(ctx context.Context) ([]compliance.Finding, error) {
	var fs []compliance.Finding
	st, err := n.Archive.Status(ctx)
	if err != nil {
		return nil, err
	}
	a := n.Config.Archive
	switch h := st.Head; {
	case st.Items == 0:
		fs = append(fs, compliance.OK("the archive holds no item yet"))
	case h == nil:
		fs = append(fs, compliance.Bad("%d items and no signed tree head (archive.signer_ca)", st.Items))
	case time.Since(h.At) > a.HeadInterval.Duration+time.Hour:
		fs = append(fs, compliance.Bad("the last signed head, %d, is of %s: older than archive.head_interval %s", h.Number, h.At.Format(time.RFC3339), a.HeadInterval))
	default:
		fs = append(fs, compliance.OK("%d items, head %d of %s", st.Items, h.Number, h.At.Format(time.RFC3339)))
	}
	// ARC-5: serve stamps what is added within a few replication passes;
	// an item still without a token after ten minutes is owed one.
	if o := st.OldestUnstamped; o != nil && time.Since(*o) > 10*time.Minute {
		fs = append(fs, compliance.Bad("%d items have no timestamp, the oldest added %s (ARC-5)", st.Unstamped, o.Format(time.RFC3339)))
	}
	targets, err := n.Archive.TargetStatuses(ctx)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		fs = append(fs, compliance.Bad("no replica (archive.replicas): ARC-4 wants a copy at a second site"))
	}
	for _, t := range targets {
		if t.Lag > a.MaxLag.Duration {
			fs = append(fs, compliance.Bad("replica %s is %s behind (%d pending, archive.max_lag %s): %s", t.Name, t.Lag.Round(time.Second), t.Pending, a.MaxLag, t.LastError))
		} else {
			fs = append(fs, compliance.OK("replica %s: %d pending, lag %s", t.Name, t.Pending, t.Lag.Round(time.Second)))
		}
	}
	return fs, nil
}

func (n *Node) checkBackups(ctx context.Context) ([]compliance.Finding, error) {
	var fs []compliance.Finding
	c := n.Config.Compliance
	for _, w := range []struct {
		action, what string
		max          time.Duration
	}{{backupCreatedAction, "backup (sceau backup create)", c.BackupMaxAge.Duration}, {backupVerifiedAction, "restore test (sceau backup verify)", c.RestoreTestMaxAge.Duration}} {
		r, err := audit.LatestOf(ctx, n.DB, w.action)
		if err != nil {
			return nil, err
		}
		if r == nil {
			fs = append(fs, compliance.Bad("no %s in the live journal", w.what))
			continue
		}
		at, err := store.ParseTime(r.At)
		if err != nil {
			return nil, err
		}
		if age := time.Since(at); age > w.max {
			fs = append(fs, compliance.Bad("the last %s is of %s, %s ago: more than %s", w.what, at.Format(time.RFC3339), age.Round(time.Minute), w.max))
		} else {
			fs = append(fs, compliance.OK("the last %s is of %s (event %d)", w.what, at.Format(time.RFC3339), r.Seq))
		}
	}
	return fs, nil
}

func (n *Node) checkClock(context.Context) ([]compliance.Finding, error) {
	st := n.ClockGuard.Status()
	switch st.State {
	case clockguard.Off:
		return []compliance.Finding{compliance.Bad("clock.servers is empty: the clock is not checked against NTP")}, nil
	case clockguard.InSync:
		if age := time.Since(st.CheckedAt); age > n.Config.Clock.Interval.Duration+time.Minute {
			return []compliance.Finding{compliance.Bad("the last check is %s old, past clock.interval %s", age.Round(time.Second), n.Config.Clock.Interval)}, nil
		}
		return []compliance.Finding{compliance.OK("%s", n.ClockGuard.Summary())}, nil
	}
	return []compliance.Finding{compliance.Bad("%s", n.ClockGuard.Summary())}, nil
}

// checkProfiles lints the real output: the last certificate of each
// profile, with the gate issuance uses (CA-2).
func (n *Node) checkProfiles(ctx context.Context) ([]compliance.Finding, error) {
	var fs []compliance.Finding
	for _, c := range n.Authority.CAs() {
		for _, ps := range c.Spec.Profiles {
			rec, err := n.Authority.LatestOfProfile(ctx, c.Spec.ID, ps.Name)
			if err != nil {
				return nil, err
			}
			if rec == nil {
				fs = append(fs, compliance.OK("%s/%s: no certificate issued yet", c.Spec.ID, ps.Name))
				continue
			}
			p, _ := c.Profile(ps.Name)
			rep, err := ca.LintDocument(rec.DER, p)
			if err != nil {
				return nil, err
			}
			if len(rep.Errors) > 0 {
				fs = append(fs, compliance.Bad("%s/%s: certificate %s: %s", c.Spec.ID, ps.Name, rec.Serial, strings.Join(rep.Errors, "; ")))
			} else {
				fs = append(fs, compliance.OK("%s/%s: certificate %s lints clean", c.Spec.ID, ps.Name, rec.Serial))
			}
		}
	}
	return fs, nil
}

func (n *Node) checkTerminations(ctx context.Context) ([]compliance.Finding, error) {
	ts, err := n.Authority.UnfinishedTerminations(ctx)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return []compliance.Finding{compliance.OK("no termination is pending")}, nil
	}
	var fs []compliance.Finding
	for _, t := range ts {
		step := "its final CRL"
		if t.FinalCRL {
			step = "the destruction of its key"
		}
		fs = append(fs, compliance.Bad("%s: terminated (approval %s) but %s is still to do", t.CA, t.Approval, step))
	}
	return fs, nil
}

func (n *Node) checkIncidents(ctx context.Context) ([]compliance.Finding, error) {
	if n.Incidents == nil {
		return []compliance.Finding{compliance.Bad("this node keeps no incident register")}, nil
	}
	st, err := n.Incidents.Status(ctx)
	if err != nil {
		return nil, err
	}
	var fs []compliance.Finding
	if st.Overdue > 0 {
		fs = append(fs, compliance.Bad("%d notifications owed to the authorities are past their 24-hour deadline (INC-4)", st.Overdue))
	}
	if st.Undelivered > 0 {
		fs = append(fs, compliance.Bad("%d incident notifications are not delivered yet (INC-1)", st.Undelivered))
	}
	if len(fs) == 0 {
		fs = append(fs, compliance.OK("%d open incidents, %d notifications to authorities pending, none overdue, every notification delivered", st.Open, st.Obligations))
	}
	return fs, nil
}
