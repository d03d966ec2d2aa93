package acquirer

import (
	"bytes"
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A frame the host cannot read is journalled with its likely cause, not a
// bare "could not be unpacked": here an iso87 message whose bitmap is
// written in binary, as binary-bitmap peers send it.
func TestAcquirer_BadFrameSaysWhy(t *testing.T) {
	a := start(t)
	c, err := net.DialTimeout("tcp", a.Addr(), time.Second)
	require.NoError(t, err)
	defer c.Close()
	sale := ascii87("0200", map[int]string{3: "000000", 4: "000000000100", 11: "000001", 41: "POSIM001", 42: "POSIM0000000001"})
	bm, err := hex.DecodeString(string(sale[6:22]))
	require.NoError(t, err)
	body := append(append(append([]byte{}, sale[2:6]...), bm...), sale[22:]...)
	_, err = c.Write(append([]byte{byte(len(body) >> 8), byte(len(body))}, body...))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, e := range a.Journal().List(Filter{Kind: KindBadFrame}) {
			if bytes.Contains([]byte(e.Detail), []byte("bitmap")) {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
}
