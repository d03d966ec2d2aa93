package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/moov-io/iso8583"
	iso8583errors "github.com/moov-io/iso8583/errors"
	"github.com/stretchr/testify/require"
)

// signingCodec is a cup codec whose terminal T1 has the MAC key of the
// published CUP MAC example.
func signingCodec(t *testing.T) (*Codec, *MACKey) {
	t.Helper()
	k, err := NewMACKey(MACCUP, "2222222222222222")
	require.NoError(t, err)
	c := NewCodec(CUP)
	c.MACKeyFor = func(tid string) *MACKey {
		if tid == "T1" {
			return k
		}
		return nil
	}
	return c, k
}

func macedSale() *Txn {
	x := cupSaleTxn()
	x.TID, x.MAC = "T1", make([]byte, 8)
	return x
}

// The codec signs a message that carries DE64 with its terminal's key,
// over every byte before DE64 as written; the compiled path writes the
// same frame.
func TestCodec_SignsDE64(t *testing.T) {
	c, k := signingCodec(t)
	m, err := CUP.Encode(macedSale())
	require.NoError(t, err)
	frame, err := c.Frame(m)
	require.NoError(t, err)
	body := frame[2+11:]
	require.True(t, VerifyMAC(k, body))
	require.Equal(t, k.Sum(body[:len(body)-8]), body[len(body)-8:])

	compiled, err := c.FrameCompiled(CUP.(CompiledProfile), macedSale())
	require.NoError(t, err)
	require.Equal(t, frame, compiled)

	got, raw, err := c.ReadBody(bytes.NewReader(frame))
	require.NoError(t, err)
	require.Equal(t, body, raw, "ReadBody hands back the body as it arrived, for VerifyMAC")
	x, err := CUP.Decode(got)
	require.NoError(t, err)
	require.Equal(t, body[len(body)-8:], x.MAC)
}

// CorruptMAC (a fault) gets a MAC one bit off: it fails to verify, and
// differs from the right one in that bit only.
func TestCodec_CorruptMAC(t *testing.T) {
	c, k := signingCodec(t)
	good, err := c.FrameCompiled(CUP.(CompiledProfile), macedSale())
	require.NoError(t, err)
	bad := macedSale()
	bad.CorruptMAC = true
	for _, frame := range [][]byte{
		func() []byte {
			f, err := c.FrameCompiled(CUP.(CompiledProfile), bad)
			require.NoError(t, err)
			return f
		}(),
		func() []byte {
			m, err := CUP.Encode(bad)
			require.NoError(t, err)
			f, err := c.Frame(m)
			require.NoError(t, err)
			return f
		}(),
	} {
		require.Len(t, frame, len(good))
		require.False(t, VerifyMAC(k, frame[13:]))
		diff := 0
		for i := range frame {
			if frame[i] != good[i] {
				require.GreaterOrEqual(t, i, len(frame)-8, "only the MAC differs")
				diff++
				require.Equal(t, byte(0x01), frame[i]^good[i])
			}
		}
		require.Equal(t, 1, diff)
	}
}

// Without a key for the terminal, or without DE64, nothing is signed: the
// placeholder goes out as it is.
func TestCodec_UnsignedMessages(t *testing.T) {
	c, _ := signingCodec(t)
	other := macedSale()
	other.TID = "T2"
	m, err := CUP.Encode(other)
	require.NoError(t, err)
	frame, err := c.Frame(m)
	require.NoError(t, err)
	require.Equal(t, make([]byte, 8), frame[len(frame)-8:], "no key for T2: the zero placeholder")

	plain := NewCodec(CUP)
	m, err = CUP.Encode(macedSale())
	require.NoError(t, err)
	frame, err = plain.Frame(m)
	require.NoError(t, err)
	require.Equal(t, make([]byte, 8), frame[len(frame)-8:], "no MACKeyFor at all")

	noMAC := macedSale()
	noMAC.MAC = nil
	m, err = CUP.Encode(noMAC)
	require.NoError(t, err)
	frame, err = c.Frame(m)
	require.NoError(t, err)
	again, err := NewCodec(CUP).Frame(m)
	require.NoError(t, err)
	require.Equal(t, again, frame, "no DE64: the body is left alone")

	require.False(t, VerifyMAC(mustMACKey(t), []byte("short")), "a body shorter than a MAC")
}

func mustMACKey(t *testing.T) *MACKey {
	k, err := NewMACKey(MACCUP, "2222222222222222")
	require.NoError(t, err)
	return k
}

// A response is paired with its request by message class and STAN: a late
// 0210 does not pass for the 0410 of a reversal with the same STAN.
func TestRequestIDByClass(t *testing.T) {
	id := func(mti, stan string) (string, error) {
		m := iso8583.NewMessage(Spec87)
		if mti != "" {
			m.MTI(mti)
		}
		if stan != "" {
			require.NoError(t, m.Field(11, stan))
		}
		return RequestIDByClass{}.GenerateRequestID(m)
	}
	req, err := id("0200", "000042")
	require.NoError(t, err)
	resp, err := id("0210", "000042")
	require.NoError(t, err)
	require.Equal(t, req, resp)
	require.Equal(t, "02|000042", req)
	rev, err := id("0410", "000042")
	require.NoError(t, err)
	require.NotEqual(t, req, rev)
	other, err := id("0210", "000043")
	require.NoError(t, err)
	require.NotEqual(t, req, other)

	_, err = id("", "000042")
	require.ErrorContains(t, err, "without an MTI")
	_, err = id("0200", "")
	require.ErrorContains(t, err, "without a STAN")
}

// A frame that arrived whole but does not unpack: handed to OnBadMessage
// (with what could be read) and skipped, or returned as an UnpackError the
// connection library skips.
func TestCodec_BadBodies(t *testing.T) {
	body := []byte("0200ZZZZ")
	plain := NewCodec(ISO87)
	_, err := plain.UnpackBody(body)
	var ue *iso8583errors.UnpackError
	require.True(t, errors.As(err, &ue))
	require.Equal(t, body, ue.RawMessage)

	m, err := plain.Unpack(body)
	require.Error(t, err)
	mti, _ := m.GetMTI()
	require.Equal(t, "0200", mti, "Unpack returns what it read with the error")

	frame := frameOf(t, Binary2{}, string(body))
	_, _, err = plain.ReadBody(bytes.NewReader(frame))
	require.True(t, errors.As(err, &ue))

	var bad []BadMessage
	c := NewCodec(ISO87)
	c.OnBadMessage = func(b BadMessage) { bad = append(bad, b) }
	good := iso87Sale(t)
	got, raw, err := c.ReadBody(bytes.NewReader(append(bytes.Clone(frame), good...)))
	require.NoError(t, err)
	require.Nil(t, got)
	require.Nil(t, raw)
	require.Len(t, bad, 1)
	require.Equal(t, body, bad[0].Raw)
	require.Error(t, bad[0].Err)

	got, raw, err = c.ReadBody(bytes.NewReader([]byte{0, 0}))
	require.NoError(t, err)
	require.Nil(t, got, "a keep-alive is no message")
	require.Nil(t, raw)
}
