package faults

import (
	"encoding/json"
	"strings"

	"github.com/posim/posim/yamlx"
	"go.yaml.in/yaml/v3"
)

// Action is one fault primitive in a rule's pipeline, written either as its
// bare name or as a one-key mapping with its arguments. The primitives are
// registered by name, each in its own file (NAME.go).
type Action struct {
	// Name is the primitive's name.
	Name string
	// Line is where the action is written.
	Line int
	prim primitive
}

// Spec returns the action's arguments: the primitive's own type (a
// *DelaySpec for delay, say).
func (a Action) Spec() any { return a.prim }

// UnmarshalYAML reads "name" or "{name: args}".
func (a *Action) UnmarshalYAML(n *yaml.Node) error {
	a.Line = n.Line
	var argNode *yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		a.Name = n.Value
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return yamlx.Errorf(n, "an action is one name, or a mapping with one key: the name (known: %s)", strings.Join(ActionNames(), ", "))
		}
		a.Name, argNode = n.Content[0].Value, n.Content[1]
	default:
		return yamlx.Errorf(n, "an action is a name or a one-key mapping")
	}
	def, known := registry[a.Name]
	if !known {
		return yamlx.Errorf(n, "unknown action %q (known: %s)", a.Name, strings.Join(ActionNames(), ", "))
	}
	a.prim = def.new()
	if argNode == nil || (argNode.Kind == yaml.ScalarNode && argNode.Tag == "!!null") {
		if !def.bare {
			return yamlx.Errorf(n, "action %s needs arguments", a.Name)
		}
		return nil
	}
	if argNode.Kind == yaml.ScalarNode || argNode.Kind == yaml.SequenceNode {
		if def.scalar == nil {
			return yamlx.Errorf(argNode, "action %s takes a mapping of arguments", a.Name)
		}
		return def.scalar(a.prim, argNode)
	}
	if _, noArgs := a.prim.(noArgs); noArgs {
		return yamlx.Errorf(argNode, "action %s takes no arguments", a.Name)
	}
	return yamlx.Decode(argNode, a.prim)
}

// noArgs is implemented by primitives without arguments.
type noArgs interface{ noArgs() }

// MarshalJSON writes {"name": N, N: arguments, "line": L}.
func (a Action) MarshalJSON() ([]byte, error) {
	m := map[string]any{"name": a.Name, "line": a.Line}
	if _, none := a.prim.(noArgs); a.prim != nil && !none {
		m[a.Name] = a.prim
	}
	return json.Marshal(m)
}

// String names the action for journals and reports.
func (a Action) String() string {
	if a.prim == nil {
		return a.Name
	}
	return a.prim.String()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
