// Package ca of the fixture breaks the domain rules: it imports the wiring,
// a domain package it has no edge to, and a database driver, and holds a
// query outside its sql.go.
package ca

import (
	_ "github.com/sceau/sceau/internal/ceremony"
	_ "github.com/sceau/sceau/internal/server"
	_ "modernc.org/sqlite"
)

const count = `SELECT COUNT(*) FROM certificates WHERE ca_id = ?`
