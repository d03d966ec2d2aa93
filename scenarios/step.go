package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/posim/posim/yamlx"
	"go.yaml.in/yaml/v3"
)

// A step is either an operation of the terminal (terminal.Operations: its
// name, arguments and method come from that catalogue) or a world step,
// below: time passing, the host going down or restarting, the back office
// acting on the acquirer's books.

// stepArg is what a world step's key is followed by.
type stepArg int

const (
	argNone     stepArg = iota // nothing: {reconnect: }
	argDuration                // a duration: {wait: 30s}
	argTarget                  // terminal or acquirer: {restart: terminal}
	argKeys                    // a mapping of keys: {chargeback: {stan: "1", reason: "4515"}}
)

// worldStep is a step kind that is not a terminal operation.
type worldStep struct {
	kind           string
	label, labelZH string
	arg            stepArg
	// keys are the argument keys an argKeys step takes.
	keys []string
	// host: the step acts on posim's own acquirer, so it cannot run
	// against a target host.
	host bool
	// check, when set, returns what is wrong with the step's arguments.
	check func(st Step) []string
	// run does the step; a step that leaves a result (the back office's
	// answer) returns it.
	run func(r *run, ctx context.Context, st Step, sr *StepResult) (*terminal.Result, error)
}

// The step kinds a scenario's key ("wait", "host_down" ...) names, besides
// the terminal's operations. Their runs are in run.go.
var worldSteps []worldStep

func init() { worldSteps = worldStepTable() }

func worldStepTable() []worldStep {
	disputeKeys := []string{"stan", "tid", "reason", "fee", "won"}
	return []worldStep{
		{kind: "wait", label: "wait", labelZH: "等待", arg: argDuration, check: positiveDuration, run: (*run).wait},
		{kind: "advance", label: "clock advances", labelZH: "时钟前进", arg: argDuration, check: positiveDuration, run: (*run).advance},
		{kind: "restart", label: "restart", labelZH: "重启", arg: argTarget, run: (*run).restart},
		{kind: "reconnect", label: "reconnect", labelZH: "重新连接", run: (*run).reconnect},
		{kind: "host_down", label: "host goes down", labelZH: "主机离线", arg: argDuration, host: true, check: positiveDuration,
			run: (*run).hostDown},
		{kind: "host_up", label: "host comes back", labelZH: "主机恢复", host: true, run: (*run).hostUp},
		{kind: "retrieval", label: "retrieval request", labelZH: "调单", arg: argKeys, keys: disputeKeys, host: true, check: checkDispute, run: (*run).dispute},
		{kind: "chargeback", label: "chargeback", labelZH: "拒付", arg: argKeys, keys: disputeKeys, host: true, check: checkDispute, run: (*run).dispute},
		{kind: "representment", label: "representment", labelZH: "再请款", arg: argKeys, keys: disputeKeys, host: true, check: checkDispute, run: (*run).dispute},
		{kind: "second_chargeback", label: "second chargeback", labelZH: "二次拒付", arg: argKeys, keys: disputeKeys, host: true, check: checkDispute, run: (*run).dispute},
		{kind: "settlement_account", label: "settlement account", labelZH: "结算账户", arg: argKeys, keys: []string{"status", "mid"}, host: true,
			check: checkAccount, run: (*run).settlementAccount},
	}
}

func positiveDuration(st Step) []string {
	if st.Duration <= 0 {
		return []string{st.Op + " needs a positive duration"}
	}
	return nil
}

// checkDispute checks a back-office dispute step on a sale named by its
// STAN.
func checkDispute(st Step) []string {
	var out []string
	if st.Args.STAN == "" {
		out = append(out, st.Op+" needs the stan of the disputed sale")
	}
	if st.Args.Fee != "" {
		if _, err := wire.ParseAmount(st.Args.Fee); err != nil {
			out = append(out, "fee: "+err.Error())
		}
	}
	return out
}

// checkAccount checks a settlement_account step: the account corrected,
// or the reason its payouts come back.
func checkAccount(st Step) []string {
	if s := st.Args.Status; s != acquirer.AccountCorrected && !slices.Contains(acquirer.ReturnReasons, s) {
		return []string{fmt.Sprintf("%s status %q: want %s or one of %s", st.Op, s, acquirer.AccountCorrected, strings.Join(acquirer.ReturnReasons, ", "))}
	}
	return nil
}

func lookupWorld(kind string) (worldStep, bool) {
	for _, w := range worldSteps {
		if w.kind == kind {
			return w, true
		}
	}
	return worldStep{}, false
}

// StepKinds lists every step kind: the terminal's operations, then the
// world steps.
func StepKinds() []string {
	var out []string
	for _, op := range terminal.Operations() {
		out = append(out, op.Name())
	}
	for _, w := range worldSteps {
		out = append(out, w.kind)
	}
	return out
}

// StepLabel names a step kind for people, in lang ("en" or "zh"); a kind
// it does not know is returned as it is.
func StepLabel(kind, lang string) string {
	t := stepText(kind)
	if t.EN == "" {
		return kind
	}
	return t.In(lang)
}

// StepLabels returns every step kind's name in English and Chinese.
func StepLabels() map[string]Text {
	out := map[string]Text{}
	for _, k := range StepKinds() {
		out[k] = stepText(k)
	}
	return out
}

func stepText(kind string) Text {
	if op, ok := terminal.Lookup(kind); ok {
		return Text{EN: op.Label, ZH: op.LabelZH}
	}
	if w, ok := lookupWorld(kind); ok {
		return Text{EN: w.label, ZH: w.labelZH}
	}
	return Text{}
}

// opKeys are the keys of a step that spell each argument of an operation.
var opKeys = map[terminal.Arg][]string{
	terminal.ArgAmount:   {"amount"},
	terminal.ArgCard:     {"card", "pan"},
	terminal.ArgPIN:      {"pin", "no_pin"},
	terminal.ArgChip:     {"card_response", "fallback"},
	terminal.ArgRRN:      {"rrn", "rrn_of"},
	terminal.ArgAuthCode: {"auth_code"},
	terminal.ArgSTAN:     {"stan"},
}

// commonKeys are what every operation with arguments takes besides its
// own: another terminal identity and the terminal-side faults.
var commonKeys = []string{"tid", "mid", "power_cut", "close_before_read", "bad_mac"}

// keysOf lists the argument keys a step kind takes.
func keysOf(kind string) []string {
	if op, ok := terminal.Lookup(kind); ok {
		var out []string
		for _, a := range op.Args() {
			out = append(out, opKeys[a]...)
		}
		return append(out, commonKeys...)
	}
	w, _ := lookupWorld(kind)
	return w.keys
}

// given reports whether a step's arguments give an operation's argument.
func (a OpArgs) given(arg terminal.Arg) bool {
	switch arg {
	case terminal.ArgAmount:
		return a.Amount != ""
	case terminal.ArgCard:
		return a.Card != "" || a.PAN != ""
	case terminal.ArgPIN:
		return a.PIN != "" || a.NoPIN
	case terminal.ArgChip:
		return a.CardResponse != "" || a.Fallback
	case terminal.ArgRRN:
		return a.RRN != "" || a.RRNOf != 0
	case terminal.ArgAuthCode:
		return a.AuthCode != ""
	case terminal.ArgSTAN:
		return a.STAN != ""
	}
	return false
}

// argNames names the keys of alternative arguments: "rrn, rrn_of or auth_code".
func argNames(alts []terminal.Arg) string {
	var keys []string
	for _, a := range alts {
		keys = append(keys, opKeys[a]...)
	}
	if len(keys) == 1 {
		return keys[0]
	}
	return strings.Join(keys[:len(keys)-1], ", ") + " or " + keys[len(keys)-1]
}

// UnmarshalYAML reads a step: one key naming the kind (with its
// arguments), plus optional expect and repeat.
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	s.Line = n.Line
	if n.Kind != yaml.MappingNode {
		return yamlx.Errorf(n, "a step is a mapping such as {sale: {amount: \"10.00\"}}")
	}
	seen := map[string]int{} // a key given twice would silently replace the first
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if line, twice := seen[k.Value]; twice {
			return yamlx.Errorf(k, "mapping key %q already defined at line %d", k.Value, line)
		}
		seen[k.Value] = k.Line
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
		case slices.Contains(StepKinds(), key):
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

// takesNothing reports whether v is an empty argument: nothing, or {}.
func takesNothing(v *yaml.Node) bool {
	return isNull(v) || (v.Kind == yaml.MappingNode && len(v.Content) == 0)
}

func (s *Step) args(v *yaml.Node) error {
	arg := argKeys
	if op, ok := terminal.Lookup(s.Op); ok && op.Bare() {
		arg = argNone
	} else if w, ok := lookupWorld(s.Op); ok {
		arg = w.arg
	}
	switch arg {
	case argNone:
		if !takesNothing(v) {
			return yamlx.Errorf(v, "%s takes no arguments", s.Op)
		}
		return nil
	case argDuration:
		return yamlx.Decode(v, &s.Duration)
	case argTarget:
		if v.Kind != yaml.ScalarNode || (v.Value != "terminal" && v.Value != "acquirer") {
			return yamlx.Errorf(v, "%s takes terminal or acquirer", s.Op)
		}
		s.Target = v.Value
		return nil
	}
	if isNull(v) {
		return nil
	}
	if v.Kind == yaml.MappingNode {
		keys := keysOf(s.Op)
		for i := 0; i+1 < len(v.Content); i += 2 {
			if k := v.Content[i]; !slices.Contains(keys, k.Value) {
				return yamlx.Errorf(k, "unknown key %q: %s takes %s", k.Value, s.Op, strings.Join(keys, ", "))
			}
		}
	}
	return yamlx.Decode(v, &s.Args)
}
