// Package ca of the fixture breaks the domain rules: it imports the wiring,
// a domain package it has no edge to, and a database driver.
package ca

import (
	_ "github.com/sceau/sceau/internal/ceremony"
	_ "github.com/sceau/sceau/internal/server"
	_ "modernc.org/sqlite"
)
