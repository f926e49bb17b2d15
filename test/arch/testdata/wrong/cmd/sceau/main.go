// The command of the fixture does what belongs in packages.
package main

import (
	"crypto/rand"
	"database/sql"
)

const query = `SELECT serial FROM certificates WHERE ca = ?`

func main() {
	_, _ = sql.Open("sqlite", "x")
	_, _ = rand.Read(make([]byte, 1))
}
