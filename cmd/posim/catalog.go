package main

import (
	"encoding/json"
	"fmt"

	"github.com/posim/posim/scenarios"
	"github.com/spf13/cobra"
)

func newCatalogCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List or show the built-in failure catalogue",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr("catalog needs list or show NAME")
		},
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the catalogue scenarios",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := scenarios.Catalog()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				type entry struct {
					Name     string         `json:"name"`
					Title    scenarios.Text `json:"title"`
					Source   string         `json:"source"`
					Tags     []string       `json:"tags"`
					Profiles []string       `json:"profiles,omitempty"`
				}
				var entries []entry
				for _, s := range all {
					entries = append(entries, entry{s.Name, s.Title, s.Source, s.Tags, s.Profiles})
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			for _, s := range all {
				fmt.Fprintf(out, "%-34s %s\n", s.Name, s.Title.EN)
			}
			return nil
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a catalogue scenario's YAML",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := scenarios.CatalogSource(args[0])
			if err != nil {
				return invalid(err)
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.AddCommand(list, show)
	return cmd
}
