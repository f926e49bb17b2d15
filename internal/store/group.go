package store

import (
	"context"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// GroupCommitter runs many small write operations in shared transactions
// (group commit): one fsync then covers a whole batch, which is how durable
// issuance stays fast. Each operation keeps its own outcome: when a batch
// fails, its operations are run again one per transaction so that one bad
// operation cannot fail the others.
//
// An operation must only write through tx and must be safe to run twice
// (its first run may be rolled back with the batch).
type GroupCommitter struct {
	db   *DB
	max  int
	wait time.Duration
	ops  chan *groupOp

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	// Observe, if set, is told the size of every committed batch.
	Observe func(size int, d time.Duration)
}

type groupOp struct {
	ctx context.Context
	fn  func(ctx context.Context, tx *Tx) error
	res chan error
}

// NewGroupCommitter starts a committer over db with batches of at most max
// operations; wait is how long it lingers for more operations when the
// queue is empty (0: commit at once).
func NewGroupCommitter(db *DB, max int, wait time.Duration) *GroupCommitter {
	if max < 1 {
		max = 1
	}
	g := &GroupCommitter{db: db, max: max, wait: wait, ops: make(chan *groupOp, 4*max),
		stop: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	return g
}

// Do runs fn in the next batch and returns its own outcome once the batch
// is durable.
func (g *GroupCommitter) Do(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	op := &groupOp{ctx: ctx, fn: fn, res: make(chan error, 1)}
	select {
	case g.ops <- op:
	case <-ctx.Done():
		return sceau.E(sceau.Unavailable, "store: group commit", "the request was cancelled", ctx.Err())
	case <-g.stop:
		return sceau.Errorf(sceau.Unavailable, "store: group commit", "the service is stopping")
	}
	// Once queued, the operation's outcome must be awaited: it may commit.
	return <-op.res
}

// Close stops the committer after the operations already queued.
func (g *GroupCommitter) Close() {
	g.stopOnce.Do(func() { close(g.stop) })
	<-g.done
}

func (g *GroupCommitter) loop() {
	defer close(g.done)
	batch := make([]*groupOp, 0, g.max)
	for {
		batch = batch[:0]
		select {
		case op := <-g.ops:
			batch = append(batch, op)
		case <-g.stop:
			// Drain what was queued before the stop.
			for {
				select {
				case op := <-g.ops:
					g.run([]*groupOp{op})
				default:
					return
				}
			}
		}
		var timer <-chan time.Time
		if g.wait > 0 {
			timer = time.After(g.wait)
		}
	fill:
		for len(batch) < g.max {
			select {
			case op := <-g.ops:
				batch = append(batch, op)
			default:
				if timer == nil {
					break fill
				}
				select {
				case op := <-g.ops:
					batch = append(batch, op)
				case <-timer:
					break fill
				}
			}
		}
		g.run(batch)
	}
}

func (g *GroupCommitter) run(batch []*groupOp) {
	start := time.Now()
	live := batch[:0:0]
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.res <- sceau.E(sceau.Unavailable, "store: group commit", "the request was cancelled", err)
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	ctx := context.Background() // a batch must not die with one request's context
	err := g.db.InTx(ctx, func(tx *Tx) error {
		for _, op := range live {
			if err := op.fn(op.ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for _, op := range live {
			op.res <- nil
		}
		if g.Observe != nil {
			g.Observe(len(live), time.Since(start))
		}
		return
	}
	if len(live) == 1 {
		live[0].res <- err
		return
	}
	for _, op := range live {
		op.res <- g.db.InTx(ctx, func(tx *Tx) error { return op.fn(op.ctx, tx) })
	}
}
