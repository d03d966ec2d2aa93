package emv

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// PBOC 2.0/3.0 (UnionPay, cryptogram version 01 in 9F10) known answers from
// published worked examples; each is recomputed here from its own inputs.
//
//   - "金融IC卡 ARQC和ARPC计算方法和实例", https://cnblogs.com/1024Planet/p/6256545.html
//     (copies at 553668.com/manong/959163.html and e-com-net.com): issuer
//     master key to card key, session key, ARQC and ARPC (response code 01).
//   - "PBOC联机交易中ARQC及ARPC的计算", https://www.shuzhiduo.com/A/l1dyep1Vde:
//     a card's GENERATE AC command and answer with its application key.
//   - "TC、ARQC、AAC及ARPC校验方式", https://blog.csdn.net/freud_lv/article/details/24518351:
//     card and session key for a 19-digit PAN.
//
// The session key is 3DES(MK)[000000000000 || ATC] || 3DES(MK)[000000000000
// || ATC xor FFFF], not the EMV common session key; the ARQC covers 9F02
// 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36 and the CVR of 9F10 (ISO 9797-1 MAC
// algorithm 3, padding 2); the ARPC is method 1 under the session key.
func TestPBOC_PublishedExamples(t *testing.T) {
	t.Run("cnblogs 1024Planet: IMK to ARPC", func(t *testing.T) {
		mk, err := ICCMasterKey(unhex(t, "F0C34A8124CEE0A91A0B034AA97D6EAC"), "6228000100001", "01")
		require.NoError(t, err)
		l := List{}.
			Set(TagAmount, unhex(t, "000000000001")).Set(TagAmountOther, unhex(t, "000000000000")).
			Set(TagCountry, unhex(t, "0156")).Set(TagTVR, unhex(t, "0080046000")).
			Set(TagCurrency, unhex(t, "0156")).Set(TagDate, unhex(t, "140701")).Set(TagType, unhex(t, "00")).
			Set(TagUN, unhex(t, "1E78EEBC")).Set(TagAIP, unhex(t, "7D00")).Set(TagATC, unhex(t, "0240")).
			Set(TagIAD, unhex(t, "07000103A04002010A010000001000D1F61152"))
		data, err := CryptogramData(l)
		require.NoError(t, err)
		require.Equal(t, "000000000001000000000000015600800460000156140701001E78EEBC7D00024003A04002", hexU(data), "the published ARQC input")
		arqc, sk, err := ApplicationCryptogram(mk, l)
		require.NoError(t, err)
		require.Equal(t, "5D016C91005E7CC2", hexU(arqc))
		auth, err := IssuerAuthData(sk, arqc, "01")
		require.NoError(t, err)
		require.Equal(t, "21415243527CE78F", hexU(auth[:8]), "the ARPC for response code 01")
	})
	t.Run("shuzhiduo: a card's GENERATE AC", func(t *testing.T) {
		mk := unhex(t, "0D2E3CB0BC1F9E03AED58F663A2F9679")
		sk, err := PBOCSessionKey(mk, 0x000E)
		require.NoError(t, err)
		require.Equal(t, "C3D3F062E9992B4E923D338D66193526", hexU(sk))
		l := List{}.
			Set(TagAmount, unhex(t, "000000001234")).Set(TagAmountOther, unhex(t, "000000000034")).
			Set(TagCountry, unhex(t, "0156")).Set(TagTVR, unhex(t, "D86004A800")).
			Set(TagCurrency, unhex(t, "0156")).Set(TagDate, unhex(t, "120516")).Set(TagType, unhex(t, "01")).
			Set(TagUN, unhex(t, "01010101")).Set(TagAIP, unhex(t, "7C00")).Set(TagATC, unhex(t, "000E")).
			Set(TagIAD, unhex(t, "07020103A4B904010A0100000000001BFC423C"))
		arqc, _, err := ApplicationCryptogram(mk, l)
		require.NoError(t, err)
		require.Equal(t, "F294D7022FA9B058", hexU(arqc), "the 9F26 of the card's answer")
	})
	t.Run("csdn freud_lv: 19-digit PAN", func(t *testing.T) {
		mk, err := ICCMasterKey(unhex(t, "C4D689158AD9FB9D23105B91CE046D0E"), "6210220110002707355", "01")
		require.NoError(t, err)
		want := unhex(t, "B8A15DA5F7043C317D9FD8F8DFE2BD75")
		for i := range mk {
			require.Equal(t, want[i]&0xFE, mk[i]&0xFE, "the card key, parity bits aside (byte %d)", i)
		}
		sk, err := PBOCSessionKey(mk, 0x03D3)
		require.NoError(t, err)
		require.Equal(t, "4A43440B2D932ACDC4E2776ED562EE43", hexU(sk))
	})
}

func hexU(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }
