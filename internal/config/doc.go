// Package config is the schema of sceau.yaml: one commented file, decoded
// strictly (unknown keys are errors), with DefaultConfig and a Validate that
// reports every problem at once. Only cmd/sceau imports it; it turns the file
// into each package's options.
package config
