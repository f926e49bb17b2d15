//go:build !unix

package audit

// lockDir does nothing where flock is missing: run one exporter per
// directory.
func lockDir(string) (func(), error) { return func() {}, nil }
