package wire

import (
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden frames in testdata")

// TestCUP_GoldenFrames checks each cup message type byte for byte against
// testdata/cup/*.hex, both ways: encoding gives the golden frame, and the
// golden frame decodes to the same operation and fields.
func TestCUP_GoldenFrames(t *testing.T) {
	base := func(op Op) *Txn {
		return &Txn{Op: op, STAN: "000012", LocalTime: "101500", LocalDate: "0115", TID: "POSIM001", MID: "POSIM0000000001", Batch: "000001"}
	}
	card := func(t *Txn, amount int64) *Txn {
		t.PAN, t.Expiry, t.EntryMode, t.Currency, t.Amount, t.HasAmount = "6200000000000005", "3012", "021", "156", amount, true
		return t
	}
	cases := map[string]*Txn{
		"sale":    card(base(OpSale), 1234),
		"preauth": card(base(OpPreAuth), 50000),
		"completion": func() *Txn {
			x := card(base(OpCompletion), 48000)
			x.RRN, x.AuthCode = "601510000001", "123456"
			return x
		}(),
		"void":    func() *Txn { x := card(base(OpVoid), 1234); x.RRN = "601510000002"; return x }(),
		"refund":  func() *Txn { x := card(base(OpRefund), 500); x.RRN = "601510000002"; return x }(),
		"balance": func() *Txn { x := card(base(OpBalance), 0); x.HasAmount = false; return x }(),
		"signon":  func() *Txn { x := base(OpSignOn); x.NetworkCode = KeysSingle; return x }(),
		"echo":    base(OpEcho),
		"reversal": func() *Txn {
			o := card(base(OpSale), 1234)
			o.MTI, o.ProcessingCode, o.Condition = "0200", "000000", "00"
			return CUP.Reversal(o, ReasonNoResponse, "", mustTime(t))
		}(),
		"settle": func() *Txn {
			x := base(OpSettle)
			x.Totals = &Totals{DebitCount: 2, DebitAmount: 3000, CreditCount: 1, CreditAmount: 500}
			return x
		}(),
		"upload": func() *Txn {
			x := card(base(OpBatchUpload), 1234)
			x.Original = &Original{MTI: "0200", STAN: "000007"}
			return x
		}(),
	}
	codec := NewCodec(CUP)
	for name, txn := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := CUP.Encode(txn)
			require.NoError(t, err)
			frame, err := codec.Frame(m)
			require.NoError(t, err)
			path := filepath.Join("testdata", "cup", name+".hex")
			got := strings.ToUpper(hex.EncodeToString(frame))
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got+"\n"), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./wire -run Golden -update to create it")
			require.Equal(t, strings.TrimSpace(string(want)), got)

			raw, err := hex.DecodeString(strings.TrimSpace(string(want)))
			require.NoError(t, err)
			back, err := codec.Unpack(raw[13:]) // length, TPDU and header stripped
			require.NoError(t, err)
			dec, err := CUP.Decode(back)
			require.NoError(t, err)
			require.Equal(t, txn.Op, dec.Op)
			require.Equal(t, txn.STAN, dec.STAN)
			require.Equal(t, txn.Amount, dec.Amount)
		})
	}
}
