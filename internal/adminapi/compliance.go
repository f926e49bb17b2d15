package adminapi

import (
	"context"
	"net/http"

	"github.com/sceau/sceau/internal/compliance"
)

// SelfAudit runs the compliance self-audit on the server, which archives
// its report (COMP-1, COMP-2).
func (c *Client) SelfAudit(ctx context.Context) (*compliance.Report, error) {
	var r compliance.Report
	if err := c.call(ctx, http.MethodPost, "/api/v1/compliance/reports", struct{}{}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
