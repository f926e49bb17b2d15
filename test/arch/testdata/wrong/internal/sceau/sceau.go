// Package sceau of the fixture is clean.
package sceau
