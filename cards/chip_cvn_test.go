package cards

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A chip's cryptogram version is PBOC (01) unless the card says 05 (the
// EMV common session key); anything else is refused, naming the choices.
func TestChip_CryptogramVersion(t *testing.T) {
	for cvn, want := range map[string]byte{"": 0x01, "01": 0x01, "05": 0x05} {
		c := Chip{CVN: cvn}
		require.NoError(t, c.Validate())
		require.Equal(t, want, c.CryptogramVersion(), "cvn %q", cvn)
	}
	c := Chip{CVN: "10"}
	require.ErrorContains(t, c.Validate(), "want 01 (PBOC, UnionPay) or 05")
	c = Chip{ATCWindow: -1}
	require.ErrorContains(t, c.Validate(), "atc_window")
}
