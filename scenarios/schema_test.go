package scenarios

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"testing"

	"github.com/posim/posim/faults"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	s, err := c.Compile("schema/scenario.schema.json")
	require.NoError(t, err)
	return s
}

func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	return doc
}

// Every catalogue file is checked against the shipped JSON Schema, so that
// editors using the schema accept what posim accepts.
func TestSchema_Catalogue(t *testing.T) {
	schema := compileSchema(t)
	entries, err := fs.ReadDir(catalogFS, "catalog")
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		data, err := catalogFS.ReadFile(path.Join("catalog", e.Name()))
		require.NoError(t, err)
		require.NoError(t, schema.Validate(yamlToJSON(t, data)), e.Name())
	}
}

func TestSchema_RejectsUnknownKeys(t *testing.T) {
	schema := compileSchema(t)
	require.Error(t, schema.Validate(yamlToJSON(t, []byte(minimal+"colour: red\n"))))
	require.Error(t, schema.Validate(yamlToJSON(t, []byte("name: t\ntitle: {en: T}\nsteps:\n  - dance: {}\n"))))
	require.NoError(t, schema.Validate(yamlToJSON(t, []byte(minimal))))
}

// A primitive registered in Go but missing from the schema would be
// refused by editors that use it.
func TestSchema_NamesEveryPrimitive(t *testing.T) {
	data, err := os.ReadFile("schema/scenario.schema.json")
	require.NoError(t, err)
	for _, name := range faults.ActionNames() {
		require.Contains(t, string(data), `"`+name+`"`, name)
	}
}
