package main

import (
	"errors"
	"fmt"

	"github.com/posim/posim/scenarios"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILES...",
		Short: "Check scenario files without running them",
		Long:  "Check scenario files: unknown keys, wrong types and bad values are reported as file:line: message. Exit 2 on any problem.",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("validate needs scenario files or directories")
			}
			loaded, err := scenarios.LoadPaths(args)
			if err != nil {
				var errs interface{ Unwrap() []error }
				if errors.As(err, &errs) {
					for _, e := range errs.Unwrap() {
						fmt.Fprintln(cmd.ErrOrStderr(), e)
					}
					return &exitError{code: exitInvalid, err: err, silent: true}
				}
				return invalid(err)
			}
			for _, s := range loaded {
				fmt.Fprintf(cmd.OutOrStdout(), "ok  %s (%s)\n", s.File, s.Name)
			}
			return nil
		},
	}
}
