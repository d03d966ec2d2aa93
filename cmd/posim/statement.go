package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/spf13/cobra"
)

func newStatementCmd() *cobra.Command {
	var control, mid, day string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "statement",
		Short: "Print a merchant's statement for a business day from a running acquirer",
		Long: `Ask a running acquirer (started with --control) for a merchant's statement of one
business day: its settlement lines, sales, refunds, fees, deductions and net payout.`,
		Example: `  posim statement --control 127.0.0.1:8584 --mid POSIM0000000001 --day 2026-01-15`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mid == "" {
				return usageErr("statement needs --mid")
			}
			if _, err := time.Parse("2006-01-02", day); err != nil {
				return invalid(fmt.Errorf("--day %q: want YYYY-MM-DD", day))
			}
			u := url.URL{Scheme: "http", Host: control, Path: "/statement", RawQuery: url.Values{"mid": {mid}, "day": {day}}.Encode()}
			client := http.Client{Timeout: 10 * time.Second}
			resp, err := client.Get(u.String())
			if err != nil {
				return runtimeErr(fmt.Errorf("asking the acquirer's control API: %w", err))
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return runtimeErr(err)
			}
			if resp.StatusCode != http.StatusOK {
				return runtimeErr(fmt.Errorf("control API: %s: %s", resp.Status, body))
			}
			if asJSON {
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			var st acquirer.Statement
			if err := json.Unmarshal(body, &st); err != nil {
				return runtimeErr(fmt.Errorf("control API answer: %w", err))
			}
			return acquirer.WriteStatement(cmd.OutOrStdout(), st)
		},
	}
	cmd.Flags().StringVar(&control, "control", "127.0.0.1:8584", "the acquirer's control API address")
	cmd.Flags().StringVar(&mid, "mid", "", "merchant id")
	cmd.Flags().StringVar(&day, "day", time.Now().UTC().Format("2006-01-02"), "business day, YYYY-MM-DD")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
