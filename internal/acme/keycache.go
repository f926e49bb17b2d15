package acme

import (
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// keyCache keeps parsed account keys by their stored JWK text, so that a
// request by kid reads the account's row (its status, its current key)
// each time but parses the key only once. Only the parse is cached: a key
// change or a deactivation takes effect at the next request, on every
// node.
type keyCache struct {
	mu   sync.Mutex
	keys map[string]*jose.JSONWebKey
}

// keyCacheSize bounds the cache; past it the cache starts again empty.
const keyCacheSize = 4096

var accountKeys = &keyCache{keys: map[string]*jose.JSONWebKey{}}

func (c *keyCache) parse(jwk string) (*jose.JSONWebKey, error) {
	c.mu.Lock()
	k, ok := c.keys[jwk]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	k = new(jose.JSONWebKey)
	if err := k.UnmarshalJSON([]byte(jwk)); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.keys) >= keyCacheSize {
		clear(c.keys)
	}
	c.keys[jwk] = k
	c.mu.Unlock()
	return k, nil
}
