// Package sceau holds the vocabulary shared by every Sceau package: error
// kinds, the acting party, and the injected clock. It holds no behaviour of
// its own and imports nothing from Sceau.
package sceau
