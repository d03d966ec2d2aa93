package terminal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/emv"
	"github.com/posim/posim/wire"
)

// Card responses: what a scenario step makes the emulated chip card do,
// overriding its behaviour for one transaction (Request.CardResponse).
const (
	// CardAAC: the card refuses at the second GENERATE AC, whatever the
	// issuer said.
	CardAAC = "aac"
	// CardRemoveEarly: the cardholder pulls the card out before the
	// second GENERATE AC.
	CardRemoveEarly = "remove_early"
	// CardOfflineDecline: the card refuses at the first GENERATE AC.
	CardOfflineDecline = "offline_decline"
)

// CardResponses lists the card responses a step may ask for.
func CardResponses() []string { return []string{CardAAC, CardRemoveEarly, CardOfflineDecline} }

// ChipResult is what the chip did in one transaction. Cryptograms are not
// secret (they travel in clear in DE55) and are shown in hex.
type ChipResult struct {
	// Interface is contact or contactless; fallback when the chip card was
	// swiped instead.
	Interface string `json:"interface"`
	ATC       int    `json:"atc,omitempty"`
	// ARQC is the first GENERATE AC's cryptogram; FirstAC names what the
	// card returned (ARQC, or AAC when it declined offline).
	ARQC    string `json:"arqc,omitempty"`
	FirstAC string `json:"first_ac,omitempty"`
	// ARQCVerified: the issuer answered with authentication data (91),
	// which it sends only for an ARQC it verified. ARPCVerified: that data
	// is the issuer's for this card and this ARQC.
	ARQCVerified bool `json:"arqc_verified"`
	ARPCVerified bool `json:"arpc_verified"`
	// SecondAC is the second GENERATE AC's result: TC (accepted) or AAC
	// (refused); empty when there was none (offline decline, card removed,
	// no approval).
	SecondAC string `json:"second_ac,omitempty"`
	// TC is the transaction certificate kept for the TC upload.
	TC string `json:"tc,omitempty"`
	// Failure says why the chip refused an approved transaction.
	Failure string `json:"failure,omitempty"`
	// Scripts is how many issuer scripts (71, 72) the host sent, and
	// ScriptResult their processing result as the card reports it
	// (DF31: 2x successful, 1x failed, 0x not performed).
	Scripts      int    `json:"scripts,omitempty"`
	ScriptResult string `json:"script_result,omitempty"`
	// ScriptAdvice: the script result advice (0620) was acknowledged.
	ScriptAdvice bool `json:"script_advice,omitempty"`
}

// chipSession is one chip transaction in flight: the card, its keys and
// the data of its first GENERATE AC.
type chipSession struct {
	card     cards.Card
	response string // Request.CardResponse
	mk       []byte
	sk       []byte
	data     emv.List
	arqc     []byte
	res      *ChipResult
	// scriptID is the identifier (9F18, hex) of the issuer's first
	// script, zeros when it named none: what DF31 reports.
	scriptID string
	// tcData is the chip data with the TC, once the card accepted.
	tcData []byte
}

// readChip reads a chip card for a purchase: the entry mode (05x contact,
// 07x contactless, 80x a fallback swipe), the sequence number, whether
// the cardholder must enter a PIN. It returns nil for a card without a
// chip or one swiped in fallback.
func readChip(c cards.Card, r Request, amount int64) (s *chipSession, entry string, pin bool) {
	if c.Chip == nil {
		return nil, "02", true
	}
	if r.Fallback {
		return nil, "80", true
	}
	pin = c.Chip.Behaviour == cards.ChipOnlinePIN
	entry = "05"
	if c.Chip.Contactless {
		entry = "07"
		pin = pin || amount > c.Chip.Limit()
	}
	return &chipSession{card: c, response: r.CardResponse, res: &ChipResult{Interface: map[string]string{"05": "contact", "07": "contactless"}[entry]}}, entry, pin
}

// firstGenerateAC runs the card's first GENERATE AC for req: the ATC moves
// on (and is saved with the state), the card computes its cryptogram and
// DE55 carries the request's chip data. It reports whether the card
// declined offline (AAC): then nothing goes online.
func (t *Terminal) firstGenerateAC(s *chipSession, req *wire.Txn) (offline bool, err error) {
	c := s.card
	if t.state.ATC == nil {
		t.state.ATC = map[string]int{}
	}
	key := c.PAN + "-" + c.Chip.PSN
	t.state.ATC[key]++
	atc := t.state.ATC[key]
	t.state.ChipSeq++
	s.res.ATC = atc
	s.mk, err = emv.ICCMasterKey(c.Chip.IMK(), c.PAN, c.Chip.PSN)
	if err != nil {
		return false, err
	}
	now := t.now()
	// a deterministic unpredictable number: the terminal, the card and
	// its counter (no randomness a run cannot replay)
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d|%d", req.TID, c.PAN, atc, t.state.ChipSeq)))
	txnType := []byte{0x00}
	if req.Op == wire.OpPreAuth {
		txnType = []byte{0x03}
	}
	cvm := []byte{0x1F, 0x03, 0x02} // no CVM performed, successful
	if len(req.PINBlock) > 0 {
		cvm = []byte{0x02, 0x00, 0x00} // enciphered PIN verified online
	}
	aid, _ := hex.DecodeString("A000000333010101") // UnionPay debit
	var numErr error
	num := func(digits string, size int) []byte {
		b, err := emv.Numeric(digits, size)
		if err != nil && numErr == nil {
			numErr = err
		}
		return b
	}
	l := emv.List{}.
		Set(emv.TagCryptogram, make([]byte, 8)).
		Set(emv.TagCID, []byte{emv.CIDARQC}).
		Set(emv.TagIAD, []byte{0x07, 0x01, c.Chip.CryptogramVersion(), 0x03, 0xA0, 0x00, 0x00, 0x01}).
		Set(emv.TagUN, h[:4]).
		Set(emv.TagATC, []byte{byte(atc >> 8), byte(atc)}).
		Set(emv.TagTVR, make([]byte, 5)).
		Set(emv.TagDate, num(now.Format("060102"), 3)).
		Set(emv.TagType, txnType).
		Set(emv.TagAmount, num(strconv.FormatInt(req.Amount, 10), 6)).
		Set(emv.TagCurrency, num(t.cfg.Currency, 2)).
		Set(emv.TagAIP, []byte{0x7C, 0x00}).
		Set(emv.TagCountry, num(t.cfg.Country, 2)).
		Set(emv.TagAmountOther, make([]byte, 6)).
		Set(emv.TagCapabilities, []byte{0xE0, 0xE1, 0xC8}).
		Set(emv.TagCVMResults, cvm).
		Set(emv.TagTermType, []byte{0x22}).
		Set(emv.TagIFDSerial, []byte(fmt.Sprintf("%-8.8s", req.TID))).
		Set(emv.TagAID, aid).
		Set(emv.TagAppVersion, []byte{0x00, 0x30}).
		Set(emv.TagSeqCounter, num(strconv.Itoa(t.state.ChipSeq%100_000_000), 4))
	if numErr != nil {
		return false, numErr
	}
	ac, sk, err := emv.ApplicationCryptogram(s.mk, l)
	if err != nil {
		return false, err
	}
	s.sk, s.arqc = sk, ac
	l = l.Set(emv.TagCryptogram, ac)
	s.res.ARQC = strings.ToUpper(hex.EncodeToString(ac))
	if c.Chip.Behaviour == cards.ChipOfflineDecline || s.response == CardOfflineDecline {
		s.res.FirstAC, s.res.ARQC = "AAC", ""
		return true, t.save()
	}
	s.res.FirstAC = "ARQC"
	s.data = l
	req.ICC = l.Bytes()
	req.CardSeq = "0" + c.Chip.PSN
	return false, t.save()
}

// errChip is wrapped by every refusal of an approved transaction by the
// chip or the terminal's chip kernel.
var errChip = errors.New("chip refused the approved transaction")

// secondGenerateAC completes an approval at the card: the issuer
// authentication data is checked (ARPC), issuer scripts are run, and the
// card gives its final cryptogram. An error means the approval must be
// reversed (reason 06).
func (s *chipSession) secondGenerateAC(resp *wire.Txn) error {
	resData, _ := emv.Parse(resp.ICC)
	auth, authenticated := resData.Get(emv.TagIssuerAuth)
	if authenticated {
		s.res.ARQCVerified = true
		s.res.ARPCVerified = emv.VerifyIssuerAuth(s.sk, s.arqc, auth)
	}
	s.scriptID = "00000000"
	for _, tlv := range resData {
		if tlv.Tag == emv.TagScript1 || tlv.Tag == emv.TagScript2 {
			s.res.Scripts++
			if inner, err := emv.Parse(tlv.Value); err == nil && s.res.Scripts == 1 {
				if id, ok := inner.Get(emv.TagScriptID); ok && len(id) == 4 {
					s.scriptID = strings.ToUpper(hex.EncodeToString(id))
				}
			}
		}
	}
	if s.res.Scripts > 0 {
		// the result nibble of DF31 (EMV 9F5B): 2 successful, 1 failed,
		// 0 not performed
		s.res.ScriptResult = "20"
		if !s.res.ARPCVerified {
			s.res.ScriptResult = "00" // not performed: the issuer is not authenticated
		}
	}
	if s.response == CardRemoveEarly {
		s.res.Failure = "card removed before the second GENERATE AC"
		return fmt.Errorf("%w: %s", errChip, s.res.Failure)
	}
	if authenticated && !s.res.ARPCVerified {
		// issuer authentication failed: TVR byte 5 bit 7; this card,
		// like most, then refuses
		s.res.SecondAC = "AAC"
		s.res.Failure = "issuer authentication failed (the ARPC does not verify)"
		return fmt.Errorf("%w: %s", errChip, s.res.Failure)
	}
	// an approval without 91: issuer authentication is simply not
	// performed (EMV Book 3 10.9) and the card decides; posim's cards
	// accept, as cards whose issuer does not require it do
	cid := emv.CIDTC
	if s.card.Chip.Behaviour == cards.ChipAACAfterApproval || s.response == CardAAC {
		cid = emv.CIDAAC
	}
	ac, err := emv.SecondCryptogram(s.sk, s.data, resp.ResponseCode)
	if err != nil {
		return err
	}
	s.res.SecondAC = emv.CIDName(cid)
	if cid == emv.CIDAAC {
		s.res.Failure = "the card refused the issuer's approval (AAC at the second GENERATE AC)"
		return fmt.Errorf("%w: %s", errChip, s.res.Failure)
	}
	s.res.TC = strings.ToUpper(hex.EncodeToString(ac))
	s.tcData = s.data.Set(emv.TagCryptogram, ac).Set(emv.TagCID, []byte{cid}).Set(emv.TagARC, []byte(resp.ResponseCode)).Bytes()
	return nil
}

// scriptAdvice reports the issuer scripts' result (DF31) to the host
// after an approval that carried them (0620); an advice without an answer
// is logged, not repeated.
func (t *Terminal) scriptAdvice(ctx context.Context, s *chipSession, req, resp *wire.Txn) {
	if s == nil || s.res.Scripts == 0 || s.res.ScriptResult == "" {
		return
	}
	result, _ := hex.DecodeString(s.res.ScriptResult + s.scriptID) // result, then the script identifier (9F18)
	icc := emv.List{}.
		Set(emv.TagScriptResult, result).
		Set(emv.TagTVR, make([]byte, 5)).
		Set(emv.TagATC, []byte{byte(s.res.ATC >> 8), byte(s.res.ATC)})
	if tc, err := hex.DecodeString(s.res.TC); err == nil && len(tc) == 8 {
		icc = icc.Set(emv.TagCryptogram, tc)
	}
	adv := t.base(wire.OpScriptAdvice)
	t.stamp(adv)
	adv.PAN, adv.Amount, adv.HasAmount, adv.Currency = req.PAN, req.Amount, true, t.cfg.Currency
	adv.EntryMode, adv.CardSeq, adv.ICC, adv.RRN, adv.AuthCode = req.EntryMode, req.CardSeq, icc.Bytes(), resp.RRN, resp.AuthCode
	adv.Original = &wire.Original{MTI: req.MTI, STAN: req.STAN, TransmissionTime: req.TransmissionTime}
	adv.OrigRef = &wire.OrigRef{Batch: req.Batch, STAN: req.STAN, Date: t.now().Format("0102")}
	err := t.prepare(adv)
	var ar *wire.Txn
	if err == nil {
		ar, err = t.send(ctx, adv)
	}
	switch {
	case err != nil:
		t.log.Warn("issuer script advice not answered", "stan", adv.STAN, "err", err)
	case ar.ResponseCode != "00":
		t.log.Warn("issuer script advice declined", "stan", adv.STAN, "rc", ar.ResponseCode)
	default:
		s.res.ScriptAdvice = true
	}
	_ = t.save()
}

// logTC keeps the chip data of an accepted transaction in its log entry
// for the TC upload.
func (s *chipSession) logTC(e *LogEntry, req *wire.Txn) {
	if s == nil || s.tcData == nil {
		return
	}
	e.ICC, e.CardSeq, e.Entry = strings.ToUpper(hex.EncodeToString(s.tcData)), req.CardSeq, req.EntryMode
}

// uploadTCs sends the certificates of settled chip transactions (TC
// upload), one message each; those not answered stay pending for the
// next settlement.
func (t *Terminal) uploadTCs(ctx context.Context, sr *SettlementResult) {
	var left []LogEntry
	for i, e := range t.state.TCPending {
		icc, err := hex.DecodeString(e.ICC)
		if err != nil {
			continue // a damaged entry: nothing to upload
		}
		up := t.base(wire.OpTCUpload)
		t.stamp(up)
		up.PAN, up.Amount, up.HasAmount, up.Currency = e.PAN, e.Amount, true, t.cfg.Currency
		up.EntryMode, up.CardSeq, up.ICC, up.RRN, up.AuthCode = e.Entry, e.CardSeq, icc, e.RRN, e.AuthCode
		up.Original = &wire.Original{MTI: e.MTI, STAN: e.STAN, TransmissionTime: e.DE7}
		up.OrigRef = &wire.OrigRef{Batch: fmt.Sprintf("%06d", e.Batch), STAN: e.STAN, Date: e.Time.Format("0102")}
		err = t.prepare(up)
		if err == nil {
			var resp *wire.Txn
			resp, err = t.send(ctx, up)
			if err == nil && resp.ResponseCode != "00" {
				err = fmt.Errorf("TC upload of STAN %s answered %s", e.STAN, resp.ResponseCode)
			}
		}
		if err != nil {
			t.log.Warn("TC upload failed; kept for the next settlement", "stan", e.STAN, "err", err)
			left = append(left, t.state.TCPending[i:]...)
			break
		}
		sr.TCUploaded++
	}
	t.state.TCPending = left
	sr.TCPending = len(left)
	_ = t.save()
}

// reversalICC is the chip data a reversal of the transaction carries, as
// CUP terminals send it: the TVR (issuer authentication failed when the
// ARPC did not verify), the IFD serial, the issuer application data, the
// ATC and, when scripts came, their result (DF31).
func (s *chipSession) reversalICC() []byte {
	tvr := make([]byte, 5)
	if s.res.ARQCVerified && !s.res.ARPCVerified {
		tvr[4] = 0x40 // byte 5 bit 7: issuer authentication failed
	}
	l := emv.List{{Tag: emv.TagTVR, Value: tvr}}
	for _, tag := range []uint32{emv.TagIFDSerial, emv.TagIAD, emv.TagATC} {
		if v, ok := s.data.Get(tag); ok {
			l = append(l, emv.TLV{Tag: tag, Value: v})
		}
	}
	if s.res.ScriptResult != "" {
		v, _ := hex.DecodeString(s.res.ScriptResult + s.scriptID)
		l = append(l, emv.TLV{Tag: emv.TagScriptResult, Value: v})
	}
	return l.Bytes()
}

// DownloadResult is what a download brought: the CA public keys (RID and
// index) and the applications (AID) whose parameters arrived, the terminal
// parameters by name and how many blacklisted cards.
type DownloadResult struct {
	CAPKs     []string          `json:"capks"`
	AIDs      []string          `json:"aids"`
	Params    map[string]string `json:"params"`
	Blacklist int               `json:"blacklist"`
}

// paramNames name the terminal parameters posim's host sends (acquirer
// downloads.go), by tag.
var paramNames = map[uint32]string{0xDF8101: "merchant_name", 0xDF8102: "timeout_seconds", 0xDF8103: "reversal_retries"}

// Download fetches from the host (cup) the chip CA public keys and
// application parameters (0820 372 lists the keys, 0800 370 fetches each,
// 0800 371 ends; then 382, 380 and 381 for the parameters), the terminal
// parameters (0820 362 reports the terminal's, 0800 360 fetches them, 361
// ends) and the blacklist (0800 390, asked again while more follow, then
// 391), and keeps them in the state. Each CA key's checksum must verify.
func (t *Terminal) Download(ctx context.Context) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(wire.OpDownload))
	if !t.keyed() {
		return res, res.finish(Refused, "", fmt.Errorf("%w: chip downloads are a cup exchange; %s has none", ErrInvalidRequest, t.cfg.Profile.Name()))
	}
	if err := t.ensureSignedOn(ctx, res); err != nil {
		return res, err
	}
	if err := t.connect(ctx); err != nil {
		return res, res.finish(Refused, "", err)
	}
	if err := t.download(ctx, res); err != nil {
		return res, err
	}
	return res, res.finish(Approved, "00", nil)
}

// download runs the exchanges of Download on the open connection.
func (t *Terminal) download(ctx context.Context, res *Result) error {
	dr := &DownloadResult{CAPKs: []string{}, AIDs: []string{}, Params: map[string]string{}}
	res.Download = dr
	ask := func(op wire.Op, code string, de62 []byte) (emv.List, error) {
		req := t.base(op)
		t.stamp(req)
		req.NetworkCode, req.Keys, req.Batch = code, de62, t.batch()
		if err := t.prepare(req); err != nil {
			return nil, res.finish(Refused, "", err)
		}
		resp, err := t.send(ctx, req)
		if err != nil {
			return nil, res.finish(NoResponse, "", fmt.Errorf("download %s: %w", code, err))
		}
		if resp.ResponseCode != "00" {
			return nil, res.finish(Declined, resp.ResponseCode, nil)
		}
		if len(resp.Keys) == 0 || resp.Keys[0] != '1' {
			return nil, nil
		}
		l, err := emv.Parse(resp.Keys[1:])
		if err != nil {
			return nil, res.finish(InvalidResponse, resp.ResponseCode, fmt.Errorf("%w: download %s: DE62: %v", ErrInvalidResponse, code, err))
		}
		return l, nil
	}
	list, err := ask(wire.OpStatusUpload, "372", nil)
	if err != nil {
		return err
	}
	var capks []string
	for i, tlv := range list {
		if tlv.Tag != emv.TagRID || i+1 >= len(list) || list[i+1].Tag != emv.TagCAPKIndex {
			continue
		}
		got, err := ask(wire.OpDownload, "370", emv.List{tlv, list[i+1]}.Bytes())
		if err != nil {
			return err
		}
		if got == nil {
			continue
		}
		k, err := emv.ParseCAPK(got.Bytes())
		if err != nil {
			return res.finish(InvalidResponse, "00", fmt.Errorf("%w: %v", ErrInvalidResponse, err))
		}
		capks = append(capks, strings.ToUpper(hex.EncodeToString(k.TLV)))
		dr.CAPKs = append(dr.CAPKs, strings.ToUpper(k.Name()))
	}
	if _, err := ask(wire.OpDownload, "371", nil); err != nil {
		return err
	}
	apps, err := ask(wire.OpStatusUpload, "382", nil)
	if err != nil {
		return err
	}
	var params []string
	for _, tlv := range apps {
		if tlv.Tag != emv.TagRID {
			continue
		}
		got, err := ask(wire.OpDownload, "380", emv.List{tlv}.Bytes())
		if err != nil {
			return err
		}
		if got == nil {
			continue
		}
		params = append(params, strings.ToUpper(hex.EncodeToString(got.Bytes())))
		dr.AIDs = append(dr.AIDs, strings.ToUpper(hex.EncodeToString(tlv.Value)))
	}
	if _, err := ask(wire.OpDownload, "381", nil); err != nil {
		return err
	}
	t.state.CAPKs, t.state.ChipParams = capks, params
	if err := t.downloadTerminalData(ask, dr); err != nil {
		return err
	}
	return t.save()
}

// downloadTerminalData fetches the terminal parameters and the blacklist
// with ask (see download) into dr and the state.
func (t *Terminal) downloadTerminalData(ask func(op wire.Op, code string, de62 []byte) (emv.List, error), dr *DownloadResult) error {
	if _, err := ask(wire.OpStatusUpload, "362", nil); err != nil {
		return err
	}
	params, err := ask(wire.OpDownload, "360", nil)
	if err != nil {
		return err
	}
	for _, p := range params {
		if name, ok := paramNames[p.Tag]; ok {
			dr.Params[name] = string(p.Value)
		}
	}
	if _, err := ask(wire.OpDownload, "361", nil); err != nil {
		return err
	}
	var cards []string
	for range 1000 { // a host that always says more follow cannot hold the terminal
		got, err := ask(wire.OpDownload, "390", []byte(strconv.Itoa(len(cards))))
		if err != nil {
			return err
		}
		if len(got) == 0 {
			break
		}
		for _, c := range got {
			cards = append(cards, string(c.Value))
		}
	}
	if _, err := ask(wire.OpDownload, "391", nil); err != nil {
		return err
	}
	dr.Blacklist = len(cards)
	t.state.Params, t.state.Blacklist = dr.Params, cards
	return nil
}
