package scenarios

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"testing"

	"github.com/posim/posim/faults"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
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

// schemaDefs reads the shipped schema's definitions.
func schemaDefs(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("schema/scenario.schema.json")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	return doc["$defs"].(map[string]any)
}

// Every step kind (each operation of the terminal's catalogue, each world
// step) is a key of the schema's step, with the argument form the loader
// takes, and the schema names no step the loader refuses.
func TestSchema_NamesEveryStepKind(t *testing.T) {
	steps := schemaDefs(t)["step"].(map[string]any)["properties"].(map[string]any)
	ref := func(kind string) string {
		p, ok := steps[kind].(map[string]any)
		require.True(t, ok, "the schema has no step %q", kind)
		r, _ := p["$ref"].(string)
		return r
	}
	for _, op := range terminal.Operations() {
		want := "#/$defs/opArgs"
		if op.Bare() {
			want = "#/$defs/none"
		}
		require.Equal(t, want, ref(op.Name()), op.Name())
	}
	forms := map[stepArg]string{argNone: "#/$defs/none", argDuration: "#/$defs/duration", argKeys: "#/$defs/opArgs", argTarget: ""}
	for _, w := range worldSteps {
		require.Equal(t, forms[w.arg], ref(w.kind), w.kind)
	}
	for key := range steps {
		switch key {
		case "repeat", "profiles", "expect":
			continue
		}
		require.Contains(t, StepKinds(), key, "the schema names a step posim does not know")
	}
}

// A rule's when.op takes exactly the operations of the wire model.
func TestSchema_WhenOpIsEveryOperation(t *testing.T) {
	when := schemaDefs(t)["when"].(map[string]any)["properties"].(map[string]any)
	var enum []string
	for _, v := range when["op"].(map[string]any)["enum"].([]any) {
		enum = append(enum, v.(string))
	}
	require.ElementsMatch(t, wire.OpNames(), enum)
}
