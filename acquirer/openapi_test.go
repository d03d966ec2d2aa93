package acquirer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The routes the control API registers are exactly those the OpenAPI
// document names.
func TestOpenAPI_NamesEveryRoute(t *testing.T) {
	a, err := New()
	require.NoError(t, err)
	c, err := NewControl(a, nil)
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openAPI, &doc))
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range c.routes() {
		served[rt.pattern] = true
	}
	require.Equal(t, served, documented)
}
