package scenarios

import (
	"slices"
	"strings"

	"github.com/posim/posim/yamlx"
	"go.yaml.in/yaml/v3"
)

// Step kinds.
var (
	opSteps   = []string{"sale", "preauth", "completion", "void", "preauth_void", "completion_void", "refund", "balance", "reversal"}
	bareSteps = []string{"echo", "signon", "signoff", "settle", "reconnect", "host_up"}
	timeSteps = []string{"wait", "advance", "host_down"}
	// back-office steps act on the acquirer's books, not on the wire
	disputeSteps = []string{"retrieval", "chargeback", "representment", "second_chargeback"}
	accountSteps = []string{"settlement_account"}
)

// StepKinds lists every step kind.
func StepKinds() []string {
	out := append(append(append(append(append([]string{}, opSteps...), bareSteps...), timeSteps...), disputeSteps...), accountSteps...)
	return append(out, "restart")
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// UnmarshalYAML reads a step: one key naming the kind (with its
// arguments), plus optional expect and repeat.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	s.Line = n.Line
	if n.Kind != yaml.MappingNode {
		return yamlx.Errorf(n, "a step is a mapping such as {sale: {amount: \"10.00\"}}")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch key := k.Value; {
		case key == "expect":
			s.Expect = &StepExpect{}
			if err := yamlx.Decode(v, s.Expect); err != nil {
				return err
			}
		case key == "profiles":
			if err := yamlx.Decode(v, &s.Profiles); err != nil {
				return err
			}
		case key == "repeat":
			if err := yamlx.Decode(v, &s.Repeat); err != nil {
				return err
			}
			if s.Repeat < 1 {
				return yamlx.Errorf(v, "repeat must be at least 1")
			}
		case contains(opSteps, key), contains(bareSteps, key), contains(timeSteps, key), contains(disputeSteps, key), contains(accountSteps, key), key == "restart":
			if s.Op != "" {
				return yamlx.Errorf(k, "a step does one thing: %q and %q", s.Op, key)
			}
			s.Op = key
			if err := s.args(v); err != nil {
				return err
			}
		default:
			return yamlx.Errorf(k, "unknown step %q (known: %s, plus expect, repeat and profiles)", key, strings.Join(StepKinds(), ", "))
		}
	}
	if s.Op == "" {
		return yamlx.Errorf(n, "the step names no action (known: %s)", strings.Join(StepKinds(), ", "))
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "")
}

func (s *Step) args(v *yaml.Node) error {
	switch {
	case contains(opSteps, s.Op), contains(disputeSteps, s.Op), contains(accountSteps, s.Op):
		if isNull(v) {
			return nil
		}
		return yamlx.Decode(v, &s.Args)
	case contains(bareSteps, s.Op):
		if !isNull(v) && !(v.Kind == yaml.MappingNode && len(v.Content) == 0) {
			return yamlx.Errorf(v, "%s takes no arguments", s.Op)
		}
		return nil
	case contains(timeSteps, s.Op):
		return yamlx.Decode(v, &s.Duration)
	case s.Op == "restart":
		if v.Kind != yaml.ScalarNode || (v.Value != "terminal" && v.Value != "acquirer") {
			return yamlx.Errorf(v, "restart takes terminal or acquirer")
		}
		s.Target = v.Value
	}
	return nil
}
