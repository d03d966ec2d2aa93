package acquirer

import (
	"sort"
	"strconv"

	"github.com/posim/posim/cards"
	"github.com/posim/posim/emv"
	"github.com/posim/posim/wire"
)

// Network management codes of the downloads a cup terminal runs (60.3),
// besides the chip ones (370-372, 380-382: chipDownload).
const (
	NetMasterKey      = "350" // master key download
	NetParams         = "360" // terminal parameter download
	NetParamsEnd      = "361" // its end
	NetParamsStatus   = "362" // parameter status upload (0820)
	NetBlacklist      = "390" // blacklist download
	NetBlacklistEnd   = "391" // its end
	RCNotSupported    = "40"  // requested function not supported
	blacklistPerAnswr = 8     // card numbers an answer carries before "more follows"
)

// Terminal parameters as posim's host delivers them in DE62 (after the
// continuation byte): BER-TLV under private tags, posim's own layout
// [assumed: the CUP POS specification's parameter table is not public].
const (
	TagParamMerchantName uint32 = 0xDF8101 // the merchant's name (receipts)
	TagParamTimeout      uint32 = 0xDF8102 // receive timeout, seconds
	TagParamRetries      uint32 = 0xDF8103 // reversal resend count
	TagBlacklistCard     uint32 = 0xDF8110 // one blacklisted card number
)

// Defaults of the terminal parameters posim's host hands out.
const (
	ParamTimeoutSeconds  = 60
	ParamReversalRetries = 3
)

// downloads answers the download and status exchanges a cup terminal runs
// after sign-on: chip CA keys and parameters (chipDownload), terminal
// parameters (360/361, status 362), the blacklist (390/391: the book's cards
// whose issuer wants them taken: lost, stolen, pick-up, fraud), the master
// key (350: the terminal master key under the transport key, refused 40
// when the host has none).
// An unknown code is refused 40 too, never answered 00 with nothing in it.
// It returns what the journal says and the answer's response code.
func (e *Engine) downloads(req, resp *wire.Txn) (why, rc string) {
	answer := func(tlv []byte) { resp.Keys = append([]byte{downloadMore}, tlv...) }
	switch req.NetworkCode {
	case "370", "371", "372", "380", "381", "382":
		return chipDownload(req, resp), "00"
	case NetParams:
		answer(e.terminalParams(req))
		return "terminal parameters sent", "00"
	case NetParamsEnd, NetParamsStatus, NetBlacklistEnd:
		resp.Keys = []byte{downloadNone}
		return "acknowledged", "00"
	case NetBlacklist:
		list := e.blacklist()
		if len(list) == 0 {
			resp.Keys = []byte{downloadNone}
			return "blacklist: empty", "00"
		}
		from := 0
		if n, err := strconv.Atoi(string(req.Keys)); err == nil && n > 0 {
			from = n // a terminal asking for the next part names how many it has
		}
		var tlv emv.List
		for _, pan := range list[min(from, len(list)):min(from+blacklistPerAnswr, len(list))] {
			tlv = append(tlv, emv.TLV{Tag: TagBlacklistCard, Value: []byte(pan)})
		}
		if len(tlv) == 0 {
			resp.Keys = []byte{downloadNone}
			return "blacklist: nothing more", "00"
		}
		answer(tlv.Bytes())
		return "blacklist: " + strconv.Itoa(len(tlv)) + " of " + strconv.Itoa(len(list)) + " cards sent", "00"
	case NetMasterKey:
		if e.pol.TransportKey == "" || e.tmk == "" {
			return "master key download: posim's host holds no transport key (--transport-key)", RCNotSupported
		}
		de62, err := wire.WrapMasterKey(e.pol.TransportKey, e.tmk)
		if err != nil {
			return "master key download: " + err.Error(), "96"
		}
		resp.Keys = de62
		return "master key sent under the transport key", "00"
	}
	return "download " + req.NetworkCode + ": not a download posim's host serves", RCNotSupported
}

// terminalParams are the parameters of the requesting terminal.
func (e *Engine) terminalParams(req *wire.Txn) []byte {
	name := "POSIM TEST MERCHANT"
	if m, ok := e.l.merchants[req.MID]; ok && m.Name != "" {
		name = m.Name
	}
	return emv.List{
		{Tag: TagParamMerchantName, Value: []byte(name)},
		{Tag: TagParamTimeout, Value: []byte(strconv.Itoa(ParamTimeoutSeconds))},
		{Tag: TagParamRetries, Value: []byte(strconv.Itoa(ParamReversalRetries))},
	}.Bytes()
}

// blacklist lists the card numbers a terminal should refuse, sorted.
func (e *Engine) blacklist() []string {
	var out []string
	for pan, a := range e.l.accounts {
		switch a.Card.Status {
		case cards.StatusLost, cards.StatusStolen, cards.StatusPickUp, cards.StatusFraud:
			out = append(out, pan)
		}
	}
	sort.Strings(out)
	return out
}
