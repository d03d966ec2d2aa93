package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// hostSideSteps act on posim's own acquirer: a scenario with them cannot be
// driven through a host in another process.
var hostSideSteps = []string{"host_down", "host_up", "retrieval", "chargeback", "representment", "second_chargeback", "settlement_account"}

// Every catalogue scenario served by `posim acquirer --scenario` and played
// by `posim run --target` (posim's terminal against that host): its
// terminal steps and expectations pass as under `posim run`. A scenario's
// dialects play at once: the runs wait on their timers, not on the CPU, and
// -parallel bounds the scenarios, not the runs.
func TestCLI_CatalogThroughAcquirerScenario(t *testing.T) {
	t.Parallel()
	cat, err := scenarios.Catalog()
	require.NoError(t, err)
	for _, s := range cat {
		t.Run(s.Name, func(t *testing.T) {
			for _, st := range s.Steps {
				if slices.Contains(hostSideSteps, st.Op) || (st.Op == "restart" && st.Target == "acquirer") {
					t.Skipf("step %s acts on posim's own acquirer: covered by posim run and posimtest", st.Op)
				}
				if n := st.Args.RRNOf; n > 0 && s.Steps[n-1].Expect != nil && s.Steps[n-1].Expect.Outcome != "approved" {
					t.Skipf("rrn_of %d names a transaction whose answer the terminal never saw: only posim's own acquirer can tell its RRN", n)
				}
			}
			if s.Setup.Acquirer.RefundOverBalance != "" && s.Setup.BackOffice != nil {
				t.Skip("a refund's answer depends on the merchant's balance after the host's cut-overs, which follow posim's own acquirer's clock, not the terminal's advance steps")
			}
			if s.Setup.BackOffice != nil && slices.ContainsFunc(s.Steps, func(st scenarios.Step) bool { return st.Op == "tip" || st.Op == "adjust" }) {
				t.Skip("whether a tip or adjustment is refused depends on the host's cut-overs, which follow posim's own acquirer's clock, not the terminal's advance steps")
			}
			t.Parallel()
			var profiles, addrs []string
			for _, profile := range wire.ProfileNames() {
				if s.Supports(profile) {
					profiles = append(profiles, profile)
					addrs = append(addrs, serveScenario(t, s.Name, profile))
				}
			}
			type result struct {
				code        int
				out, errOut string
			}
			results := make([]result, len(profiles))
			var wg sync.WaitGroup
			for i, profile := range profiles {
				wg.Go(func() {
					var out, errOut bytes.Buffer
					err := run(context.Background(), []string{"run", s.Name, "--profile", profile, "--speed", catalogSpeed(s.Name), "--target", addrs[i]}, &out, &errOut)
					results[i] = result{exitCode(err, &errOut), out.String(), errOut.String()}
				})
			}
			wg.Wait()
			for i, profile := range profiles {
				t.Run(profile, func(t *testing.T) {
					r := results[i]
					if r.code != 0 {
						t.Errorf("posim run --target exited %d:\n%s\n%s", r.code, r.out, r.errOut)
					}
					require.True(t, strings.Contains(r.out, "1 passed"), r.out)
				})
			}
		})
	}
}

// serveScenario runs `posim acquirer --scenario name` until the test ends
// and returns its address once it accepts connections.
func serveScenario(t *testing.T, name, profile string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	addr := deadAddr(t)
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"acquirer", "--scenario", name, "--profile", profile, "--speed", catalogSpeed(name),
			"--listen", addr, "--log-level", "warn"}, &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(2 * time.Minute) // it only bounds a failure
	for {
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("posim acquirer --scenario %s ended before it listened: %v: %s", name, err, errOut.String())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("posim acquirer --scenario %s did not listen on %s", name, addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCLI_RunTargetCarriesTheTerminalAcrossScenarios(t *testing.T) {
	// a cup host that answers a STAN it has seen in the open batch 94
	pol := acquirer.DefaultPolicies()
	pol.Duplicate = acquirer.Duplicate94
	a, err := acquirer.New(acquirer.WithProfile(wire.CUP), acquirer.WithPolicies(pol))
	require.NoError(t, err)
	require.NoError(t, a.Listen("127.0.0.1:0"))
	t.Cleanup(func() { a.Close() })
	file := filepath.Join(t.TempDir(), "one-sale.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`name: one-sale
title: {en: "One sale"}
steps:
  - sale: {card: approve, amount: "1.00"}
    expect: {outcome: approved}
expect:
  terminal: {log: 1, batch: 1}
`), 0o600))
	code, out, errOut := posim(t, "run", file, file, file, "--profile", "cup", "--target", a.Addr(), "--tid", "CARRY001", "--mid", "CARRY0000000001")
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "3 passed")
	var stans []string
	for _, e := range a.Journal().List(acquirer.Filter{Kind: acquirer.KindIn, MTI: "0200"}) {
		require.Equal(t, "CARRY001", e.TID)
		stans = append(stans, e.STAN)
	}
	require.Len(t, stans, 3)
	require.Len(t, slices.Compact(slices.Sorted(slices.Values(stans))), 3, "the STANs go on from one scenario to the next: %v", stans)

	code, _, errOut = posim(t, "run", file, "--target", a.Addr(), "--jobs", "2")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "one after another")
}
