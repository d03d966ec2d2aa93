package recording

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
	"github.com/posim/posim/cards"
	"github.com/posim/posim/wire"
)

// DefaultIgnore are the answer fields a host fills afresh on every run, so
// a difference in them is not reported: transmission time (7), the host's
// local time and date (12, 13: a cup sign-on answer carries the host's
// clock), settlement date (15), RRN (37), authorisation code (38), working
// keys (62) and MACs (64, 128).
var DefaultIgnore = []int{7, 12, 13, 15, 37, 38, 62, 64, 128}

// ResendConfig configures Resend.
type ResendConfig struct {
	// Target is the host's address.
	Target string
	// Profile and Framer are the recording's dialect and framing.
	Profile wire.Profile
	Framer  wire.Framer
	// Cards restores the card data of a masked recording: a masked PAN
	// whose first six and last four digits name exactly one card gets that
	// card's PAN, track and PIN back.
	Cards *cards.Book
	// Timeout is how long each answer is awaited.
	Timeout time.Duration
	// TMK and MACAlg open the working keys of a replayed sign-on (dialects
	// with working keys), with which later requests are signed again;
	// PINKey encrypts restored PINs where there are no working keys.
	TMK, MACAlg, PINKey string
	// Ignore are answer fields not compared (nil: DefaultIgnore).
	Ignore []int
}

// Difference is one field in which the answer differs from the recorded one.
type Difference struct {
	Field    int    `json:"field"`
	Name     string `json:"name"`
	Recorded string `json:"recorded"`
	Now      string `json:"now"`
}

// Outcome is what became of one recorded request.
type Outcome struct {
	Line int    `json:"line"`
	Conn string `json:"conn"`
	MTI  string `json:"mti"`
	STAN string `json:"stan"`
	// Recorded and Got summarise the recorded answer and the answer now
	// ("0210 00", or "no answer").
	Recorded    string       `json:"recorded"`
	Got         string       `json:"got"`
	Differences []Difference `json:"differences,omitempty"`
	// Notes say what was done to the request (card data restored, MAC
	// signed again) or what went wrong.
	Notes []string `json:"notes,omitempty"`
	Same  bool     `json:"same"`
}

// Report is the result of Resend.
type Report struct {
	Target   string    `json:"target"`
	Outcomes []Outcome `json:"outcomes"`
	Same     int       `json:"same"`
	Differ   int       `json:"differ"`
}

// Resend sends the recorded terminal side to a host, one connection per
// recorded connection, each request after the previous one's answer, and
// compares every answer with the recorded one.
func Resend(ctx context.Context, entries []Entry, cfg ResendConfig) (*Report, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Ignore == nil {
		cfg.Ignore = DefaultIgnore
	}
	if cfg.Cards == nil {
		cfg.Cards = cards.Builtin()
	}
	rep := &Report{Target: cfg.Target, Outcomes: []Outcome{}}
	byConn := map[string][]Pair{}
	var order []string
	for _, pr := range Pairs(entries) {
		if _, seen := byConn[pr.Request.Conn]; !seen {
			order = append(order, pr.Request.Conn)
		}
		byConn[pr.Request.Conn] = append(byConn[pr.Request.Conn], pr)
	}
	if len(order) == 0 {
		return nil, errors.New("the recording holds no request")
	}
	s := &session{cfg: cfg, inner: wire.InnerFramer(cfg.Framer)}
	if cfg.Profile.Capabilities().TPDU {
		s.prefix = 11
	}
	if cfg.PINKey != "" {
		k, err := wire.ParsePINKey(cfg.PINKey)
		if err != nil {
			return nil, fmt.Errorf("PIN key: %w", err)
		}
		s.pin = &k
	}
	for _, conn := range order {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if err := s.replayConn(ctx, byConn[conn], rep); err != nil {
			return rep, err
		}
	}
	for _, o := range rep.Outcomes {
		if o.Same {
			rep.Same++
		} else {
			rep.Differ++
		}
	}
	return rep, nil
}

// session is a replay's state across connections: the working keys of the
// last sign-on.
type session struct {
	cfg    ResendConfig
	inner  wire.Framer
	prefix int
	mac    *wire.MACKey
	pin    *wire.PINKey
}

func (s *session) replayConn(ctx context.Context, pairs []Pair, rep *Report) error {
	d := net.Dialer{Timeout: s.cfg.Timeout}
	c, err := d.DialContext(ctx, "tcp", s.cfg.Target)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", s.cfg.Target, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	r := bufio.NewReader(c)
	for i, pr := range pairs {
		o := Outcome{Line: pr.Request.Line, Conn: pr.Request.Conn, MTI: pr.Request.MTI, STAN: pr.Request.Field(11), Recorded: summary(pr.Response)}
		frame, req, err := s.request(pr.Request, &o)
		if err != nil {
			o.Notes = append(o.Notes, "not sent: "+err.Error())
			o.Got = "not sent"
			rep.Outcomes = append(rep.Outcomes, o)
			continue
		}
		if _, err := c.Write(frame); err != nil {
			return fmt.Errorf("sending line %d: %w", pr.Request.Line, err)
		}
		answer, err := s.answer(c, r, req, &o)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		s.compare(pr.Response, answer, &o)
		rep.Outcomes = append(rep.Outcomes, o)
		if err != nil && !errors.Is(err, errNoAnswer) {
			// the connection is gone: the rest of this one cannot be sent,
			// and the report says so
			for _, rest := range pairs[i+1:] {
				rep.Outcomes = append(rep.Outcomes, Outcome{Line: rest.Request.Line, Conn: rest.Request.Conn, MTI: rest.Request.MTI,
					STAN: rest.Request.Field(11), Recorded: summary(rest.Response), Got: "not sent",
					Notes: []string{"not sent: the connection to the host was lost"}})
			}
			return nil
		}
	}
	return nil
}

var errNoAnswer = errors.New("no answer")

// request rebuilds a recorded request for sending: card data restored in
// a masked recording, MAC signed again with the session's keys.
func (s *session) request(e *Entry, o *Outcome) ([]byte, *wire.Txn, error) {
	m, prefix, err := e.Message(s.cfg.Profile, s.cfg.Framer)
	if err != nil {
		return nil, nil, err
	}
	changed := false
	if !e.Clear {
		if changed, err = s.restore(m, o); err != nil {
			return nil, nil, err
		}
	}
	fields := m.GetFields()
	macID := 0
	if fields[128] != nil {
		macID = 128
	} else if fields[64] != nil {
		macID = 64
	}
	req, err := s.cfg.Profile.Decode(m)
	if err != nil {
		return nil, nil, fmt.Errorf("line %d: %w", e.Line, err)
	}
	if !changed && (macID == 0 || s.mac == nil) {
		raw, err := hexFrame(e)
		return raw, req, err
	}
	body, err := m.Pack()
	if err != nil {
		return nil, nil, err
	}
	if macID != 0 && s.mac != nil && s.cfg.Profile.Capabilities().WorkingKeys && len(body) >= 8 {
		copy(body[len(body)-8:], s.mac.Sum(body[:len(body)-8]))
		o.Notes = append(o.Notes, "MAC signed with the working key of this replay's sign-on")
	}
	frame, err := s.inner.AppendFrame(nil, append(slices.Clip(prefix), body...))
	return frame, req, err
}

// restore puts card data back into a request of a masked recording.
func (s *session) restore(m *iso8583.Message, o *Outcome) (bool, error) {
	masked, err := m.GetString(2)
	if err != nil || masked == "" {
		return false, nil
	}
	var found []cards.Card
	for _, c := range s.cfg.Cards.Cards {
		if len(c.PAN) == len(masked) && wire.MaskPAN(c.PAN) == wire.MaskPAN(masked) {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		o.Notes = append(o.Notes, fmt.Sprintf("card %s: %d cards in the card book match; sent masked", wire.MaskPAN(masked), len(found)))
		return false, nil
	}
	card := found[0]
	if err := m.Field(2, card.PAN); err != nil {
		return false, err
	}
	fields := m.GetFields()
	if fields[35] != nil {
		if err := m.Field(35, card.PAN+"="+card.Expiry+"1010000000000"); err != nil {
			return false, err
		}
	}
	if fields[52] != nil {
		if s.pin == nil {
			o.Notes = append(o.Notes, "PIN block sent masked: no PIN key")
		} else {
			block, err := s.pin.EncryptPIN(card.PINToEnter(), card.PAN)
			if err != nil {
				return false, err
			}
			if err := setBinaryOrHex(m, 52, block); err != nil {
				return false, err
			}
		}
	}
	o.Notes = append(o.Notes, "card data of "+card.Alias+" restored from the card book")
	return true, nil
}

// setBinaryOrHex sets a field that holds bytes: as they are where the
// spec holds that many bytes (cup's b64 DE52), in hex where it holds
// twice as many characters (iso87's).
func setBinaryOrHex(m *iso8583.Message, id int, b []byte) error {
	f := m.GetField(id)
	if _, bin := f.(*field.Binary); bin || (f.Spec() != nil && f.Spec().Length == len(b)) {
		return m.BinaryField(id, b)
	}
	return m.Field(id, strings.ToUpper(hex.EncodeToString(b)))
}

func hexFrame(e *Entry) ([]byte, error) {
	b, err := hex.DecodeString(e.Frame)
	if err != nil {
		return nil, fmt.Errorf("line %d: frame is not hex", e.Line)
	}
	return b, nil
}

// answer reads frames until the one that answers req, or the timeout.
func (s *session) answer(c net.Conn, r io.Reader, req *wire.Txn, o *Outcome) (*iso8583.Message, error) {
	deadline := time.Now().Add(s.cfg.Timeout)
	_ = c.SetReadDeadline(deadline)
	defer c.SetReadDeadline(time.Time{})
	for {
		body, err := s.inner.ReadFrame(r)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, errNoAnswer
			}
			o.Notes = append(o.Notes, "connection: "+err.Error())
			return nil, err
		}
		if len(body) < s.prefix || len(body) == 0 {
			continue
		}
		m := iso8583.NewMessage(s.cfg.Profile.Spec())
		if err := m.Unpack(body[s.prefix:]); err != nil {
			o.Notes = append(o.Notes, fmt.Sprintf("an answer that does not read: %v", err))
			continue
		}
		t, err := s.cfg.Profile.Decode(m)
		if err != nil || t.STAN != req.STAN || len(t.MTI) != 4 || len(req.MTI) != 4 || t.MTI[:2] != req.MTI[:2] {
			mti, _ := m.GetMTI()
			o.Notes = append(o.Notes, "another message arrived meanwhile: "+mti)
			continue
		}
		if req.Op == wire.OpSignOn && t.ResponseCode == "00" && s.cfg.Profile.Capabilities().WorkingKeys {
			s.openKeys(req, t, o)
		}
		return m, nil
	}
}

// openKeys takes the working keys of a replayed sign-on's answer.
func (s *session) openKeys(req, resp *wire.Txn, o *Outcome) {
	set := req.NetworkCode
	if set != wire.KeysSingle && set != wire.KeysDouble && set != wire.KeysTrack {
		set = wire.KeysDouble
	}
	wk, err := wire.OpenKeys(s.cfg.TMK, set, resp.Keys)
	if err != nil {
		o.Notes = append(o.Notes, "working keys not opened: "+err.Error())
		return
	}
	macHex := wire.HexKey(wk.MAC)
	if s.cfg.MACAlg == wire.MACX919 && len(macHex) == 16 {
		macHex += macHex
	}
	k, err := wire.NewMACKey(s.cfg.MACAlg, macHex)
	if err != nil {
		o.Notes = append(o.Notes, "MAC key: "+err.Error())
		return
	}
	pin, err := wire.ParsePINKey(wire.HexKey(wk.PIN))
	if err == nil {
		s.pin = &pin
	}
	s.mac = k
	o.Notes = append(o.Notes, "working keys of this sign-on opened: later requests are signed with them")
}

func summary(e *Entry) string {
	if e == nil {
		return "no answer"
	}
	return strings.TrimSpace(e.MTI + " " + e.Field(39))
}

// compare fills o with the differences between the recorded answer and
// the answer now.
func (s *session) compare(rec *Entry, now *iso8583.Message, o *Outcome) {
	switch {
	case now == nil && rec == nil:
		o.Got, o.Same = "no answer", true
		return
	case now == nil:
		o.Got = "no answer"
		return
	}
	mti, _ := now.GetMTI()
	rc, _ := now.GetString(39)
	o.Got = strings.TrimSpace(mti + " " + rc)
	if rec == nil {
		return
	}
	if mti != rec.MTI {
		o.Differences = append(o.Differences, Difference{Field: 0, Name: "MTI", Recorded: rec.MTI, Now: mti})
	}
	nowFields := map[int]string{}
	for id, f := range now.GetFields() {
		if id < 2 {
			continue
		}
		v, _ := f.String()
		if !rec.Clear {
			v = maskShown(id, v)
		}
		nowFields[id] = printable(v)
	}
	ids := map[int]bool{}
	for k := range rec.Fields {
		if id, err := strconv.Atoi(k); err == nil {
			ids[id] = true
		}
	}
	for id := range nowFields {
		ids[id] = true
	}
	sorted := make([]int, 0, len(ids))
	for id := range ids {
		if !slices.Contains(s.cfg.Ignore, id) {
			sorted = append(sorted, id)
		}
	}
	slices.Sort(sorted)
	for _, id := range sorted {
		was, had := rec.Fields[strconv.Itoa(id)]
		is, has := nowFields[id]
		if had == has && was == is {
			continue
		}
		if !had {
			was = "(absent)"
		}
		if !has {
			is = "(absent)"
		}
		// named by the spec: a field the answer now lacks has a name too
		name := ""
		if f, ok := now.GetSpec().Fields[id]; ok && f.Spec() != nil {
			name = f.Spec().Description
		}
		o.Differences = append(o.Differences, Difference{Field: id, Name: name, Recorded: was, Now: is})
	}
	o.Same = len(o.Differences) == 0
}
