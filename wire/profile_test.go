package wire

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProfiles_Registry(t *testing.T) {
	names := ProfileNames()
	require.True(t, slices.IsSorted(names), "%v", names)
	require.Contains(t, names, "iso87")
	require.Contains(t, names, "cup")
	for _, name := range names {
		p, err := ProfileByName(name)
		require.NoError(t, err)
		require.Equal(t, name, p.Name())
		require.NotNil(t, p.Spec())
		require.NotNil(t, p.Framer())
	}
	_, err := ProfileByName("iso93")
	require.ErrorContains(t, err, `unknown profile "iso93" (known: `)
	require.ErrorContains(t, err, "cup")
	require.ErrorContains(t, err, "iso87")
	_, err = ProfileByName("")
	require.Error(t, err)
}

// A second profile of a name is a programming error caught at start-up.
func TestRegister_DuplicateNamePanics(t *testing.T) {
	require.PanicsWithValue(t, "wire: profile registered twice: iso87", func() { Register(ISO87) })
	require.PanicsWithValue(t, "wire: profile registered twice: cup", func() { Register(CUP) })

	p := namedProfile{Profile: ISO87, name: "test-dialect"}
	t.Cleanup(func() { delete(profiles, "test-dialect") })
	Register(p)
	got, err := ProfileByName("test-dialect")
	require.NoError(t, err)
	require.Equal(t, p, got)
	require.Contains(t, ProfileNames(), "test-dialect")
}

type namedProfile struct {
	Profile
	name string
}

func (p namedProfile) Name() string { return p.name }

// What each dialect asks of terminals and hosts (README: the rest of
// posim asks the capabilities, never the profile's name).
func TestProfiles_Capabilities(t *testing.T) {
	require.Equal(t, Capabilities{UploadBatch: 1}, ISO87.Capabilities())
	require.Equal(t, Capabilities{WorkingKeys: true, TPDU: true, VoidsInTotals: true, ForeignTotals: true, UploadBatch: 8, CompletionTolerance: 15}, CUP.Capabilities())
	for _, p := range []Profile{ISO87, CUP} {
		_, tpdu := p.Framer().(TPDUFramer)
		require.Equal(t, p.Capabilities().TPDU, tpdu, "%s: TPDU capability and framing agree", p.Name())
		cp, ok := p.(CompiledProfile)
		require.True(t, ok, "%s has a compiled spec", p.Name())
		require.NotNil(t, cp.Compiled())
		require.Equal(t, p.Name(), p.(interface{ String() string }).String())
	}
}
