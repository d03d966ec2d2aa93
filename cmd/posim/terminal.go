package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
)

type terminalFlags struct {
	host, tid, mid, state, profile, cards, currency, whenExhausted string
	country                                                        string
	timeout, connectTimeout                                        time.Duration
	reversalRetries                                                int
	json, verbose, immediate, dump                                 bool
	tpdu, header, tmk, transportKey, mac, keySet                   string
	autoSignOn, badMAC, chipDownload, receipt                      bool
	merchantName, lang                                             string
	tls                                                            clientTLS
	specFlags

	amount, card, pan, pin, rrn, authCode, stan string
	noPIN, fallback                             bool
	cardResponse                                string
	fields                                      []string
}

func newTerminalCmd() *cobra.Command {
	var f terminalFlags
	cmd := &cobra.Command{
		Use:   "terminal <operation>",
		Short: "Run one operation as an emulated POS terminal",
		Long: `Run one operation as an emulated POS terminal against an acquirer.

The terminal keeps its STAN counter, batch number, pending reversal and transaction
log in --state (default .posim/terminal-<TID>), so a reversal left pending by one
command goes out before the next command's transaction, as on a real POS.

Exit codes: 0 approved, 1 usage error, 2 invalid input,
3 no response / connection refused / blocked, 4 declined by the host.`,
		Example: `  posim terminal sale --host 127.0.0.1:8583 --amount 12.34 --json
  posim terminal sale --card insufficient-funds --amount 12.34
  posim terminal void --rrn 632210000001
  posim terminal settle`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.host, "host", "127.0.0.1:8583", "acquirer address host:port")
	pf.StringVar(&f.tid, "tid", "POSIM001", "terminal id (DE41)")
	pf.StringVar(&f.mid, "mid", "POSIM0000000001", "merchant id (DE42)")
	pf.StringVar(&f.state, "state", "", "state directory (default .posim/terminal-<TID>)")
	pf.StringVar(&f.profile, "profile", wire.Default.Name(), dialects())
	pf.StringVar(&f.cards, "cards", "", "YAML file of extra cards (aliases for --card)")
	pf.StringVar(&f.currency, "currency", "156", "currency code (DE49)")
	pf.StringVar(&f.country, "country", "156", "the terminal's country code (ISO 3166 numeric; chip tag 9F1A)")
	pf.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for a response")
	pf.DurationVar(&f.connectTimeout, "connect-timeout", 10*time.Second, "how long to wait for the TCP connection")
	pf.IntVar(&f.reversalRetries, "reversal-retries", 3, "N: a pending reversal is sent up to N+1 times")
	pf.StringVar(&f.whenExhausted, "when-exhausted", terminal.ExhaustedDrop, "when reversal retries run out: drop or block")
	pf.BoolVar(&f.immediate, "immediate-reversal", false, "send the reversal right after a failure instead of before the next transaction")
	pf.BoolVar(&f.json, "json", false, "print the result as one JSON object (a transaction's receipt in it)")
	pf.BoolVar(&f.receipt, "receipt", false, "print the transaction's receipt (签购单) after the result")
	pf.StringVar(&f.lang, "lang", "en", "language of the receipt: en, or zh (Chinese with the English labels beside)")
	pf.StringVar(&f.merchantName, "merchant-name", "", "merchant name printed on receipts (default: the card book's name for --mid)")
	pf.BoolVarP(&f.verbose, "verbose", "v", false, "log every message on stderr")
	pf.BoolVar(&f.dump, "dump", false, "print every message sent and received field by field on stderr (card data masked)")
	pf.StringVar(&f.tpdu, "tpdu", "6000030000", "cup: TPDU sent (60, destination NII, source NII), hex")
	pf.StringVar(&f.header, "header", "603100310730", "cup: 6-byte application header sent, hex")
	pf.StringVar(&f.tmk, "tmk", wire.TestTMK, "cup: terminal master key (hex); the default is a documented test key")
	pf.StringVar(&f.transportKey, "transport-key", "", "cup: transport key (hex) that opens the master key of master-key (0800 60.3 350); the master key it brings is kept in the state and used in place of --tmk")
	pf.StringVar(&f.mac, "mac", wire.MACCUP, "cup: MAC algorithm, cup or x9.19")
	pf.StringVar(&f.keySet, "key-set", wire.KeysDouble, "cup: working key set asked for at sign-on: 001 (single-length), 003 (double-length, the default) or 004 (with a track key)")
	pf.BoolVar(&f.autoSignOn, "auto-signon", true, "cup: sign on first when the terminal is not signed on")
	pf.BoolVar(&f.chipDownload, "chip-download", true, "cup: after a sign-on whose answer asks for it (the header's processing request), download the chip CA keys and parameters, the terminal parameters and the blacklist")
	f.specFlags.add(pf)
	f.tls.add(pf)

	for _, op := range terminal.Operations() {
		cmd.AddCommand(newTerminalOpCmd(&f, op))
	}
	cmd.AddCommand(newTerminalStateCmd(&f), newTerminalResetCmd(&f))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usageErr("terminal needs an operation: %s (or state, reset)", strings.Join(terminalCommands(), ", "))
		}
		return usageErr("unknown terminal operation %q (see posim terminal --help)", args[0])
	}
	cmd.Args = cobra.ArbitraryArgs
	return cmd
}

func (f terminalFlags) config(cmd *cobra.Command, stderr io.Writer) (terminal.Config, error) {
	cfg := terminal.DefaultConfig()
	if err := checkAddr("--host", f.host); err != nil {
		return cfg, err
	}
	profile, err := loadProfile(f.profile)
	if err != nil {
		return cfg, err
	}
	if f.spec != "" {
		tp, hd := "", ""
		if cmd.Flags().Changed("tpdu") || cmd.Flags().Changed("header") {
			tp, hd = f.tpdu, f.header
		}
		if profile, err = f.customProfile(tp, hd); err != nil {
			return cfg, err
		}
	}
	book, err := loadCards(f.cards)
	if err != nil {
		return cfg, err
	}
	cfg.Host, cfg.TID, cfg.MID, cfg.Profile, cfg.Cards = f.host, f.tid, f.mid, profile, book
	cfg.Timeout, cfg.ConnectTimeout = f.timeout, f.connectTimeout
	cfg.ReversalRetries, cfg.WhenExhausted, cfg.ImmediateReversal = f.reversalRetries, f.whenExhausted, f.immediate
	cfg.Currency, cfg.Country = f.currency, f.country
	cfg.StateDir = f.state
	for _, m := range book.Merchants {
		if m.MID == f.mid && m.Name != "" {
			cfg.MerchantName = m.Name
		}
	}
	if f.merchantName != "" {
		cfg.MerchantName = f.merchantName
	}
	if f.lang != "en" && f.lang != "zh" {
		return cfg, invalid(fmt.Errorf("--lang %q: want en or zh", f.lang))
	}
	if cfg.TLS, err = f.tls.config(); err != nil {
		return cfg, err
	}
	if profile.Capabilities().TPDU {
		tf, err := wire.NewTPDUFramer(nil, f.tpdu, f.header, "")
		if err != nil {
			return cfg, invalid(fmt.Errorf("--tpdu, --header: %w", err))
		}
		cfg.Framer = tf
		cfg.TMK, cfg.MACAlg, cfg.KeySet, cfg.AutoSignOn = f.tmk, f.mac, f.keySet, f.autoSignOn
		cfg.TransportKey = f.transportKey
		cfg.ChipDownload = f.chipDownload
	}
	if cfg.StateDir == "" {
		cfg.StateDir = filepath.Join(".posim", "terminal-"+f.tid)
	}
	if f.dump {
		cfg.Dump = stderr
	}
	if f.verbose {
		log, err := newLogger(stderr, "text", true)
		if err != nil {
			return cfg, err
		}
		cfg.Logger = log
	}
	if err := cfg.Validate(); err != nil {
		return cfg, invalid(err)
	}
	return cfg, nil
}

func (f terminalFlags) request(op terminal.Operation) (terminal.Request, error) {
	r := terminal.Request{Card: f.card, PIN: f.pin, NoPIN: f.noPIN, RRN: f.rrn, AuthCode: f.authCode, STAN: f.stan, BadMAC: f.badMAC,
		CardResponse: f.cardResponse, Fallback: f.fallback}
	if len(f.fields) > 0 {
		r.Fields = map[int]string{}
		for _, kv := range f.fields {
			k, v, ok := strings.Cut(kv, "=")
			n, err := strconv.Atoi(k)
			if !ok || err != nil || n < 2 || n > 128 {
				return r, invalid(fmt.Errorf("--field %q: want N=VALUE with N a field number from 2 to 128", kv))
			}
			r.Fields[n] = v
		}
	}
	if f.pan != "" {
		if f.card != "" {
			return r, usageErr("use --card or --pan, not both")
		}
		r.Card = f.pan // a PAN failing Luhn is still sent: it is a test case
	}
	if missing := op.Missing(f.given); missing != nil {
		return r, usageErr("%s needs %s", op.Command(), argFlags(missing))
	}
	if f.amount != "" {
		v, err := wire.ParseAmount(f.amount)
		if err != nil {
			return r, invalid(fmt.Errorf("--amount: %w", err))
		}
		r.Amount = v
	}
	if f.pin != "" && (len(f.pin) < 4 || len(f.pin) > 12 || strings.Trim(f.pin, "0123456789") != "") {
		return r, invalid(errors.New("--pin: want 4 to 12 digits"))
	}
	return r, nil
}

func runTerminal(cmd *cobra.Command, f terminalFlags, op terminal.Operation) error {
	req, err := f.request(op)
	if err != nil {
		return err
	}
	cfg, err := f.config(cmd, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if req.Card != "" {
		if _, err := cfg.Cards.Resolve(req.Card); err != nil {
			return invalid(fmt.Errorf("--card: %w", err))
		}
	}
	term, err := terminal.New(cfg)
	if err != nil {
		return invalid(err)
	}
	defer term.Close()
	res, opErr := op.Run(term, cmd.Context(), req)
	if errors.Is(opErr, terminal.ErrInvalidRequest) {
		return invalid(opErr)
	}
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printResult(out, res)
	}
	if f.receipt && !f.json {
		fmt.Fprintln(out)
		if err := terminal.WriteReceipt(out, res.Receipt, f.lang); err != nil {
			return err
		}
	}
	return terminalExit(res, opErr)
}

// terminalExit maps an outcome to the exit code; the result is already printed.
func terminalExit(res *terminal.Result, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, terminal.ErrNothingToReverse):
		// the terminal's own state says no: nothing went on the line
		return &exitError{code: exitInvalid, err: err, silent: true}
	case res != nil && res.Outcome == terminal.Declined:
		return &exitError{code: exitExpected, err: err, silent: true}
	default:
		return &exitError{code: exitRuntime, err: err, silent: true}
	}
}

func printResult(w io.Writer, r *terminal.Result) {
	for _, rs := range r.ReversalsSent {
		fmt.Fprintf(w, "reversal %s stan=%s of stan=%s reason=%s: %s %s\n", rs.MTI, rs.STAN, rs.OriginalSTAN, rs.Reason, rs.Outcome, rs.ResponseCode)
	}
	if r.ReversalDropped {
		fmt.Fprintln(w, "reversal dropped after all retries: call support")
	}
	fmt.Fprintf(w, "%s %s", r.Operation, strings.ToUpper(string(r.Outcome)))
	if r.ResponseCode != "" {
		fmt.Fprintf(w, " %s (%s)", r.ResponseCode, r.Meaning)
	}
	fmt.Fprintln(w)
	fields := []struct{ k, v string }{
		{"display", r.Display}, {"stan", r.STAN}, {"rrn", r.RRN}, {"auth code", r.AuthCode},
		{"pan", r.PAN}, {"amount", r.Amount}, {"balance", r.Balance},
	}
	for _, kv := range fields {
		if kv.v != "" {
			fmt.Fprintf(w, "  %-16s %s\n", kv.k, kv.v)
		}
	}
	if s := r.Settlement; s != nil {
		fmt.Fprintf(w, "  %-16s %s balanced=%t uploaded=%d\n", "batch", s.Batch, s.Balanced, s.Uploaded)
		fmt.Fprintf(w, "  %-16s debits %d/%s credits %d/%s\n", "terminal totals", s.Terminal.DebitCount, wire.FormatAmount(s.Terminal.DebitAmount), s.Terminal.CreditCount, wire.FormatAmount(s.Terminal.CreditAmount))
	}
	if d := r.Download; d != nil {
		fmt.Fprintf(w, "  %-16s %s\n", "CA keys", strings.Join(d.CAPKs, ", "))
		fmt.Fprintf(w, "  %-16s %s\n", "chip apps", strings.Join(d.AIDs, ", "))
		for _, name := range slices.Sorted(maps.Keys(d.Params)) {
			fmt.Fprintf(w, "  %-16s %s\n", name, d.Params[name])
		}
		fmt.Fprintf(w, "  %-16s %d cards\n", "blacklist", d.Blacklist)
	}
	if r.ReversalPending {
		fmt.Fprintf(w, "  %-16s yes: it goes out before the next transaction\n", "reversal pending")
	}
	if r.Error != "" && r.Outcome != terminal.Declined {
		fmt.Fprintf(w, "  %-16s %s\n", "error", r.Error)
	}
}

// newTerminalOpCmd is the subcommand of one operation of the catalogue,
// with the flags of the arguments it takes.
func newTerminalOpCmd(f *terminalFlags, op terminal.Operation) *cobra.Command {
	sub := &cobra.Command{
		Use:   op.Command(),
		Short: op.Short,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runTerminal(cmd, *f, op) },
	}
	fl := sub.Flags()
	for _, a := range op.Args() {
		switch a {
		case terminal.ArgAmount:
			fl.StringVar(&f.amount, "amount", "", "amount with two decimals, e.g. 12.34")
		case terminal.ArgCard:
			fl.StringVar(&f.card, "card", "", "card alias (see the README) or PAN; default approve")
			fl.StringVar(&f.pan, "pan", "", "card number (instead of --card)")
		case terminal.ArgPIN:
			fl.StringVar(&f.pin, "pin", "", "PIN the cardholder types (default: the card's)")
			fl.BoolVar(&f.noPIN, "no-pin", false, "send no PIN block")
		case terminal.ArgRRN:
			fl.StringVar(&f.rrn, "rrn", "", "RRN of the original transaction")
		case terminal.ArgAuthCode:
			fl.StringVar(&f.authCode, "auth-code", "", "authorisation code of the pre-authorisation (completion, preauth-void)")
		case terminal.ArgSTAN:
			fl.StringVar(&f.stan, "stan", "", "STAN of the logged transaction to reverse (default: the last one)")
		case terminal.ArgChip:
			fl.StringVar(&f.cardResponse, "card-response", "", "chip card fault for this sale: "+strings.Join(terminal.CardResponses(), ", "))
			fl.BoolVar(&f.fallback, "fallback", false, "swipe a chip card (DE22 80x), as when its chip cannot be read")
		}
	}
	fl.BoolVar(&f.badMAC, "bad-mac", false, "cup fault: send a MAC with one bit flipped")
	fl.StringArrayVar(&f.fields, "field", nil, "add a field your host requires, N=VALUE (repeatable), e.g. --field 48=0012ABCD --field 63=001")
	return sub
}

// given reports whether the flags give argument a.
func (f terminalFlags) given(a terminal.Arg) bool {
	switch a {
	case terminal.ArgAmount:
		return f.amount != ""
	case terminal.ArgCard:
		return f.card != "" || f.pan != ""
	case terminal.ArgPIN:
		return f.pin != "" || f.noPIN
	case terminal.ArgRRN:
		return f.rrn != ""
	case terminal.ArgAuthCode:
		return f.authCode != ""
	case terminal.ArgSTAN:
		return f.stan != ""
	case terminal.ArgChip:
		return f.cardResponse != "" || f.fallback
	}
	return false
}

// argFlags names the flags of alternative arguments: "--rrn or --auth-code".
func argFlags(alts []terminal.Arg) string {
	names := make([]string, len(alts))
	for i, a := range alts {
		names[i] = "--" + strings.ReplaceAll(string(a), "_", "-")
	}
	return strings.Join(names, " or ")
}

// terminalCommands lists the operations' subcommands.
func terminalCommands() []string {
	var out []string
	for _, op := range terminal.Operations() {
		out = append(out, op.Command())
	}
	return out
}

func newTerminalStateCmd(f *terminalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "state",
		Short: "Show the terminal's state: STAN, batch, sign-on, pending reversal, open batch",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			term, err := openTerminalState(cmd, *f)
			if err != nil {
				return err
			}
			defer term.Close()
			st := term.State()
			out := cmd.OutOrStdout()
			if f.json {
				view := map[string]any{"stan": st.STAN, "batch": st.Batch, "signed_on": st.SignedOn, "log": len(st.Log),
					"pending_reversal": nil, "tc_pending": len(st.TCPending), "params": st.Params, "blacklist": len(st.Blacklist)}
				if p := st.Pending; p != nil {
					view["pending_reversal"] = map[string]any{"mti": p.Request.MTI, "stan": p.Request.STAN, "amount": wire.FormatAmount(p.Request.Amount),
						"pan": wire.MaskPAN(p.Request.PAN), "reason": p.Reason}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(view)
			}
			fmt.Fprintf(out, "state      %s\nstan       %06d (the next is %06d)\nbatch      %06d, %d transactions open\nsigned on  %v\n",
				term.Config().StateDir, st.STAN, st.STAN%999999+1, st.Batch, len(st.Log), st.SignedOn)
			if p := st.Pending; p != nil {
				fmt.Fprintf(out, "pending    reversal of %s STAN %s %s card %s (reason %s): sent before the next transaction\n",
					p.Request.MTI, p.Request.STAN, wire.FormatAmount(p.Request.Amount), wire.MaskPAN(p.Request.PAN), p.Reason)
			} else {
				fmt.Fprintln(out, "pending    no reversal")
			}
			return nil
		},
	}
}

func newTerminalResetCmd(f *terminalFlags) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Clear the terminal's state: STAN, batch, sign-on, pending reversal, open batch",
		Long: `Clear the terminal's state as a technician's reset does: STAN from zero, batch 1, not
signed on, no pending reversal, the open batch emptied. A pending reversal is dropped
unsent (the host keeps what it booked): say --yes to confirm when one is pending.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			term, err := openTerminalState(cmd, *f)
			if err != nil {
				return err
			}
			defer term.Close()
			if p := term.State().Pending; p != nil && !yes {
				return invalid(fmt.Errorf("a reversal of STAN %s is pending: the reset would drop it unsent (the card stays debited); send it with posim terminal reversal, or say --yes", p.Request.STAN))
			}
			if err := term.ResetState(); err != nil {
				return runtimeErr(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "terminal state %s cleared\n", term.Config().StateDir)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "clear even when a reversal is pending")
	return cmd
}

// openTerminalState opens the terminal's state directory without
// connecting.
func openTerminalState(cmd *cobra.Command, f terminalFlags) (*terminal.Terminal, error) {
	cfg, err := f.config(cmd, cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	term, err := terminal.New(cfg)
	if err != nil {
		return nil, invalid(err)
	}
	return term, nil
}
