package adminapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// ArchiveAdd archives content as one item (ARC-1).
func (c *Client) ArchiveAdd(ctx context.Context, nw archive.New) (*archive.Item, error) {
	q := url.Values{"kind": {nw.Kind}, "source": {nw.Source}, "class": {string(nw.Class)}}
	if !nw.EventAt.IsZero() {
		q.Set("event_at", nw.EventAt.UTC().Format(time.RFC3339))
	}
	mt := nw.MediaType
	if mt == "" {
		mt = "application/octet-stream"
	}
	b, err := c.sendAs(ctx, http.MethodPost, "/api/v1/archive/items?"+q.Encode(), mt, bytes.NewReader(nw.Content), 1<<20)
	if err != nil {
		return nil, err
	}
	var it archive.Item
	if err := json.Unmarshal(b, &it); err != nil {
		return nil, sceau.E(sceau.Internal, op, "unexpected answer from "+c.base, err)
	}
	return &it, nil
}

// ArchiveList lists items from leaf from, of kind if given.
func (c *Client) ArchiveList(ctx context.Context, kind string, from int64, limit int) ([]archive.Item, error) {
	var l server.ArchiveItems
	q := url.Values{"from": {strconv.FormatInt(from, 10)}, "limit": {strconv.Itoa(limit)}}
	if kind != "" {
		q.Set("kind", kind)
	}
	return l.Items, c.call(ctx, http.MethodGet, "/api/v1/archive/items?"+q.Encode(), nil, &l)
}

// ArchiveGet retrieves an item with the server's proofs (ARC-6). A
// confidential item comes sealed; with ids it is opened here, on the
// client, and its digest in clear checked: the identity never leaves the
// person's machine (ARC-3).
func (c *Client) ArchiveGet(ctx context.Context, leaf int64, from string, ids []age.Identity) (*archive.Retrieved, error) {
	path := fmt.Sprintf("/api/v1/archive/items/%d", leaf)
	if from != "" {
		path += "?from=" + url.QueryEscape(from)
	}
	var a server.ArchivedItem
	if err := c.call(ctx, http.MethodGet, path, nil, &a); err != nil {
		return nil, err
	}
	if a.Retrieved == nil {
		return nil, sceau.Errorf(sceau.Internal, op, "unexpected answer from %s", c.base)
	}
	content, err := base64.StdEncoding.DecodeString(a.Content)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "unexpected answer from "+c.base, err)
	}
	r := a.Retrieved
	r.Content = content
	if err := archive.Open(r, ids); err != nil {
		return nil, err
	}
	return r, nil
}

// ArchiveStatus is the archive's state and each replica's lag (ARC-4).
func (c *Client) ArchiveStatus(ctx context.Context) (*archive.Status, error) {
	var st archive.Status
	return &st, c.call(ctx, http.MethodGet, "/api/v1/archive/status", nil, &st)
}

// ArchiveVerify checks the whole archive on the server (ARC-6).
func (c *Client) ArchiveVerify(ctx context.Context, from string) (*archive.Report, error) {
	var r archive.Report
	path := "/api/v1/archive/verify"
	if from != "" {
		path += "?from=" + url.QueryEscape(from)
	}
	return &r, c.call(ctx, http.MethodGet, path, nil, &r)
}

// ArchiveHead signs a tree head now (ARC-3).
func (c *Client) ArchiveHead(ctx context.Context) (*archive.Head, error) {
	var h archive.Head
	return &h, c.call(ctx, http.MethodPost, "/api/v1/archive/heads", nil, &h)
}

// ArchivePurge purges items past their retention date (ARC-2).
func (c *Client) ArchivePurge(ctx context.Context, dryRun bool, limit int) (*server.PurgeResult, error) {
	var r server.PurgeResult
	return &r, c.call(ctx, http.MethodPost, "/api/v1/archive/purge", server.PurgeRequest{DryRun: dryRun, Limit: limit}, &r)
}
