package acquirer

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/posim/posim/cards"

	"github.com/posim/posim/emv"
	"github.com/posim/posim/wire"
)

// chipAuth is the issuer's side of one chip request: the card's session
// key and ARQC, from which the answer's issuer authentication data (91)
// is made. A nil chipAuth answers without chip data.
type chipAuth struct {
	sk, arqc []byte
	// badARPC sends authentication data that does not verify (a fault).
	badARPC bool
	// scripts are issuer script templates (71, 72) to send with the answer.
	scripts emv.List
	l       *ledger // where the answer's ICC data is kept for duplicates
}

// chip checks a sale's or pre-authorisation's chip data as the card's
// issuer: a chip card read as a swipe (DE22 80x, or cup 60.5 = 2) is answered by the
// fallback policy; a contactless tap over the card's CVM limit without a
// PIN is declined 65 (soft decline: PIN required); an ARQC (9F26 in DE55) of a card the book knows as a
// chip card is recomputed from the card's keys and must match (else the
// arqc_failure policy). Chip data for a card the book does not know as a
// chip card is accepted unverified: that card's keys are its own
// issuer's, not posim's.
func (e *Engine) chip(req *wire.Txn, a *Account) (*chipAuth, string, string) {
	c := a.Card.Chip
	if c != nil && (strings.HasPrefix(req.EntryMode, "80") || req.Fallback) && e.pol.Fallback != "approve" {
		return nil, e.pol.Fallback, "fallback: chip card " + wire.MaskPAN(req.PAN) + " swiped (DE22 " + req.EntryMode + "), policy fallback " + e.pol.Fallback
	}
	if e.pol.Fallback != "approve" && e.chipSwiped(req) {
		// a chip card swiped, though the terminal did not say fallback:
		// its service code (2xx) tells
		return nil, e.pol.Fallback, "chip card " + wire.MaskPAN(req.PAN) + " swiped without its chip (service code 2xx, DE22 " + req.EntryMode + "), policy fallback " + e.pol.Fallback
	}
	if len(req.ICC) == 0 || c == nil {
		return nil, "", ""
	}
	if strings.HasPrefix(req.EntryMode, "07") && req.Amount > c.Limit() && len(req.PINBlock) == 0 {
		// Mastercard's soft decline, which UnionPay QuickPass hosts use
		// too: tap again with the PIN, or insert the card
		return nil, "65", "contactless " + wire.FormatAmount(req.Amount) + " over the CVM limit " + wire.FormatAmount(c.Limit()) + " without a PIN"
	}
	l, err := emv.Parse(req.ICC)
	if err != nil {
		return nil, "30", "format error: DE55: " + err.Error()
	}
	arqc, ok := l.Get(emv.TagCryptogram)
	if !ok {
		return nil, "", ""
	}
	mk, psn, err := cardKey(c, req)
	if err != nil {
		return nil, e.pol.ARQCFailure, "chip: " + err.Error()
	}
	want, sk, err := emv.ApplicationCryptogram(mk, l)
	if err != nil {
		return nil, "30", "format error: DE55: " + err.Error()
	}
	if string(want) != string(arqc) {
		return nil, e.pol.ARQCFailure, "ARQC does not verify under the card's key (PSN " + psn + "): policy arqc_failure " + e.pol.ARQCFailure
	}
	if why := e.checkATC(req.PAN+"/"+psn, l, c.Window()); why != "" {
		return nil, e.pol.ARQCFailure, why + ": policy arqc_failure " + e.pol.ARQCFailure
	}
	return &chipAuth{sk: sk, arqc: arqc, l: e.l}, "", ""
}

// checkATC is the issuer's replay check of a verified ARQC: its ATC (9F36)
// must be above the last one seen for the card, by at most window; else
// the cryptogram was replayed (a cloned card, a recorded message sent
// again) or the card is far out of step. An accepted ATC becomes the
// card's last. It returns why a counter is refused, or "".
func (e *Engine) checkATC(card string, l emv.List, window int) string {
	v, ok := l.Get(emv.TagATC)
	if !ok || len(v) != 2 {
		return ""
	}
	atc := int(v[0])<<8 | int(v[1])
	last, seen := e.l.atc[card]
	switch {
	case seen && atc <= last:
		return fmt.Sprintf("ATC %d not above %d, the last this card's issuer saw: a replayed cryptogram or a cloned card", atc, last)
	case seen && atc > last+window:
		return fmt.Sprintf("ATC %d more than %d ahead of %d, the last this card's issuer saw", atc, window, last)
	}
	e.l.atc[card] = atc
	return ""
}

// why is what the decision's explanation adds for a verified ARQC.
func (c *chipAuth) why() string {
	if c == nil {
		return ""
	}
	return "; ARQC verified"
}

// answer adds the issuer authentication data (ARPC method 1 with the
// response code) and any issuer scripts to the decision's response (and to
// the response kept for duplicates).
func (c *chipAuth) answer(d Decision) Decision {
	if c == nil || d.Response == nil {
		return d
	}
	arc := d.Response.ResponseCode
	data, err := emv.IssuerAuthData(c.sk, c.arqc, arc)
	if err != nil {
		return d
	}
	if c.badARPC {
		data[0] ^= 0xFF
	}
	icc := emv.List{{Tag: emv.TagIssuerAuth, Value: data}}
	icc = append(icc, c.scripts...)
	d.Response.ICC = icc.Bytes()
	if d.rec != nil {
		c.l.more(d.rec).icc = d.Response.ICC
	}
	return d
}

// tcUpload books a chip transaction's certificate (TC upload after
// settlement) on its sale: found by the terminal, the original's STAN
// (DE90 under iso87, 61.2 under cup), card and amount. For a card the book
// knows as a chip card the TC must be the card's (second GENERATE AC
// over the uploaded data with the response code 00); otherwise it is
// kept unverified. An upload for no known sale is answered 25.
func (e *Engine) tcUpload(req *wire.Txn) Decision {
	rec, stan := e.chipOriginal(req)
	if rec == nil {
		return Decision{Response: req.Response("25"), Why: "TC upload for STAN " + stan + ": no such approved chip transaction"}
	}
	l, err := emv.Parse(req.ICC)
	if err != nil {
		return Decision{Response: req.Response("30"), Why: "format error: DE55: " + err.Error()}
	}
	tc, _ := l.Get(emv.TagCryptogram)
	a := e.l.accounts[req.PAN]
	if a != nil && a.Card.Chip != nil {
		mk, _, err := cardKey(a.Card.Chip, req)
		var want []byte
		if err == nil {
			_, sk, aerr := emv.ApplicationCryptogram(mk, l)
			arc, ok := l.Get(emv.TagARC) // the response code the card was given
			switch {
			case aerr != nil:
				err = aerr
			case !ok:
				err = fmt.Errorf("no authorisation response code (8A) in the upload")
			default:
				want, err = emv.SecondCryptogram(sk, l, string(arc))
			}
		}
		if err != nil || string(want) != string(tc) {
			return Decision{Response: req.Response("00"), Why: "TC upload for STAN " + stan + ": the TC does not verify; not booked"}
		}
	}
	rec.TCUploaded = true
	return Decision{Response: req.Response("00"), Why: "TC upload for STAN " + stan + " booked"}
}

// chipOriginal finds the sale or pre-authorisation a TC upload or script
// advice is about: the terminal's original STAN (DE90 under iso87, 61.2
// under cup), the same card and amount, not declined.
func (e *Engine) chipOriginal(req *wire.Txn) (*booking, string) {
	stan := ""
	switch {
	case req.Original != nil && req.Original.STAN != "":
		stan = req.Original.STAN
	case req.OrigRef != nil:
		stan = req.OrigRef.STAN
	}
	for _, mti := range []string{"0200", "0100"} {
		for r := range e.l.originals(origKey(req.TID, mti, stan)) {
			if r.PAN() == req.PAN && r.Amount == req.Amount && r.Status() != StatusDeclined {
				return r, stan
			}
		}
	}
	return nil, stan
}

// scriptAdvice books the issuer script result a terminal reports (0620,
// DF31 as PBOC terminals send it, or EMV's 9F5B) on its transaction. An
// advice is acknowledged 00 whatever it says; one for no known
// transaction is journalled as such.
func (e *Engine) scriptAdvice(req *wire.Txn) Decision {
	l, err := emv.Parse(req.ICC)
	if err != nil {
		return Decision{Response: req.Response("30"), Why: "format error: DE55: " + err.Error()}
	}
	result, ok := l.Get(emv.TagScriptResult)
	if !ok || len(result) == 0 {
		result, ok = l.Get(emv.TagScriptResultsEMV)
	}
	if !ok || len(result) == 0 {
		return Decision{Response: req.Response("30"), Why: "format error: script advice without script results (DF31 or 9F5B)"}
	}
	res := strings.ToUpper(hex.EncodeToString(result))
	rec, stan := e.chipOriginal(req)
	if rec == nil {
		return Decision{Response: req.Response("00"), Why: "issuer script advice (DF31 " + res + ") for STAN " + stan + ": no such transaction; acknowledged"}
	}
	e.l.more(rec).script = res
	outcome := "processed"
	switch result[0] >> 4 {
	case 0:
		outcome = "not performed"
	case 1:
		outcome = "FAILED"
	}
	return Decision{Response: req.Response("00"), Why: "issuer script advice for STAN " + stan + ": " + outcome + " (DF31 " + res + ")"}
}

// Download answers (DE62): the first byte says whether anything follows
// ('1') or not ('0'), then BER-TLV.
const (
	downloadMore = '1'
	downloadNone = '0'
)

// chipDownload answers the cup chip key and parameter exchanges (docs/domain.md,
// "China UnionPay dialect"): a status upload (0820 372 / 382) is answered with the list of what
// the host has (each key's RID, index and expiry; each application's
// AID); a download request (0800 370 / 380) naming one of them (9F06 and
// 9F22, or 9F06) with that key or parameter set; an end (371 / 381) with
// nothing. The host holds UnionPay's published test CA key 02 and the
// debit application's parameters. Blacklists (390, 391) are empty.
func chipDownload(req, resp *wire.Txn) string {
	capk, _ := hex.DecodeString(emv.UnionPayTestCAPK02)
	aid, _ := hex.DecodeString(emv.UnionPayTestAIDParams)
	keyList, _ := emv.Parse(capk)
	aidList, _ := emv.Parse(aid)
	answer := func(tlv []byte) { resp.Keys = append([]byte{downloadMore}, tlv...) }
	asked, _ := emv.Parse(req.Keys)
	askedRID, _ := asked.Get(emv.TagRID)
	askedIdx, _ := asked.Get(emv.TagCAPKIndex)
	keyRID, _ := keyList.Get(emv.TagRID)
	keyIdx, _ := keyList.Get(emv.TagCAPKIndex)
	appAID, _ := aidList.Get(emv.TagRID)
	switch req.NetworkCode {
	case "372":
		exp, _ := keyList.Get(emv.TagCAPKExpiry)
		answer(emv.List{{Tag: emv.TagRID, Value: keyRID}, {Tag: emv.TagCAPKIndex, Value: keyIdx}, {Tag: emv.TagCAPKExpiry, Value: exp}}.Bytes())
		return "CA public key list: " + hex.EncodeToString(keyRID) + "/" + hex.EncodeToString(keyIdx)
	case "382":
		answer(emv.List{{Tag: emv.TagRID, Value: appAID}}.Bytes())
		return "chip parameter list: " + hex.EncodeToString(appAID)
	case "370":
		if string(askedRID) == string(keyRID) && string(askedIdx) == string(keyIdx) {
			answer(capk)
			return "CA public key " + hex.EncodeToString(keyRID) + "/" + hex.EncodeToString(keyIdx) + " sent"
		}
		resp.Keys = []byte{downloadNone}
		return "CA public key " + hex.EncodeToString(askedRID) + "/" + hex.EncodeToString(askedIdx) + ": none such"
	case "380":
		if string(askedRID) == string(appAID) {
			answer(aid)
			return "chip parameters of " + hex.EncodeToString(appAID) + " sent"
		}
		resp.Keys = []byte{downloadNone}
		return "chip parameters of " + hex.EncodeToString(askedRID) + ": none such"
	}
	return "nothing to send"
}

// cardKey is the master key of the chip card a request names: the card's
// number and the sequence number in DE23 (the book's when DE23 is absent).
func cardKey(c *cards.Chip, req *wire.Txn) (mk []byte, psn string, err error) {
	psn = c.PSN
	if len(req.CardSeq) >= 2 {
		psn = req.CardSeq[len(req.CardSeq)-2:]
	}
	mk, err = emv.ICCMasterKey(c.IMK(), req.PAN, psn)
	return mk, psn, err
}
