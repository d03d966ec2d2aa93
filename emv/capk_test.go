package emv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// UnionPayTestCAPK02 carries its published checksum: the SHA-1 computed
// here must agree with it.
func TestParseCAPK_PublishedUnionPayTestKey(t *testing.T) {
	k, err := ParseCAPK(unhex(t, UnionPayTestCAPK02))
	require.NoError(t, err)
	require.Equal(t, "a000000333/02", k.Name())
	require.Len(t, k.Modulus, 144)
	require.Equal(t, []byte{3}, k.Exponent)

	bad := strings.Replace(UnionPayTestCAPK02, "A3767ABD", "A3767ABE", 1)
	_, err = ParseCAPK(unhex(t, bad))
	require.ErrorContains(t, err, "checksum")
	_, err = ParseCAPK(unhex(t, "9F0605A000000333"))
	require.ErrorContains(t, err, "9F22")
}

// visaTestCAPK92 is Visa's test CA public key A000000003 index 92 (1408
// bits, exponent 3) as public POS terminal configurations on GitHub list
// it, found with posim's code search: several unrelated copies carry the
// same checksum 429C954A..., with the expiry written in four bytes of BCD
// here, in eight ASCII characters elsewhere, and a proprietary tag BF01
// after the checksum.
const visaTestCAPK92 = "9f0605a0000000039f220192df050420991231df0281b0996af56f569187d09293c14810450ed8ee3357397b18a2458efaa92da3b6df6514ec060195318fd43be9b8f0cc669e3f844057cbddf8bda191bb64473bc8dc9a730db8f6b4ede3924186ffd9b8c7735789c23a36ba0b8af65372eb57ea5d89e7d14e9c7b6b557460f10885da16ac923f15af3758f0f03ebd3c5c2c949cba306db44e6a2c076c5f67e281d7ef56785dc4d75945e491f01918800a9e2dc66f60080566ce0daf8d17ead46ad8e30a247c9fdf040103df0314429c954a3859cef91295f663c963e582ed6eb253bf010131"

func TestParseCAPK_PublishedVisaTestKey(t *testing.T) {
	data := unhex(t, visaTestCAPK92)
	k, err := ParseCAPK(data)
	require.NoError(t, err, "the SHA-1 over RID, index, modulus and exponent is the published one")
	require.Equal(t, "a000000003/92", k.Name())
	require.Len(t, k.Modulus, 176, "1408 bits, behind an 81 length")
	require.Equal(t, []byte{3}, k.Exponent)
	require.Equal(t, "429C954A3859CEF91295F663C963E582ED6EB253", upper(k.Checksum))
	require.Equal(t, data, k.TLV)
	data[0] = 0
	require.Equal(t, byte(0x9F), k.TLV[0], "the key keeps its own copy")

	t.Run("the checksum does not cover the expiry", func(t *testing.T) {
		other := strings.Replace(visaTestCAPK92, "df050420991231", "df05083230323431323331", 1)
		_, err := ParseCAPK(unhex(t, other))
		require.NoError(t, err)
	})
	t.Run("the checksum covers the exponent", func(t *testing.T) {
		other := strings.Replace(visaTestCAPK92, "df040103", "df0403010001", 1)
		_, err := ParseCAPK(unhex(t, other))
		require.ErrorContains(t, err, "CA public key A000000003/92: checksum 429C954A")
	})
}

func TestParseCAPK_Refuses(t *testing.T) {
	k, err := ParseCAPK(unhex(t, UnionPayTestCAPK02))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		drop uint32
		msg  string
	}{
		{"a key without its RID", TagRID, "without tag 9F06"},
		{"a key without its index", TagCAPKIndex, "without tag 9F22"},
		{"a key without its modulus", TagCAPKModulus, "without tag DF02"},
		{"a key without its exponent", TagCAPKExp, "without tag DF04"},
		{"a key without its checksum", TagCAPKHash, "does not match"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			l, err := Parse(k.TLV)
			require.NoError(t, err)
			_, err = ParseCAPK(without(l, tc.drop).Bytes())
			require.ErrorContains(t, err, tc.msg)
		})
	}
	t.Run("refuses an empty index", func(t *testing.T) {
		l, err := Parse(k.TLV)
		require.NoError(t, err)
		_, err = ParseCAPK(l.Set(TagCAPKIndex, []byte{}).Bytes())
		require.ErrorContains(t, err, "without tag 9F22")
	})
	t.Run("refuses malformed TLV", func(t *testing.T) {
		_, err := ParseCAPK(k.TLV[:len(k.TLV)-1])
		require.ErrorIs(t, err, ErrTLV)
	})
}

// The UnionPay debit application's parameters read as their doc comment
// says: AID, version 0020, floor limit 500.00, default DDOL 9F3704.
func TestUnionPayTestAIDParams(t *testing.T) {
	data := unhex(t, UnionPayTestAIDParams)
	l, err := Parse(data)
	require.NoError(t, err)
	require.Equal(t, data, l.Bytes())
	for tag, want := range map[uint32]string{
		TagRID: "A000000333010101",
		0x9F08: "0020",
		0x9F1B: "0000C350", // 50000 minor units
		0xDF14: "9F3704",
		0xDF18: "01",
	} {
		v, ok := l.Get(tag)
		require.True(t, ok, "%X", tag)
		require.Equal(t, want, upper(v), "%X", tag)
	}
}
