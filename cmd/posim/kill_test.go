package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary stand in for posim in a child process
// (POSIM_TEST_MAIN=1): the kill test needs a host it can SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("POSIM_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// child starts posim with args in a process of its own and waits until
// addr accepts connections.
func child(t *testing.T, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "POSIM_TEST_MAIN=1")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	listening(t, addr)
	return cmd
}

// listening waits until addr accepts connections. The deadline only
// bounds a failure: a host restarted on a data directory of thousands of
// sales, in a process of its own built with the race detector, took more
// than 30 s to listen on a machine running two other test suites.
func listening(t *testing.T, addr string) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 2*time.Minute, 10*time.Millisecond, "nothing listens on %s", addr)
}

// approval is an answer 00 a terminal received.
type approval struct{ tid, stan, rrn string }

// sell runs a terminal that sells until its connection breaks, and
// returns the approvals it received, counting them in acked as they come.
func sell(addr, tid string, acked *atomic.Int64) []approval {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil
	}
	defer c.Close()
	codec := wire.NewCodec(wire.ISO87)
	r := bufio.NewReader(c)
	var got []approval
	for n := 1; ; n++ {
		req := &wire.Txn{MTI: "0200", Op: wire.OpSale, ProcessingCode: "000000", PAN: "6200000000009998", Expiry: "3012",
			Amount: 100, HasAmount: true, STAN: fmt.Sprintf("%06d", n), TID: tid, MID: "POSIM0000000001", Currency: "156",
			EntryMode: "021", Condition: "00", TransmissionTime: wire.TransmissionTimeOf(time.Now())}
		m, err := wire.ISO87.Encode(req)
		if err != nil {
			return got
		}
		if err := codec.WriteMessage(c, m); err != nil {
			return got
		}
		resp, err := codec.ReadMessage(r)
		if err != nil || resp == nil {
			return got
		}
		t, err := wire.ISO87.Decode(resp)
		if err != nil {
			return got
		}
		if t.ResponseCode == "00" {
			got = append(got, approval{tid, t.STAN, t.RRN})
			acked.Add(1)
		}
	}
}

// Kill the host in the middle of a run of sales, five times, restarting
// it on the same data directory each time: every approval a terminal
// received is in the books, and no sale is booked twice.
func TestKill_NoAcknowledgedApprovalLost(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a host process five times")
	}
	t.Parallel() // the longest test here: it runs beside the ones that wait on timers
	dir := t.TempDir()
	var all []approval
	for round := 1; round <= 5; round++ {
		addr := deadAddr(t)
		host := child(t, addr, "acquirer", "--listen", addr, "--data", dir, "--log-level", "error")
		var mu sync.Mutex
		var wg sync.WaitGroup
		var acked atomic.Int64
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got := sell(addr, fmt.Sprintf("K%dT%02d", round, i), &acked)
				mu.Lock()
				all = append(all, got...)
				mu.Unlock()
			}()
		}
		// a kill point that moves from round to round: once the terminals
		// have 250, 500 ... 1250 approvals of this round
		killAt := int64(round * 250)
		require.Eventually(t, func() bool { return acked.Load() >= killAt }, 2*time.Minute, time.Millisecond)
		require.NoError(t, host.Process.Signal(syscall.SIGKILL))
		_, _ = host.Process.Wait()
		wg.Wait()

		// restart and read the books
		addr, ctl := deadAddr(t), deadAddr(t)
		host = child(t, addr, "acquirer", "--listen", addr, "--data", dir, "--control", ctl, "--log-level", "error")
		listening(t, ctl)
		var ledger acquirer.Snapshot
		getJSON(t, "http://"+ctl+"/ledger", &ledger)
		booked := map[string]int{}
		rrn := map[string]string{}
		for _, r := range ledger.Records {
			if r.Op == wire.OpSale && r.Status == acquirer.StatusApproved {
				k := r.TID + "/" + r.STAN
				booked[k]++
				rrn[k] = r.RRN
			}
		}
		lost, twice := 0, 0
		for _, a := range all {
			k := a.tid + "/" + a.stan
			if booked[k] == 0 || rrn[k] != a.rrn {
				lost++
			}
		}
		for _, n := range booked {
			if n > 1 {
				twice++
			}
		}
		t.Logf("kill point %d (after %d approvals of the round): %d approvals acknowledged in all, %d lost, %d booked twice, %d sales in the books",
			round, killAt, len(all), lost, twice, len(booked))
		require.Positive(t, len(all))
		require.Zero(t, lost, "acknowledged approvals missing from the books")
		require.Zero(t, twice, "sales booked twice")
		require.NoError(t, host.Process.Signal(syscall.SIGKILL))
		_, _ = host.Process.Wait()
	}
}

func TestCLI_DataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "books")
	state := t.TempDir()
	addr := deadAddr(t)
	stop := serveStoppable(t, addr, "acquirer", "--listen", addr, "--data", dir, "--log-level", "warn")
	code, out, _ := posim(t, "terminal", "sale", "--host", addr, "--amount", "12.00", "--json", "--state", state)
	require.Equal(t, 0, code, out)
	sale := decode(t, out)
	stop()

	// a stopped host's books, exported
	code, out, errOut := posim(t, "acquirer", "--data", dir, "--export", "-")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"rrn": "`+sale.RRN+`"`)
	require.NotContains(t, out, "6200000000000005", "card numbers masked")

	// the same directory with other cards is refused
	cardsFile := filepath.Join(t.TempDir(), "cards.yaml")
	require.NoError(t, os.WriteFile(cardsFile, []byte("cards:\n  - {alias: mine, pan: \"6200000000123450\", balance: \"10.00\"}\n"), 0o644))
	code, _, errOut = posim(t, "acquirer", "--listen", deadAddr(t), "--data", dir, "--cards", cardsFile)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "other cards")

	// restarted, it voids the sale of before
	addr = deadAddr(t)
	serve(t, addr, "acquirer", "--listen", addr, "--data", dir, "--log-level", "warn")
	code, out, _ = posim(t, "terminal", "void", "--host", addr, "--rrn", sale.RRN, "--json", "--state", state)
	require.Equal(t, 0, code, out)

	code, _, errOut = posim(t, "acquirer", "--export", "x.json")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--export needs --data")
}
