package wire

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// The catalogue holds exactly the codes the README lists (docs/domain.md,
// "Response codes and action classes"), in code order: a code added or dropped on one side only is
// caught here.
func TestResponseCodes_AreTheDocumentedOnesInOrder(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	section := string(readme)[strings.Index(string(readme), "## Response codes"):]
	section = section[:strings.Index(section, "\n## ")+1]
	list := regexp.MustCompile(`(?s)\):\n(00, .*?)\.\n`).FindStringSubmatch(section)
	require.NotNil(t, list, "the README's list of codes")
	documented := strings.Split(strings.ReplaceAll(list[1], "\n", " "), ", ")
	for i := range documented {
		documented[i] = strings.TrimSpace(documented[i])
	}
	var got []string
	for _, c := range ResponseCodes {
		got = append(got, c.Code)
	}
	require.Equal(t, documented, got)
	require.True(t, slices.IsSorted(got), "ResponseCodes is in code order")
	for _, c := range ResponseCodes {
		back, ok := LookupCode(c.Code)
		require.True(t, ok, c.Code)
		require.Equal(t, c, back, "LookupCode returns the catalogue entry itself")
	}
}

// The classes a terminal acts on (terminal/receipt.go chooses what the
// merchant is told by them).
func TestResponseCodes_ActionClasses(t *testing.T) {
	byClass := map[Class][]string{}
	for _, c := range ResponseCodes {
		byClass[c.Class] = append(byClass[c.Class], c.Code)
	}
	require.Equal(t, []string{"00"}, byClass[ClassSuccess], "only 00 is a success")
	require.Equal(t, []string{"04", "33", "34", "38", "41", "43"}, byClass[ClassRetain], "the pick-up, lost and stolen codes: keep the card")
	require.Equal(t, []string{"06", "96"}, byClass[ClassSystem], "error and system malfunction are system faults")
	require.Equal(t, []string{"13", "55", "68", "90", "91", "92", "98"}, byClass[ClassRetry], "a wrong amount or PIN, a timeout, a switch or issuer away: try again")
	require.Equal(t, []string{"95"}, byClass[ClassReconcile], "95 is a settlement result, not an answer to act on")
	for class, codes := range byClass {
		switch class {
		case ClassSuccess, ClassRetry, ClassNoRetry, ClassRetain, ClassSystem, ClassReconcile:
		default:
			t.Errorf("codes %v have class %q, not one of A to E", codes, class)
		}
	}
	for _, c := range ResponseCodes {
		if strings.Contains(c.Meaning, "pick-up") {
			require.Equal(t, ClassRetain, c.Class, "%s %q says pick up the card", c.Code, c.Meaning)
		}
	}
}

func TestResponseCode_Approved(t *testing.T) {
	for _, c := range ResponseCodes {
		require.Equal(t, c.Code == "00", c.Approved(), c.Code)
		require.Equal(t, c.Class == ClassSuccess, c.Approved(), c.Code)
	}
	require.False(t, ResponseCode{}.Approved(), "an absent code is no approval")
	require.False(t, ResponseCode{Code: "0"}.Approved())
}

// What a terminal shows ("DECLINED 51: insufficient funds" /
// "交易失败 51：余额不足") is the meaning as it stands: one line, no padding,
// and in Chinese for the Chinese display.
func TestResponseCodes_MeaningsFitADisplayLine(t *testing.T) {
	for _, c := range ResponseCodes {
		for lang, text := range map[string]string{"en": c.Meaning, "zh": c.ZH} {
			require.NotEmpty(t, text, "%s %s", c.Code, lang)
			require.Equal(t, strings.TrimSpace(text), text, "%s %s: no leading or trailing blanks", c.Code, lang)
			for _, r := range text {
				require.False(t, unicode.IsControl(r), "%s %s: %q holds a control character", c.Code, lang, text)
			}
		}
		hasHan := strings.IndexFunc(c.ZH, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
		require.True(t, hasHan, "%s: the Chinese meaning %q is in Chinese", c.Code, c.ZH)
		require.Equal(t, strings.IndexFunc(c.Meaning, func(r rune) bool { return unicode.Is(unicode.Han, r) }), -1,
			"%s: the English meaning %q has no Chinese", c.Code, c.Meaning)
		require.Equal(t, c.Meaning, Meaning(c.Code, "en"))
		require.Equal(t, c.ZH, Meaning(c.Code, "zh"))
	}
}

// The codes after which a host wants the terminal to sign on again (77, 99,
// A0: README, --auto-signon) tell the merchant so in Chinese.
func TestResponseCodes_SignOnAgainSaysSo(t *testing.T) {
	for _, code := range []string{"77", "99", "A0"} {
		require.Contains(t, Meaning(code, "zh"), "重新签到", code)
	}
}

func TestMeaning_LanguagesAndUnknownCodes(t *testing.T) {
	require.Equal(t, "insufficient funds", Meaning("51", "en"))
	require.Equal(t, "insufficient funds", Meaning("51", ""), "anything but zh is English")
	require.Equal(t, "insufficient funds", Meaning("51", "fr"))
	require.Equal(t, "insufficient funds", Meaning("51", "ZH"), "the language is zh exactly")
	require.Equal(t, "余额不足", Meaning("51", "zh"))
	require.Equal(t, "MAC failed", Meaning("A0", "en"))

	for _, unknown := range []string{"", "ZZ", "02", "a0", "000", " 51"} {
		_, ok := LookupCode(unknown)
		require.False(t, ok, "%q", unknown)
		require.Equal(t, "unknown response code", Meaning(unknown, "en"), "%q", unknown)
		require.Equal(t, "未知应答码", Meaning(unknown, "zh"), "%q", unknown)
	}
}

// A terminal writes these reasons into DE39 of a reversal; a host that
// looks them up finds what they say.
func TestReversalReasons_AreCatalogued(t *testing.T) {
	for reason, want := range map[string]string{
		ReasonNoResponse: "switch got no issuer answer",
		ReasonIncomplete: "system malfunction",
		ReasonBadMAC:     "MAC failed",
		ReasonOther:      "error",
	} {
		c, ok := LookupCode(reason)
		require.True(t, ok, reason)
		require.Equal(t, want, c.Meaning, reason)
		require.False(t, c.Approved(), reason)
	}
}

// The control API and reports serve the catalogue as JSON under these
// names.
func TestResponseCode_JSON(t *testing.T) {
	data, err := json.Marshal(mustCode(t, "41"))
	require.NoError(t, err)
	require.JSONEq(t, `{"code":"41","meaning":"lost card","meaning_zh":"挂失卡","class":"D"}`, string(data))
	data, err = json.Marshal(mustCode(t, "95"))
	require.NoError(t, err)
	require.JSONEq(t, `{"code":"95","meaning":"reconcile error","meaning_zh":"核对差错","class":""}`, string(data))
}
