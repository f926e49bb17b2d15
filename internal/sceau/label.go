package sceau

import "strings"

// caKeyPrefix starts the label of every CA key in its store and the key ID
// of its activation secret in the split registry.
const caKeyPrefix = "ca-"

// CAKeyLabel is the label of CA caID's key in its store, and the key ID of
// its activation secret among the registered splits (KEY-2).
func CAKeyLabel(caID string) string { return caKeyPrefix + caID }

// CAOfKeyLabel returns the CA whose key label is label, if it is one.
func CAOfKeyLabel(label string) (caID string, ok bool) { return strings.CutPrefix(label, caKeyPrefix) }
