package scenarios

import (
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/faults"
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

// The acquirer and the proxy each refuse the rules only the other can
// play, at the rule's line.
func TestHostAndProxy_RefuseTheOthersRules(t *testing.T) {
	fee := parse(t, "rules:\n  - {id: r, when: {op: sale}, do: [process, {fee_anomaly: {kind: late_fee}}]}\n"+oneSale)
	toHost := parse(t, "rules:\n  - {id: r, when: {op: sale}, do: [{duplicate: {to: host}}, process]}\n"+oneSale)
	name := t.Name() + ".yaml"

	_, err := ProxyRules(fee, faults.Env{})
	require.EqualError(t, err, name+`:4: rule "r": fee_anomaly marks posim's own books; a proxy keeps none`)
	f, err := ProxyRules(toHost, faults.Env{})
	require.NoError(t, err)
	require.NoError(t, f.Close())

	const needsHost = `:4: rule "r": duplicate to host needs a host behind posim (posim proxy); against posim's acquirer set the terminal's retransmit instead`
	_, err = NewHost(toHost, HostOptions{})
	require.EqualError(t, err, name+needsHost)
	a, err := acquirer.New()
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	src := "name: t\ntitle: {en: T}\nrules:\n  - {id: r, when: {op: sale}, do: [{duplicate: {to: host}}, process]}\n" + oneSale
	_, err = ControlLoader(a, HostOptions{})("PUT /scenario", []byte(src))
	require.EqualError(t, err, "PUT /scenario"+needsHost)
}

// A proxy's rules name the scenario's own cards.
func TestProxyRules_KnowTheScenariosCards(t *testing.T) {
	s := parse(t, "setup:\n  cards: [{alias: mine, pan: \"6200000000009006\"}]\nrules:\n  - {id: r, when: {card: mine}, do: [{respond: {de39: \"05\"}}]}\n"+oneSale)
	f, err := ProxyRules(s, faults.Env{})
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	sale := func(pan string) faults.Exchange {
		return requestOnly{txn: &wire.Txn{MTI: "0200", Op: wire.OpSale, PAN: pan, STAN: "000001", TID: "POSIM001"}}
	}
	require.NotNil(t, f.Pick(sale("6200000000009006")), "the rule matches the card called mine")
	require.Nil(t, f.Pick(sale("6200000000000005")), "and no other")
}

// requestOnly is an exchange of which a rule's trigger reads the request.
type requestOnly struct {
	faults.Exchange
	txn *wire.Txn
}

func (r requestOnly) Request() *wire.Txn { return r.txn }
func (r requestOnly) ConnID() string     { return "c1" }
