package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// CreateOptions say how CreateCAs creates the CAs declared but missing.
type CreateOptions struct {
	// PINs give the PINs of the new shares of CAs with an activation policy.
	PINs PINSource
	// TokenPIN gives the current user PIN of a new CA's token, replaced by
	// the split secret.
	TokenPIN TokenPINSource
	// Cards maps a holder to the smart card that receives their new shares
	// (KEY-2); other holders get share files.
	Cards map[string]quorum.Card
	// Actor is who the journal names for what is created; zero: the system
	// ("init"). A ceremony gives its security officer, 'ca create' the
	// requester of the approved creation (ROLE-5).
	Actor sceau.Actor
	// Parents are existing CAs activated before the creation, so that they
	// sign the new CAs under them (a ceremony, KEY-2); Present gives the
	// PIN and the share of each holder who presents.
	Parents []ParentActivation
	Present ShareSource
	// Backups are backups of the new keys made while they are activated
	// (a ceremony, KEY-4), with the PINs of the new wrapping-key shares.
	Backups    []ceremony.BackupOrder
	BackupPINs PINSource
	// FirstCRLActor, if set, names who issues the first CRL of each new CA;
	// zero: Actor.
	FirstCRLActor sceau.Actor
}

func (o CreateOptions) actor() sceau.Actor {
	if o.Actor.ID == "" {
		return sceau.System("init")
	}
	return o.Actor
}

// ParentActivation is an existing CA activated so that it signs the CAs
// created under it, with the holders who may present, in order.
type ParentActivation struct {
	CA      string
	Holders []string
}

// ShareSource gives what holder brings to present their share of CA caID,
// and its PIN.
type ShareSource func(ctx context.Context, caID, holder string) (quorum.HolderShare, []byte, error)

// Created is the outcome of CreateCAs.
type Created struct {
	// CAs are the CAs created, in declaration order.
	CAs []*ca.CA
	// Presented says, in order, who presented their shares of which parent.
	Presented []string
}

// CreateCAs creates the declared CAs that do not exist: the stores of those
// with an activation policy (their secrets split among the holders), the
// parents' activation when asked, each key, certificate and delegated OCSP
// responder, the backups asked for, and each new CA's first CRL. Existing
// CAs are never touched. Every step is an audit event.
func (n *Node) CreateCAs(ctx context.Context, o CreateOptions) (*Created, error) {
	specs, err := Specs(n.Config)
	if err != nil {
		return nil, err
	}
	missing, err := MissingCAs(ctx, n.Config, n.DB)
	if err != nil {
		return nil, err
	}
	out := &Created{}
	if err := n.provisionNewCAStores(ctx, o); err != nil {
		return out, err
	}
	if len(o.Parents) > 0 {
		if out.Presented, err = n.activateParents(ctx, o); err != nil {
			return out, err
		}
	}
	if err := n.Authority.Bootstrap(ctx, o.actor(), specs); err != nil {
		return out, err
	}
	if len(o.Backups) > 0 {
		if err := n.backUpAtCeremony(ctx, o); err != nil {
			return out, err
		}
	}
	crlActor := o.FirstCRLActor
	if crlActor.ID == "" {
		crlActor = o.actor()
	}
	for _, id := range missing {
		c, err := n.Authority.CA(id)
		if err != nil {
			return out, err
		}
		if _, err := n.Revocation.IssueCRL(ctx, crlActor, id); err != nil {
			return out, err
		}
		out.CAs = append(out.CAs, c)
	}
	return out, nil
}

// MissingCAs lists the declared CAs absent from db, in declaration order.
func MissingCAs(ctx context.Context, cfg *config.Config, db store.Querier) ([]string, error) {
	var out []string
	for _, c := range cfg.CAs {
		ok, err := ca.Exists(ctx, db, c.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, c.ID)
		}
	}
	return out, nil
}

// CreationApprovals finds the executed request authorising each CA of ids,
// or says which CAs lack one (ROLE-3).
func CreationApprovals(ctx context.Context, db store.Querier, ids []string) (map[string]*access.Request, error) {
	out := make(map[string]*access.Request, len(ids))
	var errs []error
	for _, id := range ids {
		rq, err := access.CreationApproval(ctx, db, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[id] = rq
	}
	return out, errors.Join(errs...)
}

// activateParents has the holders of each parent present their shares, one
// after another, until the parent's key is activated (KEY-2). Every
// presentation and refusal is journaled as with 'sceau ca activate'; the
// key is deactivated when the node closes (KEY-5).
func (n *Node) activateParents(ctx context.Context, o CreateOptions) ([]string, error) {
	const op = "ceremony: activate"
	cust := n.Custodian(nil)
	var done []string
	for _, pa := range o.Parents {
		kid := sceau.CAKeyLabel(pa.CA)
		prog, err := cust.Begin(ctx, o.actor(), kid)
		if err != nil {
			return done, err
		}
		session := cust.Session(kid, prog.ID)
		for _, h := range pa.Holders {
			if prog.Activated {
				break
			}
			share, pin, err := o.Present(ctx, pa.CA, h)
			if err != nil {
				return done, err
			}
			if prog, err = quorum.PresentShare(ctx, session, kid, share, pin); err != nil {
				return done, err
			}
			done = append(done, fmt.Sprintf("%s presented their share of CA %s", h, pa.CA))
		}
		if !prog.Activated {
			return done, sceau.Errorf(sceau.Denied, op, "too few shares for CA %q: %d more were needed to activate it (KEY-2)", pa.CA, prog.Need)
		}
		done = append(done, fmt.Sprintf("CA %s activated by %d of its %d key share holders", pa.CA, prog.Threshold, prog.Total))
	}
	return done, nil
}
