package main

import "github.com/spf13/cobra"

func newIncidentCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "incident", Short: "Incidents: weak algorithms (INC-3)",
		Long: `The incident procedures of the policy (§5.6). weak-algorithm finds and revokes
the certificates an algorithm judged insufficient affects. See docs/incident.md.`}
	cmd.AddCommand(newWeakAlgorithmCmd(e))
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	return cmd
}
