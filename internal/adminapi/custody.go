package adminapi

import (
	"context"
	"net/http"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/server"
)

// ActivationStatus says whether a CA's key is activated (KEY-2).
func (c *Client) ActivationStatus(ctx context.Context, ca string) (*server.ActivationStatus, error) {
	var st server.ActivationStatus
	return &st, c.call(ctx, http.MethodGet, "/api/v1/cas/"+seg(ca)+"/activation", nil, &st)
}

// BeginActivation opens an activation session, to which m holders present
// their shares.
func (c *Client) BeginActivation(ctx context.Context, ca string) (*quorum.Progress, error) {
	var p quorum.Progress
	return &p, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(ca)+"/activations", struct{}{}, &p)
}

// PresentShare presents one holder's share to an activation session.
func (c *Client) PresentShare(ctx context.Context, ca, session string, req server.PresentShare) (*quorum.Progress, error) {
	var p quorum.Progress
	return &p, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(ca)+"/activations/"+seg(session)+"/shares", req, &p)
}

// Deactivate logs a CA's key out of its device.
func (c *Client) Deactivate(ctx context.Context, ca string) (*server.ActivationStatus, error) {
	var st server.ActivationStatus
	return &st, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(ca)+"/deactivate", struct{}{}, &st)
}

// Backups lists the backups of a CA's key (KEY-4).
func (c *Client) Backups(ctx context.Context, ca string) ([]quorum.BackupRecord, error) {
	var list []quorum.BackupRecord
	return list, c.call(ctx, http.MethodGet, "/api/v1/cas/"+seg(ca)+"/backups", nil, &list)
}

// RequestBackup asks for a backup of a CA's key under dual control.
func (c *Client) RequestBackup(ctx context.Context, ca string, plan quorum.BackupPlan) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(ca)+"/backups", plan, &rq)
}

// CarryOutBackup makes the approved backup, sealing each holder's share of
// the wrapping key under their PIN.
func (c *Client) CarryOutBackup(ctx context.Context, ca, approval string, req server.BackupPINs) (*quorum.BackupRecord, error) {
	var rec quorum.BackupRecord
	return &rec, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(ca)+"/backups/"+seg(approval), req, &rec)
}

// RequestImport asks for a backup to be restored into the device.
func (c *Client) RequestImport(ctx context.Context, ca string, plan quorum.ImportPlan) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(ca)+"/imports", plan, &rq)
}

// CarryOutImport restores the approved backup with m shares of its
// wrapping key.
func (c *Client) CarryOutImport(ctx context.Context, ca, approval string, req server.ImportShares) (*quorum.BackupRecord, error) {
	var rec quorum.BackupRecord
	return &rec, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(ca)+"/imports/"+seg(approval), req, &rec)
}

// RequestKeyDestruction asks for a CA's key and every backup of it to be
// destroyed (KEY-6).
func (c *Client) RequestKeyDestruction(ctx context.Context, ca string) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(ca)+"/key-destruction", struct{}{}, &rq)
}

// Activation is the presenter of one activation session on the server, for
// quorum.PresentShare: share files travel with their PIN over the admin TLS
// connection; a card is read on this terminal and only its share travels.
func (c *Client) Activation(ca, session string) quorum.Presenter {
	return activation{c: c, ca: ca, session: session}
}

type activation struct {
	c           *Client
	ca, session string
}

func (a activation) PresentFile(ctx context.Context, holder string, shareFile, pin []byte) (*quorum.Progress, error) {
	return a.c.PresentShare(ctx, a.ca, a.session, server.PresentShare{Holder: holder, ShareFile: shareFile, PIN: string(pin)})
}

func (a activation) PresentCard(ctx context.Context, holder string, cardShare []byte) (*quorum.Progress, error) {
	return a.c.PresentShare(ctx, a.ca, a.session, server.PresentShare{Holder: holder, CardShare: cardShare})
}

func (a activation) CardRefused(ctx context.Context, holder, reason string) error {
	_, err := a.c.PresentShare(ctx, a.ca, a.session, server.PresentShare{Holder: holder, CardRefused: reason})
	return err
}
