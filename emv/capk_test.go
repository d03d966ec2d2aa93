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
