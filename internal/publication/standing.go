package publication

import (
	"sync"
	"time"
)

// StandingTTL bounds how long Standing answers from memory. Issuance asks
// for the CGU version in force at every certificate (CA-4), and reading
// the versions each time made the registration layer the slower part of
// issuance (issue 16: dossier issuance ≥ 0.8 × plain). A version published
// or withdrawn through this node is seen at once (Apply forgets the
// cache), one published or withdrawn on another node within StandingTTL.
// Effective dates need no refresh: the state is computed on the time asked.
const StandingTTL = time.Second

// versionsCache holds the versions of one document in one language
// (kind/ident/lang), each read with its time on the monotonic clock, so
// that a test's fixed clock does not keep an entry for ever.
type versionsCache struct {
	mu sync.Mutex
	m  map[string]cachedVersions
	// gen counts forget calls: a read that began before one is not kept.
	gen uint64
}

type cachedVersions struct {
	docs []*Document
	at   time.Time
}

// get returns the versions under key, read by read when missing or older
// than StandingTTL.
func (c *versionsCache) get(key string, read func() ([]*Document, error)) ([]*Document, error) {
	c.mu.Lock()
	e, ok := c.m[key]
	gen := c.gen
	c.mu.Unlock()
	if ok && time.Since(e.at) < StandingTTL {
		return e.docs, nil
	}
	start := time.Now()
	docs, err := read()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		if c.m == nil {
			c.m = map[string]cachedVersions{}
		}
		c.m[key] = cachedVersions{docs: docs, at: start}
	}
	return docs, nil
}

// forget drops every entry when this node publishes or withdraws a
// version. It runs inside the change's transaction, before the commit: a
// read that began earlier is not kept (gen), and one that runs in the
// moment before the commit may keep the old versions, for StandingTTL at
// most, as on another node.
func (c *versionsCache) forget() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}
