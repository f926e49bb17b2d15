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
	// The previous batch, for the adaptive wait (loop's goroutine only).
	lastSize int
	lastTook time.Duration
	// Observe, if set, is told the size of every committed batch.
	Observe func(size int, d time.Duration)
}

type groupOp struct {
	ctx context.Context
	fn  func(ctx context.Context, tx *Tx) error
	res chan error

	// For DoThen: the operations of a batch with equal keys leave their
	// items to one call of the first one's finish, after every operation
	// of the batch ran.
	key    any
	item   any
	finish func(ctx context.Context, tx *Tx, ops []*groupOp) error
}

// NewGroupCommitter starts a committer over db with batches of at most max
// operations; wait is how long it lingers for more operations when the
// queue is empty (0: commit at once, unless operations are arriving
// together: see lingerFor).
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
	return g.submit(&groupOp{ctx: ctx, fn: fn, res: make(chan error, 1)})
}

// DoThen is Do for an operation that leaves an item to be written at the
// end of its batch, in the same transaction: after every operation of the
// batch ran, the items of the operations that share key (a comparable
// value) are passed, in operation order, to one call of finish (the first
// such operation's). The journal uses it to append a whole batch's audit
// events at once; each event still commits with its operation or not at
// all. If the batch fails, each operation is run again alone with its own
// finish.
func DoThen[T any](g *GroupCommitter, ctx context.Context, key any, fn func(ctx context.Context, tx *Tx) (T, error),
	finish func(ctx context.Context, tx *Tx, items []T) error) error {
	// The key is typed too, so that operations sharing it share T.
	op := &groupOp{ctx: ctx, res: make(chan error, 1), key: thenKey[T]{key}}
	op.fn = func(ctx context.Context, tx *Tx) error {
		v, err := fn(ctx, tx)
		op.item = v // a second run (the batch was rolled back) replaces it
		return err
	}
	op.finish = func(ctx context.Context, tx *Tx, ops []*groupOp) error {
		items := make([]T, len(ops))
		for i, o := range ops {
			items[i] = o.item.(T)
		}
		return finish(ctx, tx, items)
	}
	return g.submit(op)
}

type thenKey[T any] struct{ key any }

func (g *GroupCommitter) submit(op *groupOp) error {
	ctx := op.ctx
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
		if wait := g.lingerFor(); wait > 0 {
			timer = time.After(wait)
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

// maxLinger bounds the adaptive wait of lingerFor.
const maxLinger = time.Millisecond

// lingerFor is how long to wait for more operations once the queue is
// empty: the configured wait, or, when there is none and the previous
// batch held several operations (others are issuing too), as long as that
// batch took to commit, at most maxLinger: operations that arrive meanwhile
// share the next commit instead of each paying for one. A lone operation
// never waits.
func (g *GroupCommitter) lingerFor() time.Duration {
	if g.wait > 0 {
		return g.wait
	}
	if g.lastSize > 1 {
		return min(g.lastTook, maxLinger)
	}
	return 0
}

func (g *GroupCommitter) run(batch []*groupOp) {
	start := time.Now()
	defer func() { g.lastSize, g.lastTook = len(batch), time.Since(start) }()
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
	err := g.db.InTx(ctx, func(tx *Tx) error { return runOps(ctx, tx, live) })
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
		op.res <- g.db.InTx(ctx, func(tx *Tx) error { return runOps(ctx, tx, []*groupOp{op}) })
	}
}

// runOps runs the operations of a batch in tx, then the finish calls of
// those that left items: one per key, in the order the keys first appear.
// ctx is the batch's: a finish call serves several operations.
func runOps(ctx context.Context, tx *Tx, ops []*groupOp) error {
	pending := 0
	for _, op := range ops {
		if err := op.fn(op.ctx, tx); err != nil {
			return err
		}
		if op.finish != nil {
			pending++
		}
	}
	if pending == 0 {
		return nil
	}
	done := make([]bool, len(ops))
	for i, first := range ops {
		if first.finish == nil || done[i] {
			continue
		}
		same := make([]*groupOp, 0, pending)
		for j := i; j < len(ops); j++ {
			if op := ops[j]; op.finish != nil && !done[j] && op.key == first.key {
				same = append(same, op)
				done[j] = true
			}
		}
		pending -= len(same)
		if err := first.finish(ctx, tx, same); err != nil {
			return err
		}
	}
	return nil
}
