package node

import (
	"context"
	"slices"

	"github.com/sceau/sceau/internal/ca"
)

// LoadNewCAs loads the declared CAs that did not exist when the node
// opened and exist now: created by a ceremony or 'sceau ca create' on
// another node that serves the same database, they are served here, on
// the site and for issuance, without a restart (PUB-3). It returns the
// IDs it loaded; a CA still missing stays pending.
func (n *Node) LoadNewCAs(ctx context.Context) ([]string, error) {
	n.pendingMu.Lock()
	defer n.pendingMu.Unlock()
	var todo []ca.Spec
	for _, s := range n.pending {
		if _, err := n.Authority.CA(s.ID); err != nil { // not created here meanwhile
			todo = append(todo, s)
		}
	}
	n.pending = todo
	if len(todo) == 0 {
		return nil, nil
	}
	still, err := n.Authority.LoadCreated(ctx, todo)
	if err != nil {
		return nil, err
	}
	var loaded []string
	for _, s := range todo {
		if !slices.Contains(still, s.ID) {
			loaded = append(loaded, s.ID)
		}
	}
	n.pending = specsOf(todo, still)
	return loaded, nil
}

// specsOf returns the specs whose IDs are in ids, in the order of specs.
func specsOf(specs []ca.Spec, ids []string) []ca.Spec {
	var out []ca.Spec
	for _, s := range specs {
		if slices.Contains(ids, s.ID) {
			out = append(out, s)
		}
	}
	return out
}
