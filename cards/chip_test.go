package cards

import (
	"testing"

	"github.com/posim/posim/emv"
	"github.com/stretchr/testify/require"
)

func TestChip_Validate(t *testing.T) {
	t.Run("fills the PSN and the behaviour", func(t *testing.T) {
		c := Chip{}
		require.NoError(t, c.Validate())
		require.Equal(t, Chip{PSN: "01", Behaviour: ChipApprove}, c)
	})
	for _, b := range ChipBehaviours() {
		t.Run("takes "+b, func(t *testing.T) {
			c := Chip{PSN: "07", Behaviour: b}
			require.NoError(t, c.Validate())
			require.Equal(t, Chip{PSN: "07", Behaviour: b}, c)
		})
	}
	for _, psn := range []string{"1", "001", "a1", " 1"} {
		t.Run("refuses PSN "+psn, func(t *testing.T) {
			c := Chip{PSN: psn}
			require.EqualError(t, c.Validate(), `chip psn "`+psn+`": want two digits, like 01`)
		})
	}
	t.Run("refuses an unknown behaviour, naming the known ones", func(t *testing.T) {
		c := Chip{Behaviour: "Approve"}
		require.EqualError(t, c.Validate(), `chip behaviour "Approve": want one of approve, offline-decline, aac-after-approval, online-pin`)
	})
}

func TestChip_Limit(t *testing.T) {
	require.Equal(t, int64(100_000), (&Chip{}).Limit(), "1000.00, the QuickPass limit")
	require.Equal(t, int64(30_000), (&Chip{CVMLimit: 30_000}).Limit())
	require.Equal(t, int64(DefaultCVMLimit), (&Chip{CVMLimit: -1}).Limit(), "a negative limit is no limit of its own")
}

// The chip's issuer master key is the key of pyemv's published
// known-answer tests (knovichikhin/pyemv, tests/test_ac_hsm.py): its check
// value there is 08D7.
func TestChip_IMKIsThePublishedTestKey(t *testing.T) {
	c := &Chip{}
	k := c.IMK()
	require.Len(t, k, 16)
	kcv, err := emv.CheckValue(k, 2)
	require.NoError(t, err)
	require.Equal(t, []byte{0x08, 0xD7}, kcv)
	k[0] ^= 0xFF
	require.Equal(t, byte(0x01), c.IMK()[0], "each call a fresh copy: a caller cannot change the key")
}
