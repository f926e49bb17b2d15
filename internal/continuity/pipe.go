package continuity

import "io"

// asyncWriter hands what is written, in blocks, to a goroutine that writes
// them to w: reading the database and hashing overlap with encrypting and
// writing to the target (two cores, not one).
type asyncWriter struct {
	buf  []byte
	full chan []byte
	free chan []byte
	done chan error
	err  error

	closed bool
	result error
}

const asyncBlock = 1 << 20

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{full: make(chan []byte, 3), free: make(chan []byte, 4), done: make(chan error, 1)}
	for range 4 {
		a.free <- make([]byte, 0, asyncBlock)
	}
	a.buf = <-a.free
	go func() {
		var err error
		for b := range a.full {
			if err == nil {
				_, err = w.Write(b)
			}
			a.free <- b[:0]
		}
		a.done <- err
	}()
	return a
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if a.err != nil {
			return 0, a.err
		}
		k := copy(a.buf[len(a.buf):cap(a.buf)], p)
		a.buf = a.buf[:len(a.buf)+k]
		p = p[k:]
		if len(a.buf) == cap(a.buf) {
			a.full <- a.buf
			a.buf = <-a.free
			select {
			case err := <-a.done: // the writer stopped early
				a.err = err
				a.done <- err
			default:
			}
		}
	}
	return n, nil
}

// Close writes what is left and waits for the writer; it returns the
// writer's first error.
func (a *asyncWriter) Close() error {
	if a.closed {
		return a.result
	}
	a.closed = true
	if len(a.buf) > 0 && a.err == nil {
		a.full <- a.buf
	}
	close(a.full)
	a.result = <-a.done
	return a.result
}
