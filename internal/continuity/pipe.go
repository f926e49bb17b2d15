package continuity

import (
	"crypto/sha256"
	"hash"
	"io"
	"sync"
)

// asyncWriter hands what is written, in blocks, to a goroutine that writes
// them to w: reading the database and hashing overlap with encrypting and
// writing to the target (two cores, not one). A failure of w stops the
// producer at its next block.
type asyncWriter struct {
	buf  []byte
	full chan []byte
	free chan []byte
	done chan struct{}

	mu     sync.Mutex
	failed error // w's first error

	closed bool
}

const asyncBlock = 1 << 20

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{full: make(chan []byte, 3), free: make(chan []byte, 4), done: make(chan struct{})}
	for range 4 {
		a.free <- make([]byte, 0, asyncBlock)
	}
	a.buf = <-a.free
	go func() {
		defer close(a.done)
		for b := range a.full {
			if a.err() == nil {
				if _, err := w.Write(b); err != nil {
					a.mu.Lock()
					a.failed = err
					a.mu.Unlock()
				}
			}
			a.free <- b[:0]
		}
	}()
	return a
}

func (a *asyncWriter) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.failed
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if err := a.err(); err != nil {
			return 0, err
		}
		k := copy(a.buf[len(a.buf):cap(a.buf)], p)
		a.buf = a.buf[:len(a.buf)+k]
		p = p[k:]
		if len(a.buf) == cap(a.buf) {
			a.full <- a.buf
			a.buf = <-a.free
		}
	}
	return n, nil
}

// Close writes what is left and waits for the writer; it returns the
// writer's first error. It may be called again.
func (a *asyncWriter) Close() error {
	if !a.closed {
		a.closed = true
		if len(a.buf) > 0 {
			a.full <- a.buf
		}
		close(a.full)
		<-a.done
	}
	return a.err()
}

// asyncHash is SHA-256 on its own goroutine, fed in blocks through an
// asyncWriter: reading the database, hashing and encrypting then share the
// two cores (the reader was the backup's bottleneck, hashing a third of
// its time). Sum ends it.
type asyncHash struct {
	h   hash.Hash
	w   *asyncWriter
	sum []byte
}

func newAsyncHash() *asyncHash {
	h := sha256.New()
	return &asyncHash{h: h, w: newAsyncWriter(h)}
}

func (a *asyncHash) Write(p []byte) (int, error) { return a.w.Write(p) }

// Sum hashes what is left, stops the goroutine and returns the digest; it
// may be called again (and is, deferred, on an early return).
func (a *asyncHash) Sum() []byte {
	if a.sum == nil {
		_ = a.w.Close() // a hash never fails to write
		a.sum = a.h.Sum(nil)
	}
	return a.sum
}
