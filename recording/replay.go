package recording

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moov-io/iso8583/field"
	"github.com/posim/posim/wire"
)

// Match keys: what a live request must share with a recorded one for the
// recorded answer to be given.
const (
	KeyMTI            = "mti"
	KeyProcessingCode = "processing_code"
	KeyAmount         = "amount"
	KeyCard           = "card"
	KeyTID            = "tid"
	KeyMID            = "mid"
	KeySTAN           = "stan"
)

// DefaultKeys are the match keys by default: MTI, processing code, amount
// and card.
var DefaultKeys = []string{KeyMTI, KeyProcessingCode, KeyAmount, KeyCard}

// AllKeys lists every match key.
var AllKeys = []string{KeyMTI, KeyProcessingCode, KeyAmount, KeyCard, KeyTID, KeyMID, KeySTAN}

// Fallbacks for a request no recorded one matches.
const (
	// FallbackAcquirer lets posim's acquirer decide as usual.
	FallbackAcquirer = "acquirer"
)

// Pair is a recorded request with the host's answer (nil: it never
// answered).
type Pair struct {
	Request, Response *Entry
}

// Pairs pairs each recorded request with its answer on the same connection
// (same message class, STAN and terminal), in recorded order.
func Pairs(entries []Entry) []Pair {
	var out []Pair
	open := map[string]int{} // pairing key → index in out
	key := func(e *Entry) string {
		class := e.MTI
		if len(class) == 4 {
			class = class[:2]
		}
		return e.Conn + "|" + class + "|" + e.Field(11) + "|" + strings.TrimSpace(e.Field(41))
	}
	for i := range entries {
		e := &entries[i]
		k := key(e)
		switch e.Dir {
		case Request:
			open[k] = len(out)
			out = append(out, Pair{Request: e})
		case Response:
			if j, ok := open[k]; ok {
				out[j].Response = e
				delete(open, k)
			}
		}
	}
	return out
}

// Replayer answers requests like a recorded host. It is safe for
// concurrent use once built.
type Replayer struct {
	profile  wire.Profile
	framer   wire.Framer
	keys     []string
	fallback string
	byKey    map[string][]Pair
	next     chan map[string]int // the next pair per key, guarded by the channel
}

// NewReplayer builds a replayer of entries, recorded with profile p and
// framing f, matching on keys (nil: DefaultKeys); a request no recorded one
// matches gets the fallback: FallbackAcquirer or a response code.
func NewReplayer(entries []Entry, p wire.Profile, f wire.Framer, keys []string, fallback string) (*Replayer, error) {
	if len(keys) == 0 {
		keys = DefaultKeys
	}
	for _, k := range keys {
		if !contains(AllKeys, k) {
			return nil, fmt.Errorf("match key %q: want %s", k, strings.Join(AllKeys, ", "))
		}
	}
	if fallback == "" {
		fallback = FallbackAcquirer
	}
	if fallback != FallbackAcquirer && !knownCode(fallback) {
		return nil, fmt.Errorf("fallback %q: want acquirer or a response code (96, 91 ...)", fallback)
	}
	r := &Replayer{profile: p, framer: f, keys: keys, fallback: fallback, byKey: map[string][]Pair{}, next: make(chan map[string]int, 1)}
	n := 0
	for _, pr := range Pairs(entries) {
		if pr.Response != nil {
			if _, _, err := pr.Response.Message(p, f); err != nil {
				return nil, fmt.Errorf("recorded answer does not read as %s: %w", p.Name(), err)
			}
		}
		k, err := r.recordedKey(pr.Request)
		if err != nil {
			return nil, fmt.Errorf("recorded request does not read as %s: %w", p.Name(), err)
		}
		r.byKey[k] = append(r.byKey[k], pr)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("the recording holds no request")
	}
	r.next <- map[string]int{}
	return r, nil
}

// Len is how many recorded requests the replayer knows.
func (r *Replayer) Len() int {
	n := 0
	for _, l := range r.byKey {
		n += len(l)
	}
	return n
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// recordedKey is the match key of a recorded request, decoded as a live
// one would be (its masked PAN keeps the first six and last four digits).
func (r *Replayer) recordedKey(e *Entry) (string, error) {
	m, _, err := e.Message(r.profile, r.framer)
	if err != nil {
		return "", err
	}
	t, err := r.profile.Decode(m)
	if err != nil {
		return "", fmt.Errorf("line %d: %w", e.Line, err)
	}
	return r.liveKey(t), nil
}

func (r *Replayer) liveKey(t *wire.Txn) string {
	parts := make([]string, len(r.keys))
	for i, k := range r.keys {
		switch k {
		case KeyMTI:
			parts[i] = t.MTI
		case KeyProcessingCode:
			parts[i] = t.ProcessingCode
		case KeyAmount:
			if t.HasAmount {
				parts[i] = strconv.FormatInt(t.Amount, 10)
			}
		case KeyCard:
			parts[i] = wire.MaskPAN(t.PAN)
		case KeyTID:
			parts[i] = strings.TrimSpace(t.TID)
		case KeyMID:
			parts[i] = strings.TrimSpace(t.MID)
		case KeySTAN:
			parts[i] = t.STAN
		}
	}
	// network management messages of one MTI differ by what they manage
	// (sign-on, echo, downloads)
	return string(t.Op) + "|" + t.NetworkCode + "|" + strings.Join(parts, "|")
}

// Answer returns the recorded host's answer to req, with the request's echo
// fields (STAN, terminal, merchant, times, card, amount) filled in, and why.
// A recorded request the host never answered gives a nil answer. ok is
// false when no recorded request matches and the fallback is the
// acquirer.
func (r *Replayer) Answer(req *wire.Txn) (resp *wire.Txn, why string, ok bool) {
	if req.Op == wire.OpSignOn || req.Op == wire.OpSignOff {
		// the working keys are the acquirer's: it checks the MACs with them
		return nil, "", false
	}
	k := r.liveKey(req)
	list := r.byKey[k]
	if len(list) == 0 {
		if r.fallback == FallbackAcquirer {
			return nil, "", false
		}
		return req.Response(r.fallback), "no recorded request matches (" + strings.Join(r.keys, ", ") + "): answered " + r.fallback, true
	}
	next := <-r.next
	i := min(next[k], len(list)-1)
	next[k]++
	r.next <- next
	pr := list[i]
	where := fmt.Sprintf("recording line %d", pr.Request.Line)
	if pr.Response == nil {
		return nil, "replayed: the recorded host never answered (" + where + ")", true
	}
	resp, err := r.build(pr.Response, req)
	if err != nil {
		return req.Response("96"), "replay failed: " + err.Error(), true
	}
	return resp, fmt.Sprintf("replayed the answer of recording line %d", pr.Response.Line), true
}

// build decodes a recorded answer and fills in the live request's echo
// fields; recorded fields the profile would not write are carried as
// extras.
func (r *Replayer) build(e *Entry, req *wire.Txn) (*wire.Txn, error) {
	m, _, err := e.Message(r.profile, r.framer)
	if err != nil {
		return nil, err
	}
	t, err := r.profile.Decode(m)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", e.Line, err)
	}
	t.STAN, t.TID, t.MID = req.STAN, req.TID, req.MID
	t.TransmissionTime, t.LocalTime, t.LocalDate = req.TransmissionTime, req.LocalTime, req.LocalDate
	if t.PAN != "" || req.PAN != "" {
		t.PAN = req.PAN
	}
	if t.HasAmount && req.HasAmount {
		t.Amount = req.Amount
	}
	t.MAC = nil
	if req.MAC != nil {
		t.MAC = make([]byte, 8) // signed by the acquirer's codec with its keys
	}
	enc, err := r.profile.Encode(t)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", e.Line, err)
	}
	have := enc.GetFields()
	for id, f := range m.GetFields() {
		if id < 2 || have[id] != nil || secret(id) {
			continue
		}
		if _, bin := f.(*field.Binary); bin {
			continue
		}
		v, err := f.String()
		if err != nil {
			continue
		}
		if t.Extra == nil {
			t.Extra = map[int]string{}
		}
		t.Extra[id] = v
	}
	return t, nil
}

// secret: card data and MACs are never replayed from a recording.
func secret(id int) bool {
	switch id {
	case 2, 35, 36, 45, 52, 64, 128:
		return true
	}
	return false
}

func knownCode(c string) bool {
	_, ok := wire.LookupCode(c)
	return ok
}
