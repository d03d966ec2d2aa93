package main

import (
	"errors"
	"fmt"

	"github.com/posim/posim/faults"
	"github.com/posim/posim/scenarios"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var where string
	cmd := &cobra.Command{
		Use:   "validate FILES...",
		Short: "Check scenario files without running them",
		Long: `Check scenario files: unknown keys, wrong types and bad values are reported as file:line: message. Exit 2 on any problem.

The rules are checked for where they will run: posim's acquirer (posim run, posim acquirer
--scenario; the default) or posim proxy (--for proxy), since some primitives make sense in
one only.`,
		Example: `  posim validate my-scenarios/
  posim validate --for proxy lose-third-approval.yaml`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("validate needs scenario files or directories")
			}
			if where != faults.WhereAcquirer && where != faults.WhereProxy {
				return usageErr("--for %q: want acquirer or proxy", where)
			}
			loaded, err := scenarios.LoadPaths(args)
			if err == nil {
				var errs []error
				for _, s := range loaded {
					errs = append(errs, faults.Check(s.File, s.Rules, where))
				}
				err = errors.Join(errs...)
			}
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
	cmd.Flags().StringVar(&where, "for", faults.WhereAcquirer, "where the rules will run: acquirer or proxy")
	return cmd
}
