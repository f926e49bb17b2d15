package node

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
	"github.com/sceau/sceau/internal/tsa"
)

// The archive of the installation (ARC-1..ARC-6; docs/archive.md): CRLs go
// in when they are issued (revocation's OnCRLIssued, in the issuance's
// transaction); CA certificates and published document versions are swept
// in by serve; heads are signed by the archive key, a service key certified
// by archive.signer_ca.

const archiveSignerFile = "archive-signer.json"

func (n *Node) archiveJob() serviceKeyJob {
	cfg := n.Config.Archive
	return serviceKeyJob{Name: "archive", File: archiveSignerFile, CA: cfg.SignerCA, Profile: cfg.SignerProfile,
		CN: n.Config.Publication.Name + " archive", Action: audit.ActionArchiveSignerCert, Setting: "archive.signer_ca"}
}

// headSigner signs tree heads with the archive key.
type headSigner struct{ key *lazyKey }

// Prepare gets the archive key certified if it has no certificate yet.
func (h headSigner) Prepare() error {
	_, err := h.key.get("archive: sign head")
	return err
}

func (h headSigner) SignHead(body []byte) ([]byte, error) {
	k, err := h.key.get("archive: sign head")
	if err != nil {
		return nil, err
	}
	return k.signDetached("archive: sign head", body)
}

// newArchive builds the archive service from the archive section.
func (n *Node) newArchive() (*archive.Service, error) {
	cfg := n.Config.Archive
	recipients, err := archive.ParseRecipients(cfg.Recipients)
	if err != nil {
		return nil, err
	}
	o := archive.Options{Name: n.Config.Publication.Name, Log: n.Log, Recipients: recipients, Roots: n.rootPool,
		MaxItemBytes: cfg.MaxItemBytes, Retention: map[string]time.Duration{}}
	for k, d := range cfg.Retention {
		o.Retention[k] = d.Duration
	}
	// ARC-5: every item and head is timestamped by the installation's unit
	// or the external TSA; tokens are checked against the roots that
	// certify it.
	if st, err := n.TimeStamper(); err == nil {
		o.Stamper = st
	}
	o.CheckToken = n.checkToken
	if cfg.SignerCA != "" && !n.publicOnly {
		o.Heads = headSigner{key: &lazyKey{n: n, job: n.archiveJob()}}
	}
	for _, r := range cfg.Replicas {
		if r.Dir != "" {
			o.Targets = append(o.Targets, archive.NewDirTarget(r.Name, n.Config.Path(r.Dir)))
			continue
		}
		ak, sk, tr, err := s3Access(n.Config, r.S3, "archive.replicas."+r.Name+".s3")
		if err != nil {
			return nil, err
		}
		so := archive.S3Options{Endpoint: r.S3.Endpoint, Region: r.S3.Region, Bucket: r.S3.Bucket, Prefix: r.S3.Prefix, AccessKey: ak, SecretKey: sk}
		if tr != nil {
			so.Transport = tr
		}
		t, err := archive.NewS3Target(r.Name, so)
		if err != nil {
			return nil, err
		}
		o.Targets = append(o.Targets, t)
	}
	return archive.NewService(n.DB, n.Journal, o), nil
}

// checkToken verifies an RFC 3161 token over a SHA-256 digest: against the
// external TSA's roots when timestamping.external_url is set, else the
// installation's.
func (n *Node) checkToken(token, digest []byte, roots *x509.CertPool) (time.Time, error) {
	o := tsa.VerifyOptions{Roots: roots}
	if c, ok := n.stamper.s.(*tsa.Client); ok {
		o.Roots, o.Intermediates = c.Roots, c.Intermediates
	}
	info, err := tsa.Verify(token, digest, crypto.SHA256, o)
	if err != nil {
		return time.Time{}, err
	}
	return info.GenTime, nil
}

// rootPool holds the certificates of the installation's root CAs.
func (n *Node) rootPool() *x509.CertPool {
	p := x509.NewCertPool()
	if n.Authority == nil {
		return p
	}
	for _, c := range n.Authority.CAs() {
		if c.Spec.Parent == "" {
			p.AddCert(c.Cert)
		}
	}
	return p
}

// archiveCRLs is revocation's OnCRLIssued: every CRL and shard goes into
// the archive in the transaction that stores it (ARC-1).
func (n *Node) archiveCRLs(ctx context.Context, tx *store.Tx, crls []*revocation.CRL) error {
	items := make([]archive.New, 0, len(crls))
	for _, c := range crls {
		src := fmt.Sprintf("crl:%s:%d", c.CAID, c.Number)
		if c.Shard != revocation.FullCRL {
			src += fmt.Sprintf(":shard-%d", c.Shard)
		}
		items = append(items, archive.New{Kind: archive.KindCRL, Source: src, EventAt: c.ThisUpdate, MediaType: "application/pkix-crl",
			Class: archive.Public, Content: c.DER})
	}
	_, err := n.Archive.AddTx(ctx, tx, sceau.System("revocation"), items...)
	return err
}

// archiveSegment is the journal mover's OnMoved: each segment leaves the
// live journal as an archive item, sealed by its archive checkpoint, in
// the move's transaction (AUD-4, ARC-1).
func (n *Node) archiveSegment(ctx context.Context, tx *store.Tx, seg audit.Segment) error {
	at, err := store.ParseTime(seg.At)
	if err != nil {
		return sceau.E(sceau.Internal, "archive: journal segment", "", err)
	}
	_, err = n.Archive.AddTx(ctx, tx, sceau.System("retention"), archive.New{Kind: archive.KindJournalSegment,
		Source: fmt.Sprintf("journal:%d-%d:checkpoint-%d", seg.From, seg.Through, seg.Checkpoint), EventAt: at,
		MediaType: "application/jsonl", Class: archive.Internal, Content: seg.Lines})
	return err
}

// SweepArchive archives what is not yet there of the CA certificates and
// the published document versions (ARC-1), returning how many it added.
func (n *Node) SweepArchive(ctx context.Context) (int, error) {
	var items []archive.New
	for _, c := range n.Authority.CAs() {
		src := fmt.Sprintf("ca-certificate:%s:%x", c.Spec.ID, c.Cert.SerialNumber)
		items = append(items, archive.New{Kind: archive.KindCACertificate, Source: src, EventAt: c.Cert.NotBefore,
			MediaType: "application/pkix-cert", Class: archive.Public, Content: c.Cert.Raw})
	}
	docs, err := n.Publication.Documents(ctx)
	if err != nil {
		return 0, err
	}
	for _, d := range docs {
		mediaType, content, err := n.Publication.File(ctx, d.SHA256)
		if err != nil {
			return 0, err
		}
		items = append(items, archive.New{Kind: archive.KindDocument, Source: "document:" + d.ID, EventAt: d.PublishedAt,
			MediaType: mediaType, Class: archive.Public, Content: content})
	}
	// Ceremony transcripts with their detached signature, one item each.
	trs, err := ceremony.ArchivedTranscripts(ctx, n.DB)
	if err != nil {
		return 0, err
	}
	for _, tr := range trs {
		at, _ := store.ParseTime(tr.CreatedAt)
		items = append(items, archive.New{Kind: archive.KindCeremony, Source: "ceremony:" + tr.ID, EventAt: at,
			MediaType: "application/json", Class: archive.Internal, Content: tr.Transcript})
		if len(tr.Signature) > 0 {
			items = append(items, archive.New{Kind: archive.KindCeremony, Source: "ceremony:" + tr.ID + ":signature", EventAt: at,
				MediaType: "application/octet-stream", Class: archive.Internal, Content: tr.Signature})
		}
	}
	return n.Archive.AddMissing(ctx, sceau.System("archive"), items)
}

// archiveDue is what serve's archive loop does on each pass: sweep, sign
// a head when one is due, timestamp, replicate, and publish the lag.
func (n *Node) archiveDue(ctx context.Context) {
	if _, err := n.SweepArchive(ctx); err != nil {
		n.Log.Warn("archive: sweep", "err", err)
	}
	if n.Config.Archive.SignerCA != "" {
		h, err := n.Archive.LatestHead(ctx)
		st, serr := n.Archive.Status(ctx)
		due := sceau.KindOf(err) == sceau.NotFound || (err == nil && serr == nil &&
			(time.Since(h.At) >= n.Config.Archive.HeadInterval.Duration || st.Size > h.Size && time.Since(h.At) >= time.Minute))
		if due {
			if _, err := n.Archive.IssueHead(ctx, sceau.System("archive")); err != nil && sceau.KindOf(err) != sceau.Unavailable {
				n.Log.Warn("archive: tree head", "err", err)
			}
		}
	}
	if n.Archive.Stamps() {
		if _, err := n.Archive.StampPending(ctx, 1000); err != nil && sceau.KindOf(err) != sceau.Unavailable {
			n.Log.Warn("archive: timestamps", "err", err)
		}
	}
	if _, err := n.Archive.Replicate(ctx); err != nil {
		n.Log.Warn("archive: replication", "err", err)
	}
	st, err := n.Archive.TargetStatuses(ctx)
	if err != nil {
		return
	}
	for _, t := range st {
		n.Metrics.SetArchiveLag(t.Name, t.Lag)
		// ARC-4, AUD-6: each lagging episode is journaled once, which the
		// analysis turns into an alert, and its end too.
		lagging := t.Lag > n.Config.Archive.MaxLag.Duration
		if lagging == n.archiveLagging[t.Name] {
			continue
		}
		action := audit.ActionArchiveCaughtUp
		if lagging {
			action = audit.ActionArchiveLagging
		}
		details := map[string]any{"target": t.Name, "pending": t.Pending, "lag": t.Lag.Round(time.Second).String(), "last_error": t.LastError}
		err := n.DB.InTx(ctx, func(tx *store.Tx) error {
			return n.Journal.Append(ctx, tx, audit.Event{Actor: sceau.System("archive"), Action: action, Object: "archive:replica:" + t.Name, Details: details})
		})
		if err == nil {
			n.archiveLagging[t.Name] = lagging
		}
	}
}

// runArchive runs archiveDue at once and every archive.replication_interval
// until ctx ends.
func (n *Node) runArchive(ctx context.Context) {
	n.archiveLagging = map[string]bool{}
	t := time.NewTicker(n.Config.Archive.ReplicationInterval.Duration)
	defer t.Stop()
	for {
		n.archiveDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// VerifyArchive verifies the archive of the installation cfg describes,
// opening its database read-only (ARC-6).
func VerifyArchive(ctx context.Context, cfg *config.Config, o archive.VerifyOptions) (*archive.Report, error) {
	n, err := OpenPublic(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	return n.Archive.VerifyAll(ctx, o)
}
