package wire

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
)

// A known answer for a master key sent under a transport key, from a
// published terminal SDK sample: the dspread QPOS Android demo
// (PaymentActivity.java) loads the master key as
// pos.setMasterKey("1A4D672DCA6CB3351FD1B02B237AF9AE", "08D7B4FB629D0885"),
// the test key 0123456789ABCDEFFEDCBA9876543210 encrypted under itself, with
// its check value. The check value of a second key is from the dspreader
// key injection docs (dspreader/dspreader.github.io,
// _keyinjectionapi/MKSK.md): "82E13665B4624DF5" for the key 1111...1.
func TestMasterKey_PublishedVectors(t *testing.T) {
	ones, err := hex.DecodeString("11111111111111111111111111111111")
	require.NoError(t, err)
	cv, err := CheckValue(ones)
	require.NoError(t, err)
	require.Equal(t, "82E13665", HexKey(cv), "dspreader MKSK docs")

	tests := []struct {
		source, tk, enc, check, clear string
	}{
		{"dspread QPOS demo setMasterKey", "0123456789ABCDEFFEDCBA9876543210",
			"1A4D672DCA6CB3351FD1B02B237AF9AE", "08D7B4FB", "0123456789ABCDEFFEDCBA9876543210"},
	}
	for _, tt := range tests {
		de62, err := hex.DecodeString(tt.enc + tt.check)
		require.NoError(t, err)
		got, err := OpenMasterKey(tt.tk, de62)
		require.NoError(t, err, tt.source)
		require.Equal(t, tt.clear, got, tt.source)
		wrapped, err := WrapMasterKey(tt.tk, tt.clear)
		require.NoError(t, err, tt.source)
		require.Equal(t, tt.enc+tt.check, HexKey(wrapped), "%s: posim's host sends what the sample loads", tt.source)
	}
}

// A wrong transport key or a damaged answer is a clear error naming the
// key, never a master key silently wrong.
func TestMasterKey_RefusesWhatDoesNotCheck(t *testing.T) {
	de62, err := WrapMasterKey("0123456789ABCDEFFEDCBA9876543210", "11111111111111111111111111111111")
	require.NoError(t, err)
	_, err = OpenMasterKey("FEDCBA98765432100123456789ABCDEF", de62)
	require.ErrorIs(t, err, ErrKeyCheck)
	require.ErrorContains(t, err, "terminal master key")
	_, err = OpenMasterKey("0123456789ABCDEFFEDCBA9876543210", de62[:10])
	require.ErrorContains(t, err, "DE62 is 10 bytes")
	_, err = WrapMasterKey("XYZ", "11111111111111111111111111111111")
	require.ErrorContains(t, err, "transport key")
}
