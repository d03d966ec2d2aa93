package scenarios

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Fault primitives: the actions a rule's pipeline may hold. Each is written
// either as its bare name or as a one-key mapping with its arguments.
const (
	ActProcess    = "process"     // commit the request to the ledger
	ActRespond    = "respond"     // send the response, with field overrides
	ActDelay      = "delay"       // wait before the next action
	ActNoResponse = "no_response" // never answer; optionally close after a hold
	ActClose      = "close"       // close the connection (fin or rst) at a point
	ActTruncate   = "truncate"    // send only the first bytes of the response
	ActFragment   = "fragment"    // send the response in pieces
	ActGarbage    = "garbage"     // send seeded random bytes instead
	ActMutate     = "mutate"      // corrupt response fields
	ActDuplicate  = "duplicate"   // send the response twice
	ActSend       = "send"        // send an unsolicited or stale message
	ActHoldUntil  = "hold_until"  // release the response only after its reversal arrives
	ActRefuse     = "refuse"      // take the host off the network for a period
	ActDiscard    = "discard"     // drop the request silently
	ActUpstream   = "upstream"    // an issuer behind the host, slower than its timeout
	ActFee        = "fee_anomaly" // a back-office fault on this transaction's settlement line
)

// Close points.
const (
	AtReceive       = "on_receive"
	AtBeforeRespond = "before_respond"
	AtAfterRespond  = "after_respond"
)

// Action is one fault primitive in a rule's pipeline. Exactly one of the
// argument fields that belongs to Name may be set.
type Action struct {
	Name       string            `json:"name"`
	Respond    map[string]string `json:"respond,omitempty"`
	Delay      *DelaySpec        `json:"delay,omitempty"`
	NoResponse *NoResponseSpec   `json:"no_response,omitempty"`
	Close      *CloseSpec        `json:"close,omitempty"`
	Truncate   *TruncateSpec     `json:"truncate,omitempty"`
	Fragment   *FragmentSpec     `json:"fragment,omitempty"`
	Garbage    *GarbageSpec      `json:"garbage,omitempty"`
	Mutate     []string          `json:"mutate,omitempty"`
	Duplicate  *DuplicateSpec    `json:"duplicate,omitempty"`
	Send       *SendSpec         `json:"send,omitempty"`
	HoldUntil  *HoldSpec         `json:"hold_until,omitempty"`
	Refuse     *RefuseSpec       `json:"refuse,omitempty"`
	Upstream   *UpstreamSpec     `json:"upstream,omitempty"`
	Fee        *AnomalySpec      `json:"fee_anomaly,omitempty"`
	Line       int               `json:"line"`
}

// DelaySpec is a fixed delay or a distribution: fixed (Fixed), uniform
// (Min, Max), normal (Mean, StdDev) or exponential (Mean).
type DelaySpec struct {
	Fixed        Duration `yaml:"fixed" json:"fixed,omitempty"`
	Distribution string   `yaml:"distribution" json:"distribution,omitempty"`
	Min          Duration `yaml:"min" json:"min,omitempty"`
	Max          Duration `yaml:"max" json:"max,omitempty"`
	Mean         Duration `yaml:"mean" json:"mean,omitempty"`
	StdDev       Duration `yaml:"stddev" json:"stddev,omitempty"`
}

// NoResponseSpec holds the response back; after Hold, Then is keep (the
// connection stays open) or close.
type NoResponseSpec struct {
	Hold Duration `yaml:"hold" json:"hold,omitempty"`
	Then string   `yaml:"then" json:"then,omitempty"`
}

// CloseSpec closes the connection at a point with FIN or RST.
type CloseSpec struct {
	At   string `yaml:"at" json:"at"`
	Mode string `yaml:"mode" json:"mode,omitempty"`
}

// TruncateSpec sends only the first Bytes bytes of the response frame
// (default: half of it).
type TruncateSpec struct {
	Bytes int `yaml:"bytes" json:"bytes,omitempty"`
}

// FragmentSpec sends the response frame in Parts pieces, Gap apart.
type FragmentSpec struct {
	Parts int      `yaml:"parts" json:"parts,omitempty"`
	Gap   Duration `yaml:"gap" json:"gap,omitempty"`
}

// GarbageSpec sends Bytes random bytes (random) or a length header that
// announces more than follows (bad_length) instead of the response.
type GarbageSpec struct {
	Bytes int    `yaml:"bytes" json:"bytes,omitempty"`
	Mode  string `yaml:"mode" json:"mode,omitempty"`
}

// DuplicateSpec sends the response twice, Gap apart.
type DuplicateSpec struct {
	Gap Duration `yaml:"gap" json:"gap,omitempty"`
}

// SendSpec sends an extra message before the response: the previous
// response sent to this terminal (Stale) or a message of its own.
type SendSpec struct {
	Stale  bool              `yaml:"stale" json:"stale,omitempty"`
	MTI    string            `yaml:"mti" json:"mti,omitempty"`
	Fields map[string]string `yaml:"fields" json:"fields,omitempty"`
}

// HoldSpec holds the response until a reversal of the request arrives (or
// Timeout passes), then releases it.
type HoldSpec struct {
	Reversal bool     `yaml:"reversal" json:"reversal"`
	Timeout  Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// RefuseSpec takes the host off the network (listener closed, connections
// dropped) for For; Mode close instead accepts connections and closes them
// at once.
type RefuseSpec struct {
	For  Duration `yaml:"for" json:"for"`
	Mode string   `yaml:"mode" json:"mode,omitempty"`
}

// UpstreamSpec puts an issuer behind the host that answers after Latency;
// the host gives up after Timeout and answers 68.
type UpstreamSpec struct {
	Latency Duration `yaml:"latency" json:"latency"`
	Timeout Duration `yaml:"timeout" json:"timeout"`
}

// actionArgs maps each primitive to a decoder of its argument node (nil
// node: the bare name).
var actionArgs = map[string]func(a *Action, n *yaml.Node) error{
	ActProcess: nil,
	ActRespond: func(a *Action, n *yaml.Node) error { return decodeStrict(n, &a.Respond) },
	ActDelay: func(a *Action, n *yaml.Node) error {
		a.Delay = &DelaySpec{}
		if n.Kind == yaml.ScalarNode {
			return decodeStrict(n, &a.Delay.Fixed)
		}
		return decodeStrict(n, a.Delay)
	},
	ActNoResponse: func(a *Action, n *yaml.Node) error {
		a.NoResponse = &NoResponseSpec{}
		return decodeStrict(n, a.NoResponse)
	},
	ActClose:    func(a *Action, n *yaml.Node) error { a.Close = &CloseSpec{}; return decodeStrict(n, a.Close) },
	ActTruncate: func(a *Action, n *yaml.Node) error { a.Truncate = &TruncateSpec{}; return decodeStrict(n, a.Truncate) },
	ActFragment: func(a *Action, n *yaml.Node) error { a.Fragment = &FragmentSpec{}; return decodeStrict(n, a.Fragment) },
	ActGarbage:  func(a *Action, n *yaml.Node) error { a.Garbage = &GarbageSpec{}; return decodeStrict(n, a.Garbage) },
	ActMutate: func(a *Action, n *yaml.Node) error {
		if n.Kind == yaml.ScalarNode {
			a.Mutate = []string{n.Value}
			return nil
		}
		return decodeStrict(n, &a.Mutate)
	},
	ActDuplicate: func(a *Action, n *yaml.Node) error {
		a.Duplicate = &DuplicateSpec{}
		return decodeStrict(n, a.Duplicate)
	},
	ActSend:      func(a *Action, n *yaml.Node) error { a.Send = &SendSpec{}; return decodeStrict(n, a.Send) },
	ActHoldUntil: func(a *Action, n *yaml.Node) error { a.HoldUntil = &HoldSpec{}; return decodeStrict(n, a.HoldUntil) },
	ActRefuse:    func(a *Action, n *yaml.Node) error { a.Refuse = &RefuseSpec{}; return decodeStrict(n, a.Refuse) },
	ActDiscard:   nil,
	ActUpstream:  func(a *Action, n *yaml.Node) error { a.Upstream = &UpstreamSpec{}; return decodeStrict(n, a.Upstream) },
	ActFee:       func(a *Action, n *yaml.Node) error { a.Fee = &AnomalySpec{}; return decodeStrict(n, a.Fee) },
}

// ActionNames lists the fault primitives.
func ActionNames() []string {
	names := make([]string, 0, len(actionArgs))
	for n := range actionArgs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// UnmarshalYAML reads "name" or "{name: args}".
func (a *Action) UnmarshalYAML(n *yaml.Node) error {
	a.Line = n.Line
	var argNode *yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		a.Name = n.Value
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return lineErr(n, "an action is one name, or a mapping with one key: the name (known: %s)", strings.Join(ActionNames(), ", "))
		}
		a.Name, argNode = n.Content[0].Value, n.Content[1]
	default:
		return lineErr(n, "an action is a name or a one-key mapping")
	}
	dec, known := actionArgs[a.Name]
	if !known {
		return lineErr(n, "unknown action %q (known: %s)", a.Name, strings.Join(ActionNames(), ", "))
	}
	if argNode == nil || (argNode.Kind == yaml.ScalarNode && argNode.Tag == "!!null") {
		// bare name: defaults for the arguments
		switch a.Name {
		case ActRespond, ActProcess, ActDiscard:
		case ActDelay, ActRefuse, ActUpstream, ActHoldUntil, ActSend, ActMutate, ActFee:
			return lineErr(n, "action %s needs arguments", a.Name)
		default:
			if dec != nil {
				empty := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}
				return dec(a, empty)
			}
		}
		return nil
	}
	if dec == nil {
		return lineErr(argNode, "action %s takes no arguments", a.Name)
	}
	if err := dec(a, argNode); err != nil {
		return err
	}
	return nil
}

// String names the action for journals and reports.
func (a Action) String() string {
	switch {
	case a.Close != nil:
		return fmt.Sprintf("close(%s,%s)", orDefault(a.Close.At, AtBeforeRespond), orDefault(a.Close.Mode, "fin"))
	case a.Delay != nil && a.Delay.Distribution == "":
		return fmt.Sprintf("delay(%s)", a.Delay.Fixed)
	case len(a.Respond) > 0:
		keys := sortedKeys(a.Respond)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+"="+a.Respond[k])
		}
		return "respond(" + strings.Join(parts, ",") + ")"
	case len(a.Mutate) > 0:
		return "mutate(" + strings.Join(a.Mutate, ",") + ")"
	}
	return a.Name
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
