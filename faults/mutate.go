package faults

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/posim/posim/emv"
	"github.com/posim/posim/wire"
	"github.com/posim/posim/yamlx"
	"go.yaml.in/yaml/v3"
)

// MutateSpec is mutate: corrupt fields the way broken hosts and links do.
// After process (or respond) it corrupts the answer; before process, the
// request on its way to the host (the host then handles what it received).
type MutateSpec []string

// ActMutate is the name of the mutate primitive: corrupt fields.
const ActMutate = "mutate"

func init() {
	register(primitiveDef{name: ActMutate, doc: "corrupt fields of the answer (after process) or of the request (before): stan, rrn, tid, mti, amount, drop_de39, mac, arpc, drop_de55, script",
		new: func() primitive { return &MutateSpec{} },
		scalar: func(p primitive, n *yaml.Node) error {
			if n.Kind == yaml.ScalarNode {
				*p.(*MutateSpec) = MutateSpec{n.Value}
				return nil
			}
			return yamlx.Decode(n, (*[]string)(p.(*MutateSpec)))
		}})
}

var mutations = []string{"stan", "rrn", "tid", "mti", "amount", "drop_de39", "mac", "arpc", "drop_de55", "script"}

// requestMutations are what a request may have corrupted on its way.
var requestMutations = []string{"stan", "tid", "mti", "amount", "mac", "drop_de55"}

func (s *MutateSpec) check(c *checker) {
	if len(*s) == 0 {
		c.errorf("mutate needs at least one field (known: %s)", strings.Join(mutations, ", "))
	}
	for _, m := range *s {
		switch {
		case !slices.Contains(mutations, m):
			c.errorf("mutate: unknown field %q (known: %s)", m, strings.Join(mutations, ", "))
		case !c.processed && !c.answered && !slices.Contains(requestMutations, m):
			c.errorf("rule %q: mutate %s before process would corrupt the request, which has no %s; put it after process (known for requests: %s)",
				c.rule.ID, m, m, strings.Join(requestMutations, ", "))
		}
	}
}

func (s *MutateSpec) run(p *pipe) bool {
	if !p.processed && p.resp == nil {
		mutate(p.x.Request(), *s, p.r.rng)
		p.fault("request " + s.String())
		return true
	}
	mutate(p.response(""), *s, p.r.rng)
	p.fault(s.String())
	return true
}

func (s *MutateSpec) String() string { return "mutate(" + strings.Join(*s, ",") + ")" }

// mutate corrupts fields of a message.
func mutate(t *wire.Txn, fields []string, rng *rand.Rand) {
	for _, m := range fields {
		switch m {
		case "stan":
			n := 0
			fmt.Sscanf(t.STAN, "%d", &n)
			t.STAN = fmt.Sprintf("%06d", (n+1)%1000000)
		case "rrn":
			t.RRN = fmt.Sprintf("%012d", rng.Int64N(1e12))
		case "tid":
			t.TID = "XXXXXXXX"
		case "mti":
			if len(t.MTI) == 4 {
				t.MTI = t.MTI[:2] + "3" + t.MTI[3:]
			}
		case "amount":
			t.Amount++
			t.HasAmount = true
		case "drop_de39":
			t.ResponseCode = ""
		case "mac":
			// the codec signs messages: ask it to flip a bit afterwards
			t.CorruptMAC = true
			if len(t.MAC) == 0 {
				t.MAC = make([]byte, 8)
			}
		case "arpc":
			// the issuer authentication data no longer verifies at the card
			t.ICC = mutateICC(t.ICC, func(l emv.List) emv.List {
				if v, ok := l.Get(emv.TagIssuerAuth); ok && len(v) > 0 {
					bad := append([]byte{}, v...)
					bad[0] ^= 0xFF
					l = l.Set(emv.TagIssuerAuth, bad)
				}
				return l
			})
		case "drop_de55":
			t.ICC = nil
		case "script":
			// an issuer script template 2 (run after the second GENERATE
			// AC) with one command: PUT DATA of the consecutive offline
			// transaction limit (9F58), as issuers send to reset counters
			t.ICC = mutateICC(t.ICC, func(l emv.List) emv.List {
				return append(l, emv.TLV{Tag: emv.TagScript2, Value: issuerScript})
			})
		}
	}
}

// issuerScript is the value of a 72 template: script identifier 9F18
// 00000001, then one command (86): 04 DA 9F 58 04 (PUT DATA 9F58, secure
// messaging) with the value 03 and a 3-byte MAC placeholder.
var issuerScript = []byte{0x9F, 0x18, 0x04, 0x00, 0x00, 0x00, 0x01, 0x86, 0x09, 0x04, 0xDA, 0x9F, 0x58, 0x04, 0x03, 0x00, 0x00, 0x00}

// mutateICC rewrites chip data; chip data that does not parse is left as
// it is.
func mutateICC(icc []byte, f func(emv.List) emv.List) []byte {
	l, err := emv.Parse(icc)
	if err != nil {
		return icc
	}
	return f(l).Bytes()
}
