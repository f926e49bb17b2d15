// Package server of the fixture imports the installation above it.
package server

import _ "github.com/sceau/sceau/internal/node"
