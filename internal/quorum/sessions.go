package quorum

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// Sessions keeps the activations in progress, so that holders can present
// their shares one after another from different terminals.
type Sessions struct {
	reg *Registry

	mu   sync.Mutex
	open map[string]*session
}

type session struct {
	keyID string
	act   *Activation
}

// NewSessions returns an empty set of activations over reg.
func NewSessions(reg *Registry) *Sessions {
	return &Sessions{reg: reg, open: map[string]*session{}}
}

// Registry returns the split registry behind the sessions.
func (s *Sessions) Registry() *Registry { return s.reg }

// Begin opens an activation of keyID and returns its ID.
func (s *Sessions) Begin(ctx context.Context, actor sceau.Actor, keyID string, window time.Duration) (string, *Activation, error) {
	a, err := s.reg.Begin(ctx, actor, keyID, window)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	id := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gc()
	s.open[id] = &session{keyID: keyID, act: a}
	return id, a, nil
}

// Get returns the open activation id of keyID.
func (s *Sessions) Get(keyID, id string) (*Activation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gc()
	ss, ok := s.open[id]
	if !ok || ss.keyID != keyID {
		return nil, sceau.Errorf(sceau.NotFound, "quorum: activation", "no open activation %q of %q (finished, expired or never begun)", id, keyID)
	}
	return ss.act, nil
}

// Finish forgets activation id.
func (s *Sessions) Finish(id string) {
	s.mu.Lock()
	delete(s.open, id)
	s.mu.Unlock()
}

// gc forgets activations whose window closed; the caller holds mu.
func (s *Sessions) gc() {
	now := s.reg.clock.Now()
	for id, ss := range s.open {
		if now.After(ss.act.Deadline()) {
			delete(s.open, id)
		}
	}
}
