package scenarios

import (
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func TestControlLoader_SetsTheBackOffice(t *testing.T) {
	a, err := acquirer.New()
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	data, err := CatalogSource("first-settlement-fee-anomaly-control")
	require.NoError(t, err)
	setup, err := ControlLoader(a, HostOptions{})("PUT /scenario", data)
	require.NoError(t, err)
	require.NotNil(t, setup.BackOffice, "the scenario's contracts and cut-over")
	require.NoError(t, a.Apply(setup))
	now := time.Now()
	d := a.Engine().Decide(&wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: wire.PCPurchase, PAN: "6200000000000005",
		Amount: 10000, HasAmount: true, STAN: "000001", TID: "POSIM001", MID: "POSIM0000000001"}, now)
	require.Equal(t, "00", d.Response.ResponseCode)
	a.Engine().Advance(now.Add(48 * time.Hour))
	lines := a.Engine().Lines()
	require.Len(t, lines, 1, "the business day closed at the scenario's cut-over")
	require.Equal(t, "0.60% cap 20.00", lines[0].Rule, "with the scenario's contract")
	_, err = ControlLoader(a, HostOptions{})("PUT /scenario", []byte("name: x\ntitle: {en: X}\nprofiles: [cup]\nsteps:\n  - sale: {amount: \"1.00\"}\n"))
	require.ErrorContains(t, err, "does not support profile iso87")
}

func TestNewHost_ServesTheScenarioAsWritten(t *testing.T) {
	s, err := FromCatalog("header-mismatch-after-upgrade")
	require.NoError(t, err)
	_, err = NewHost(s, HostOptions{})
	require.ErrorContains(t, err, "does not support profile iso87")
	h, err := NewHost(s, HostOptions{Profile: "cup", Epoch: Epoch})
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	require.Equal(t, Epoch, h.Now().Truncate(time.Hour))
	h.Advance(24 * time.Hour)
	require.Equal(t, Epoch.Add(24*time.Hour), h.Now().Truncate(time.Hour))
}
