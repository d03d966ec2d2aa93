package terminal_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/terminal"
	"github.com/posim/posim/wire"
	"github.com/stretchr/testify/require"
)

func hasHan(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
}

func TestOperations_EveryRowIsComplete(t *testing.T) {
	ops := terminal.Operations()
	require.NotEmpty(t, ops)
	seen := map[wire.Op]bool{}
	for _, o := range ops {
		t.Run(o.Name(), func(t *testing.T) {
			require.False(t, seen[o.Op], "listed once")
			seen[o.Op] = true
			require.Contains(t, wire.Ops(), o.Op, "an operation the wire knows")
			require.NotNil(t, o.Run, "a method runs it")
			require.NotEmpty(t, o.Short, "one line of help")
			require.NotEmpty(t, o.Label)
			require.False(t, hasHan(o.Label), "the English label is English: %q", o.Label)
			require.True(t, hasHan(o.LabelZH), "the Chinese label is Chinese: %q", o.LabelZH)
			require.Equal(t, o.Receipt == "", o.ReceiptZH == "", "a receipt type in both languages or neither")
			if o.Receipt != "" {
				require.False(t, hasHan(o.Receipt))
				require.True(t, hasHan(o.ReceiptZH))
			}
			for _, alts := range o.Needs {
				require.NotEmpty(t, alts, "a need with no alternative can never be met")
			}
		})
	}
	// what each command needs is what posim terminal's help says (README)
	needs := map[wire.Op][][]terminal.Arg{
		wire.OpSale:           {{terminal.ArgAmount}},
		wire.OpPreAuth:        {{terminal.ArgAmount}},
		wire.OpCompletion:     {{terminal.ArgAmount}, {terminal.ArgRRN, terminal.ArgAuthCode}},
		wire.OpVoid:           {{terminal.ArgRRN}},
		wire.OpPreAuthVoid:    {{terminal.ArgRRN, terminal.ArgAuthCode}},
		wire.OpCompletionVoid: {{terminal.ArgRRN}},
		wire.OpRefund:         {{terminal.ArgAmount}, {terminal.ArgRRN}},
		wire.OpOfflineSale:    {{terminal.ArgAmount}},
		wire.OpAdjust:         {{terminal.ArgSTAN}, {terminal.ArgAmount}},
		wire.OpTip:            {{terminal.ArgSTAN}, {terminal.ArgAmount}},
	}
	for _, o := range ops {
		require.Equal(t, needs[o.Op], o.Needs, o.Name())
	}
	// the receipts are those of the transactions that move money or a hold
	for _, o := range ops {
		require.Equal(t, o.Op.Financial(), o.Receipt != "", "%s: a receipt exactly for a financial operation", o.Name())
	}
	// Operations is a copy: changing it changes no lookup
	ops[0].Label = "changed"
	again, _ := terminal.Lookup(ops[0].Name())
	require.NotEqual(t, "changed", again.Label)
}

func TestOperations_Lookup(t *testing.T) {
	tests := []struct {
		name string
		want wire.Op
		ok   bool
	}{
		{"sale", wire.OpSale, true},
		{"preauth_void", wire.OpPreAuthVoid, true},
		{"preauth-void", wire.OpPreAuthVoid, true},
		{"completion_void", wire.OpCompletionVoid, true},
		{"completion-void", wire.OpCompletionVoid, true},
		{"signon", wire.OpSignOn, true},
		{"settle", wire.OpSettle, true},
		{"download", wire.OpDownload, true},
		{"SALE", "", false},
		{"preauth void", "", false},
		{"batch_upload", "", false}, // a wire operation, not a terminal one
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.name), func(t *testing.T) {
			o, ok := terminal.Lookup(tt.name)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, o.Op)
		})
	}
	t.Run("every row by its name, its command and its op", func(t *testing.T) {
		for _, o := range terminal.Operations() {
			require.NotContains(t, o.Command(), "_", "a subcommand is spelt with dashes")
			require.Equal(t, strings.ReplaceAll(o.Command(), "-", "_"), o.Name())
			byName, ok := terminal.Lookup(o.Name())
			require.True(t, ok)
			require.Equal(t, o.Op, byName.Op)
			byCommand, ok := terminal.Lookup(o.Command())
			require.True(t, ok)
			require.Equal(t, o.Op, byCommand.Op)
			byOp, ok := terminal.OperationOf(o.Op)
			require.True(t, ok)
			require.Equal(t, o.Short, byOp.Short)
		}
		_, ok := terminal.OperationOf(wire.OpBatchUpload)
		require.False(t, ok)
	})
}

func TestOperation_Missing(t *testing.T) {
	completion, _ := terminal.Lookup("completion")
	refund, _ := terminal.Lookup("refund")
	echo, _ := terminal.Lookup("echo")
	given := func(args ...terminal.Arg) func(terminal.Arg) bool {
		return func(a terminal.Arg) bool { return slices.Contains(args, a) }
	}
	tests := []struct {
		name string
		op   terminal.Operation
		has  func(terminal.Arg) bool
		want []terminal.Arg
	}{
		{"nothing given: the first group", completion, given(), []terminal.Arg{terminal.ArgAmount}},
		{"the first group met: the second, with its alternatives", completion, given(terminal.ArgAmount),
			[]terminal.Arg{terminal.ArgRRN, terminal.ArgAuthCode}},
		{"one alternative meets a group", completion, given(terminal.ArgAmount, terminal.ArgAuthCode), nil},
		{"the other alternative too", completion, given(terminal.ArgRRN, terminal.ArgAmount), nil},
		{"the second group met, the first not", completion, given(terminal.ArgRRN), []terminal.Arg{terminal.ArgAmount}},
		{"arguments it only takes meet nothing", refund, given(terminal.ArgCard, terminal.ArgRRN), []terminal.Arg{terminal.ArgAmount}},
		{"an operation that needs nothing", echo, given(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.op.Missing(tt.has))
		})
	}
}

func TestOperation_Args(t *testing.T) {
	completion, _ := terminal.Lookup("completion")
	require.Equal(t, []terminal.Arg{terminal.ArgAmount, terminal.ArgRRN, terminal.ArgAuthCode, terminal.ArgCard, terminal.ArgPIN},
		completion.Args(), "needs in order, then takes")
	made := terminal.Operation{
		Needs: [][]terminal.Arg{{terminal.ArgAmount}, {terminal.ArgRRN, terminal.ArgAmount}},
		Takes: []terminal.Arg{terminal.ArgRRN, terminal.ArgCard, terminal.ArgCard},
	}
	require.Equal(t, []terminal.Arg{terminal.ArgAmount, terminal.ArgRRN, terminal.ArgCard}, made.Args(), "each once")
	require.True(t, made.TakesArg(terminal.ArgCard))
	require.True(t, made.TakesArg(terminal.ArgRRN), "a need is an argument it takes")
	require.False(t, made.TakesArg(terminal.ArgSTAN))
	for _, o := range terminal.Operations() {
		args := o.Args()
		require.Len(t, args, len(slices.Compact(slices.Sorted(slices.Values(args)))), "%s lists each argument once", o.Name())
	}
}

func TestOperation_Bare(t *testing.T) {
	var bare []string
	for _, o := range terminal.Operations() {
		if o.Bare() {
			bare = append(bare, o.Name())
			require.Empty(t, o.Args())
		}
	}
	require.Equal(t, []string{"echo", "signon", "signoff", "download", "master_key", "settle"}, bare,
		"network management and settlement take nothing; balance and reversal take a card or a STAN")
}

// Every operation the catalogue lists runs through its row's method against
// a real acquirer of each dialect: the result is the row's, and a receipt
// comes exactly with the rows that have a receipt type.
func TestOperations_RunAgainstAnAcquirer(t *testing.T) {
	t.Parallel()
	for _, name := range wire.ProfileNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := wire.ProfileByName(name)
			require.NoError(t, err)
			pol := acquirer.DefaultPolicies()
			pol.TransportKey = testTransportKey
			a, err := acquirer.New(acquirer.WithProfile(p), acquirer.WithPolicies(pol))
			require.NoError(t, err)
			require.NoError(t, a.Listen("127.0.0.1:0"))
			t.Cleanup(func() { a.Close() })
			term := newTerminal(t, a.Addr(), t.TempDir(), func(c *terminal.Config) {
				c.Profile, c.AutoSignOn, c.TransportKey = p, true, testTransportKey
				c.Timeout, c.ConnectTimeout = 5*time.Second, 5*time.Second
			})
			ctx := t.Context()
			// the originals the referring operations name
			sale1, err := term.Sale(ctx, terminal.Request{Amount: 1000})
			require.NoError(t, err)
			sale2, err := term.Sale(ctx, terminal.Request{Amount: 2000})
			require.NoError(t, err)
			hold1, err := term.PreAuth(ctx, terminal.Request{Amount: 3000})
			require.NoError(t, err)
			hold2, err := term.PreAuth(ctx, terminal.Request{Amount: 4000})
			require.NoError(t, err)
			var completion, offline *terminal.Result

			for _, o := range terminal.Operations() {
				r := terminal.Request{}
				for _, arg := range o.Args() {
					switch arg {
					case terminal.ArgAmount:
						r.Amount = 500
					case terminal.ArgCard:
						r.Card = "approve"
					}
				}
				switch o.Op {
				case wire.OpCompletion:
					r.RRN = hold1.RRN
				case wire.OpVoid:
					r.RRN, r.Amount = sale1.RRN, 0
				case wire.OpPreAuthVoid:
					r.AuthCode, r.Amount = hold2.AuthCode, 0
				case wire.OpCompletionVoid:
					require.NotNil(t, completion, "the catalogue lists completion before its void")
					r.RRN, r.Amount = completion.RRN, 0
				case wire.OpRefund:
					r.RRN = sale2.RRN
				case wire.OpAdjust, wire.OpTip:
					require.NotNil(t, offline, "the catalogue lists the offline sale before what adjusts it")
					r.STAN = offline.STAN
				}
				require.Nil(t, o.Missing(func(a terminal.Arg) bool {
					return a == terminal.ArgAmount && r.Amount != 0 || a == terminal.ArgRRN && r.RRN != "" || a == terminal.ArgAuthCode && r.AuthCode != "" ||
						a == terminal.ArgSTAN && r.STAN != ""
				}), "%s: the request meets its needs", o.Name())
				var res *terminal.Result
				require.NotPanics(t, func() { res, err = o.Run(term, ctx, r) }, o.Name())
				require.NotNil(t, res, o.Name())
				require.Equal(t, o.Name(), res.Operation, "the row runs its own method")
				require.NotEmpty(t, res.Outcome, "%s: finished with an outcome", o.Name())
				switch o.Op {
				case wire.OpCompletion:
					completion = res
				case wire.OpOfflineSale:
					offline = res
				}
				switch {
				case o.Op == wire.OpReversal:
					// what it reverses with nothing pending is not settled yet
				case (o.Op == wire.OpDownload || o.Op == wire.OpMasterKey || o.Op == wire.OpAdjust || o.Op == wire.OpTip) && !p.Capabilities().WorkingKeys:
					require.ErrorIs(t, err, terminal.ErrInvalidRequest, "no %s under %s", o.Name(), name)
					require.Equal(t, terminal.Refused, res.Outcome)
				default:
					require.NoError(t, err, o.Name())
					require.Equal(t, terminal.Approved, res.Outcome, o.Name())
				}
				if o.Receipt == "" || res.Outcome == terminal.Refused {
					require.Nil(t, res.Receipt, "%s prints no receipt", o.Name())
					continue
				}
				require.NotNil(t, res.Receipt, "%s prints a receipt", o.Name())
				require.Equal(t, o.Receipt, res.Receipt.Type)
				require.Equal(t, o.ReceiptZH, res.Receipt.TypeZH)
				require.Equal(t, o.Name(), res.Receipt.Operation)
				require.Equal(t, res.STAN, res.Receipt.Trace)
			}
			require.Nil(t, term.State().Pending, "nothing left to reverse")
		})
	}
}
