// Package mystery of the fixture has no class.
package mystery
