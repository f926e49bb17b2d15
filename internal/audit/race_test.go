//go:build race

package audit_test

// The race detector slows the SQLite engine about twentyfold: the
// tampering trials run once per kind under it (four times otherwise).
const raceEnabled = true
