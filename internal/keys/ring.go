package keys

import (
	"crypto"
	"fmt"
	"io"
	"sync"

	"github.com/sceau/sceau/internal/sceau"
)

// Store is what every key provider offers: SoftStore and PKCS11Store.
type Store interface {
	Generate(label string, t Type) (crypto.Signer, error)
	Signer(label string) (crypto.Signer, error)
	Activate(secret []byte) error
	Deactivate()
	Active() bool
}

var (
	_ Store = (*SoftStore)(nil)
	_ Store = (*PKCS11Store)(nil)
)

// Ring routes keys to their stores: a CA whose key needs m-of-n activation
// (KEY-2) has a store of its own, "ca-<id>"; every other key (CAs without
// an activation policy, OCSP responders, service keys) lives in the
// service store, activated from the service secret at start.
type Ring struct {
	service Store

	mu  sync.RWMutex
	cas map[string]Store // by CA ID
}

// NewRing returns a ring over the service store.
func NewRing(service Store) *Ring {
	return &Ring{service: service, cas: map[string]Store{}}
}

// AddCA gives CA id a store of its own.
func (r *Ring) AddCA(id string, s Store) {
	r.mu.Lock()
	r.cas[id] = s
	r.mu.Unlock()
}

// CAStore returns the store of CA id, and whether it has one of its own.
func (r *Ring) CAStore(id string) (Store, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.cas[id]
	return s, ok
}

// Service returns the service store.
func (r *Ring) Service() Store { return r.service }

func (r *Ring) storeFor(label string) Store {
	if id, ok := sceau.CAOfKeyLabel(label); ok {
		if s, ok := r.CAStore(id); ok {
			return s
		}
	}
	return r.service
}

// StoreOf returns the store that the key labelled label lives in.
func (r *Ring) StoreOf(label string) Store { return r.storeFor(label) }

// Generate makes a key in the store its label belongs to.
func (r *Ring) Generate(label string, t Type) (crypto.Signer, error) {
	return r.storeFor(label).Generate(label, t)
}

// Signer returns the signer of label from the store it belongs to.
func (r *Ring) Signer(label string) (crypto.Signer, error) {
	return r.storeFor(label).Signer(label)
}

// Deactivate drops every key of every store (KEY-5: stop signal).
func (r *Ring) Deactivate() {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range r.cas {
		s.Deactivate()
	}
	r.service.Deactivate()
}

// Active reports whether the store that label belongs to is activated.
func (r *Ring) Active(label string) bool { return r.storeFor(label).Active() }

// Resolver finds signers by label and tells whether they can sign now.
type Resolver interface {
	Signer(label string) (crypto.Signer, error)
	Active(label string) bool
}

var _ Resolver = (*Ring)(nil)

// Deferred returns a signer for a key whose store is not activated yet:
// its public key comes from the CA certificate, and it finds the key in
// its store on the first signature after activation. Until then, Sign
// answers ErrNotActivated (KEY-5).
func Deferred(r Resolver, label string, pub crypto.PublicKey) crypto.Signer {
	return &deferredSigner{r: r, label: label, pub: pub}
}

type deferredSigner struct {
	r     Resolver
	label string
	pub   crypto.PublicKey
}

func (d *deferredSigner) Public() crypto.PublicKey { return d.pub }

// Active reports whether the key's store is activated.
func (d *deferredSigner) Active() bool { return d.r.Active(d.label) }

func (d *deferredSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if !d.r.Active(d.label) {
		return nil, fmt.Errorf("keys: key %q: %w", d.label, ErrNotActivated)
	}
	s, err := d.r.Signer(d.label)
	if err != nil {
		return nil, err
	}
	if eq, ok := s.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(d.pub) {
		return nil, fmt.Errorf("keys: key %q in its store is not the key of the certificate", d.label)
	}
	return s.Sign(rand, digest, opts)
}
