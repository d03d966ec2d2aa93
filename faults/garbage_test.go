package faults

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestGarbage_SeededRandomBytes(t *testing.T) {
	a, b := newFake(), newFake()
	playOn(t, "[{garbage: {bytes: 32}}]", a)
	playOn(t, "[{garbage: {bytes: 32}}]", b)
	require.Equal(t, []string{"raw 32"}, a.Events(), "the host never sees the request")
	require.Equal(t, a.raw, b.raw, "same seed and rule: same bytes")
}

func TestGarbage_BadLengthAnnouncesMoreThanFollows(t *testing.T) {
	x := newFake()
	playOn(t, "[process, {garbage: {bytes: 10, mode: bad_length}}]", x)
	require.Equal(t, 110, int(binary.BigEndian.Uint16(x.raw[0])))
	require.Len(t, x.raw[0], 12)
}

func TestGarbage_Checks(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {garbage: {mode: nice}}]", "")[0], "want random or bad_length")
}

func TestGarbage_DefaultsToSixteenBytesThatDependOnTheSeed(t *testing.T) {
	a := newFake()
	playOn(t, "[garbage]", a)
	require.Len(t, a.raw[0], 16)
	var rule Rule
	require.NoError(t, yaml.Unmarshal([]byte("id: r\ndo: [garbage]"), &rule))
	f, err := Compile([]Rule{rule}, &Env{Seed: 2})
	require.NoError(t, err)
	b := newFake()
	f.Serve(t.Context(), b)
	require.NotEqual(t, a.raw[0], b.raw[0], "another seed: other bytes")
}

func TestGarbage_NegativeBytesAreRefused(t *testing.T) {
	require.Contains(t, checkPipeline(t, "[process, {garbage: {bytes: -1}}]", "")[0], "garbage.bytes must not be negative")
}
