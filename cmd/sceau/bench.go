package main

import "github.com/spf13/cobra"

func newBenchCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure issuance and OCSP throughput against a running installation",
	}
	return cmd
}
