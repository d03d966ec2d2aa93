package faults

import (
	"maps"
	"slices"
	"strings"

	"github.com/posim/posim/wire"
)

// RespondSpec is respond: send the answer now, with fields overridden,
// keyed mti, de3, de4, de11, de37, de38, de39, de41, de42 or de49.
type RespondSpec map[string]string

// ActRespond is the name of the respond primitive: send the answer now.
const ActRespond = "respond"

func init() {
	register(primitiveDef{name: ActRespond, doc: "send the answer now, with fields overridden ({de39: \"05\"})",
		new: func() primitive { return &RespondSpec{} }, bare: true, answers: true})
}

var respondFields = []string{"mti", "de3", "de4", "de11", "de37", "de38", "de39", "de41", "de42", "de49"}

func (s *RespondSpec) check(c *checker) {
	for k := range *s {
		if !slices.Contains(respondFields, k) {
			c.errorf("respond: unknown field %q (known: %s)", k, strings.Join(respondFields, ", "))
		}
	}
	if !c.processed && (*s)["de39"] == "" {
		c.errorf("rule %q responds without process: give the response code, respond: {de39: \"96\"}", c.rule.ID)
	}
}

func (s *RespondSpec) run(p *pipe) bool {
	t := p.response((*s)["de39"])
	applyOverrides(t, *s)
	p.fault(s.String())
	p.respond(t)
	p.answered = true
	return true
}

func (s *RespondSpec) String() string {
	if len(*s) == 0 {
		return ActRespond
	}
	keys := slices.Sorted(maps.Keys(*s))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + (*s)[k]
	}
	return "respond(" + strings.Join(parts, ",") + ")"
}

// applyOverrides sets message fields named deNN (and mti).
func applyOverrides(t *wire.Txn, o map[string]string) {
	for k, v := range o {
		switch k {
		case "mti":
			t.MTI = v
		case "de3":
			t.ProcessingCode = v
		case "de4":
			if amt, err := wire.ParseAmount(v); err == nil {
				t.Amount, t.HasAmount = amt, true
			}
		case "de11":
			t.STAN = v
		case "de37":
			t.RRN = v
		case "de38":
			t.AuthCode = v
		case "de39":
			t.ResponseCode = v
		case "de41":
			t.TID = v
		case "de42":
			t.MID = v
		case "de49":
			t.Currency = v
		}
	}
}
