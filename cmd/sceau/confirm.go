package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// yesFlag is the --yes of a command that changes something: without it the
// command says what it would do and changes nothing (default deny).
type yesFlag bool

// addYes gives cmd its --yes flag.
func addYes(cmd *cobra.Command, usage string) *yesFlag {
	y := new(yesFlag)
	cmd.Flags().BoolVar((*bool)(y), "yes", false, usage)
	return y
}

// dryRun prints "would …; add --yes to do it" and reports true when --yes
// was not given: the command then stops there.
func (y *yesFlag) dryRun(e *env, format string, args ...any) bool {
	if *y {
		return false
	}
	fmt.Fprintf(e.stdout, "would "+format+"; add --yes to do it\n", args...)
	return true
}
