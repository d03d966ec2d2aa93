package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed catalog/*.yaml
var catalogFS embed.FS

// Catalog returns the built-in failure catalogue, sorted by name. The files
// use exactly the public scenario format.
func Catalog() ([]*Scenario, error) {
	entries, err := fs.ReadDir(catalogFS, "catalog")
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, e := range entries {
		data, err := catalogFS.ReadFile(path.Join("catalog", e.Name()))
		if err != nil {
			return nil, err
		}
		s, err := Parse("catalog/"+e.Name(), data)
		if err != nil {
			return nil, fmt.Errorf("built-in catalogue: %w", err)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CatalogFor returns the catalogue scenarios that run under a profile.
func CatalogFor(profile string) ([]*Scenario, error) {
	all, err := Catalog()
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, s := range all {
		if s.Supports(profile) {
			out = append(out, s)
		}
	}
	return out, nil
}

// CatalogSource returns the YAML of the catalogue scenario called name.
func CatalogSource(name string) ([]byte, error) {
	data, err := catalogFS.ReadFile(path.Join("catalog", name+".yaml"))
	if err != nil {
		all, _ := Catalog()
		var names []string
		for _, s := range all {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("no catalogue scenario %q (known: %s)", name, strings.Join(names, ", "))
	}
	return data, nil
}

// FromCatalog returns the catalogue scenario called name.
func FromCatalog(name string) (*Scenario, error) {
	data, err := CatalogSource(name)
	if err != nil {
		return nil, err
	}
	return Parse("catalog/"+name+".yaml", data)
}
