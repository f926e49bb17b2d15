package node

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/cms"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// A service key is a key of the service keystore that a CA of the
// hierarchy certifies for one job: the publication key signs manifests
// (PUB-2), the archive key signs tree heads (ARC-3). Each has a record file
// naming its label and chain; the key is certified the first time it is
// needed and its CA is activated, and again in the last third of its
// certificate's life. Until then the job waits and says why.

// serviceKeyRecord records which key of the service keystore serves the
// job and the certificate chain the hierarchy gave it.
type serviceKeyRecord struct {
	Key   string   `json:"key"`   // label in the service keystore
	Chain [][]byte `json:"chain"` // DER: the key's certificate, then its issuers up to the root
}

// serviceKeyJob describes one job: who certifies its key and how it is
// journaled.
type serviceKeyJob struct {
	Name    string // "publication", "archive": the label prefix and the log word
	File    string // the record, relative to the data directory
	CA      string // the certifying CA; empty: the job is off
	Profile string
	CN      string // the certificate's common name
	Action  string // journaled when the key is certified
	Setting string // the setting that names CA, for error messages
}

// certifiedKey signs with a service key, after asking the clock guard
// (SYS-4): nothing is signed on a clock that is not trusted.
type certifiedKey struct {
	key   crypto.Signer
	chain []*x509.Certificate
	clock sceau.Clock
	guard func() error
}

// signDetached makes a detached CMS signature of body carrying the chain,
// so openssl cms -verify checks it with the root alone.
func (k *certifiedKey) signDetached(op string, body []byte) ([]byte, error) {
	if err := k.guard(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	sig, err := cms.SignDetached(body, k.key, k.chain[0], k.chain[1:], k.clock.Now())
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "the key cannot sign", err)
	}
	return sig, nil
}

// lazyKey holds a job's key, certifying it when first needed.
type lazyKey struct {
	n   *Node
	job serviceKeyJob

	mu      sync.Mutex
	current *certifiedKey
	tried   time.Time
}

func (l *lazyKey) get(op string) (*certifiedKey, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.current == nil || renewDue(l.current.chain[0], now) {
		// Until the certifying CA is activated there is nothing to try; once
		// it is, a failed attempt waits 10s before the next.
		if l.current == nil && (!l.n.Authority.Activated(l.job.CA) || now.Sub(l.tried) < 10*time.Second) {
			return nil, sceau.Errorf(sceau.Unavailable, op,
				"the %s key has no certificate yet: CA %s must be activated to certify it", l.job.Name, l.job.CA)
		}
		l.tried = now
		s, err := l.n.serviceKey(context.Background(), l.job)
		if err != nil {
			if l.current == nil {
				return nil, err
			}
			l.n.Log.Warn(l.job.Name+": the key's certificate could not be renewed", "err", err)
		} else {
			l.current = s
		}
	}
	return l.current, nil
}

// renewDue says whether a certificate is in the last third of its life.
func renewDue(c *x509.Certificate, now time.Time) bool {
	return now.Add(c.NotAfter.Sub(c.NotBefore) / 3).After(c.NotAfter)
}

// serviceKey returns the job's key with a current certificate, getting one
// from job.CA under job.Profile when there is none or it nears its end.
func (n *Node) serviceKey(ctx context.Context, job serviceKeyJob) (*certifiedKey, error) {
	op := job.Name + ": signer"
	if job.CA == "" {
		return nil, sceau.Errorf(sceau.Unavailable, op, "%s is not set: the %s key is off", job.Setting, job.Name)
	}
	path := n.Config.Path(job.File)
	if b, err := os.ReadFile(path); err == nil {
		var rec serviceKeyRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, sceau.E(sceau.Internal, op, path+" cannot be read", err)
		}
		s, err := n.loadServiceKey(op, job.File, rec)
		if err != nil {
			return nil, err
		}
		if !renewDue(s.chain[0], time.Now()) && s.chain[0].NotAfter.After(time.Now()) {
			return s, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, sceau.E(sceau.Unavailable, op, "", err)
	}
	if !n.Authority.Activated(job.CA) {
		return nil, n.Authority.NotActivated(op, job.CA, nil)
	}
	label := fmt.Sprintf("%s-%d", job.Name, time.Now().UnixNano())
	key, err := n.Keys.Generate(label, keys.ECDSAP256)
	if err != nil {
		return nil, err
	}
	subject := pkix.Name{CommonName: job.CN}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	issued, err := n.Authority.IssueCSR(ctx, sceau.System(job.Name), ca.Request{CA: job.CA, Profile: job.Profile, CSR: csr, Subject: subject})
	if err != nil {
		return nil, err
	}
	rec := serviceKeyRecord{Key: label, Chain: [][]byte{issued.DER}}
	for _, c := range issued.Chain {
		rec.Chain = append(rec.Chain, c.Raw)
	}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := safefile.Replace(path, b, 0o600); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot write "+path, err)
	}
	err = n.DB.InTx(ctx, func(tx *store.Tx) error {
		return n.Journal.Append(ctx, tx, audit.Event{Actor: sceau.System(job.Name), Action: job.Action,
			Object: "certificate:" + issued.Serial, Details: map[string]any{"ca": job.CA, "profile": job.Profile, "key": label,
				"not_after": issued.Cert.NotAfter}})
	})
	if err != nil {
		return nil, err
	}
	n.Log.Info(job.Name+": the key was certified", "ca", job.CA, "serial", issued.Serial, "not_after", issued.Cert.NotAfter)
	return n.loadServiceKey(op, job.File, rec)
}

func (n *Node) loadServiceKey(op, file string, rec serviceKeyRecord) (*certifiedKey, error) {
	if len(rec.Chain) == 0 {
		return nil, sceau.Errorf(sceau.Internal, op, "%s holds no certificate", file)
	}
	s := &certifiedKey{clock: sceau.ClockOr(nil), guard: n.ClockGuard.Err}
	for _, der := range rec.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, file+" holds a certificate that cannot be parsed", err)
		}
		s.chain = append(s.chain, c)
	}
	key, err := n.Keys.Signer(rec.Key)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil || !bytes.Equal(pub, s.chain[0].RawSubjectPublicKeyInfo) {
		return nil, sceau.Errorf(sceau.Internal, op, "the key %s does not match the certificate in %s", rec.Key, file)
	}
	s.key = key
	return s, nil
}
