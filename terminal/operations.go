package terminal

import (
	"context"
	"slices"
	"strings"

	"github.com/posim/posim/wire"
)

// Arg is an argument a terminal operation takes. Each front end spells it
// its own way: posim terminal as flags (ArgCard is --card or --pan), a
// scenario step as keys (ArgRRN is rrn or rrn_of).
type Arg string

// The arguments of the operations.
const (
	ArgAmount   Arg = "amount"    // the amount, with two decimals
	ArgCard     Arg = "card"      // a card alias or a PAN (default: the approving card)
	ArgPIN      Arg = "pin"       // the PIN typed, or none
	ArgChip     Arg = "chip"      // a chip card's behaviour (card response, fallback swipe)
	ArgRRN      Arg = "rrn"       // the original transaction's RRN
	ArgAuthCode Arg = "auth_code" // the original pre-authorisation's authorisation code
	ArgSTAN     Arg = "stan"      // a logged transaction's trace number (to reverse, adjust or tip)
)

// Operation is one row of the catalogue of terminal operations: what it
// is called, what it sends, the arguments it needs and takes, how people
// and receipts name it, and the method that runs it. posim terminal's
// subcommands and flags, scenario steps (their validation and dispatch),
// posim load's mix, receipts and the trainer's narration are all read
// from the catalogue, so adding an operation is its wire encoding, the
// acquirer's decision, one method and one row here.
type Operation struct {
	// Op is the operation; string(Op) is its name in scenarios (sale,
	// preauth_void) and, with dashes, its posim terminal subcommand.
	Op wire.Op
	// Short is one line of help: what it does and the message it sends.
	Short string
	// Label and LabelZH name it for people (narration, reports).
	Label, LabelZH string
	// Receipt and ReceiptZH are its type on a receipt (SALE, 消费); an
	// operation without them prints no receipt.
	Receipt, ReceiptZH string
	// Needs are the arguments it requires: each entry lists alternatives,
	// one of which must be given.
	Needs [][]Arg
	// Takes are the further arguments it accepts.
	Takes []Arg
	// Run runs it on a terminal.
	Run func(t *Terminal, ctx context.Context, r Request) (*Result, error)
}

// Name is the operation's name in scenarios.
func (o Operation) Name() string { return string(o.Op) }

// Command is the operation's posim terminal subcommand.
func (o Operation) Command() string { return strings.ReplaceAll(string(o.Op), "_", "-") }

// Args lists every argument the operation needs or takes, each once.
func (o Operation) Args() []Arg {
	var out []Arg
	add := func(list []Arg) {
		for _, a := range list {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	for _, alts := range o.Needs {
		add(alts)
	}
	add(o.Takes)
	return out
}

// TakesArg reports whether the operation needs or takes a.
func (o Operation) TakesArg(a Arg) bool { return slices.Contains(o.Args(), a) }

// Bare reports whether the operation takes no arguments at all (network
// management, settlement): a scenario step names it alone.
func (o Operation) Bare() bool { return len(o.Needs) == 0 && len(o.Takes) == 0 }

// Missing returns the first group of Needs of which has reports none
// given, or nil when every need is met.
func (o Operation) Missing(has func(Arg) bool) []Arg {
	for _, alts := range o.Needs {
		if !slices.ContainsFunc(alts, has) {
			return alts
		}
	}
	return nil
}

// operations is the catalogue, in the order help lists it. It is filled
// in init: the rows name methods that, through receipts, read it.
var operations []Operation

func init() { operations = catalogue() }

func catalogue() []Operation {
	return []Operation{
		{Op: wire.OpSale, Short: "Debit a card (0200)", Label: "sale", LabelZH: "消费", Receipt: "SALE", ReceiptZH: "消费",
			Needs: [][]Arg{{ArgAmount}}, Takes: []Arg{ArgCard, ArgPIN, ArgChip}, Run: (*Terminal).Sale},
		{Op: wire.OpPreAuth, Short: "Place a hold on a card (0100)", Label: "pre-authorisation", LabelZH: "预授权",
			Receipt: "AUTH", ReceiptZH: "预授权",
			Needs: [][]Arg{{ArgAmount}}, Takes: []Arg{ArgCard, ArgPIN, ArgChip}, Run: (*Terminal).PreAuth},
		{Op: wire.OpCompletion, Short: "Complete a pre-authorisation by --rrn or --auth-code (0200, DE25 06)",
			Label: "completion", LabelZH: "预授权完成", Receipt: "AUTH COMPLETE", ReceiptZH: "预授权完成",
			Needs: [][]Arg{{ArgAmount}, {ArgRRN, ArgAuthCode}}, Takes: []Arg{ArgCard, ArgPIN}, Run: (*Terminal).Completion},
		{Op: wire.OpVoid, Short: "Void a sale of the open batch by RRN (0200, 020000)", Label: "void", LabelZH: "消费撤销",
			Receipt: "VOID", ReceiptZH: "消费撤销",
			Needs: [][]Arg{{ArgRRN}}, Takes: []Arg{ArgCard, ArgAmount}, Run: (*Terminal).Void},
		{Op: wire.OpPreAuthVoid, Short: "Cancel a pre-authorisation by --auth-code or --rrn (cup 0100 200000, DE25 06)",
			Label: "pre-authorisation void", LabelZH: "预授权撤销", Receipt: "AUTH VOID", ReceiptZH: "预授权撤销",
			Needs: [][]Arg{{ArgRRN, ArgAuthCode}}, Takes: []Arg{ArgCard, ArgAmount}, Run: (*Terminal).PreAuthVoid},
		{Op: wire.OpCompletionVoid, Short: "Cancel a completion by RRN (cup 0200 200000, DE25 06)",
			Label: "completion void", LabelZH: "预授权完成撤销", Receipt: "COMPLETE VOID", ReceiptZH: "预授权完成撤销",
			Needs: [][]Arg{{ArgRRN}}, Takes: []Arg{ArgCard, ArgAmount}, Run: (*Terminal).CompletionVoid},
		{Op: wire.OpRefund, Short: "Refund against a sale's RRN (0220, 200000)", Label: "refund", LabelZH: "退货",
			Receipt: "REFUND", ReceiptZH: "退货",
			Needs: [][]Arg{{ArgAmount}, {ArgRRN}}, Takes: []Arg{ArgCard}, Run: (*Terminal).Refund},
		{Op: wire.OpOfflineSale, Short: "Record a sale approved offline and send its advice (0220; cup 60.1 30)",
			Label: "offline sale", LabelZH: "离线结算", Receipt: "OFFLINE SALE", ReceiptZH: "离线结算",
			Needs: [][]Arg{{ArgAmount}}, Takes: []Arg{ArgCard}, Run: (*Terminal).OfflineSale},
		{Op: wire.OpAdjust, Short: "cup: give an offline sale of the open batch, named by --stan, a new --amount (0220, 60.1 32)",
			Label: "offline sale adjustment", LabelZH: "离线结算调整", Receipt: "ADJUST", ReceiptZH: "结算调整",
			Needs: [][]Arg{{ArgSTAN}, {ArgAmount}}, Run: (*Terminal).Adjust},
		{Op: wire.OpTip, Short: "cup: add a tip of --amount to a sale of the open batch named by --stan (0220, 60.1 34)",
			Label: "tip", LabelZH: "小费", Receipt: "TIP", ReceiptZH: "小费",
			Needs: [][]Arg{{ArgSTAN}, {ArgAmount}}, Run: (*Terminal).Tip},
		{Op: wire.OpBalance, Short: "Ask for a card's balance (0200, 310000)", Label: "balance inquiry", LabelZH: "余额查询",
			Takes: []Arg{ArgCard, ArgPIN}, Run: (*Terminal).Balance},
		{Op: wire.OpReversal, Short: "Send the pending reversal, or reverse a logged transaction (0400)", Label: "reversal", LabelZH: "冲正",
			Takes: []Arg{ArgSTAN}, Run: (*Terminal).Reversal},
		{Op: wire.OpEcho, Short: "Test the link (0800, DE70 301)", Label: "echo test", LabelZH: "回响测试",
			Run: func(t *Terminal, ctx context.Context, _ Request) (*Result, error) { return t.Echo(ctx) }},
		{Op: wire.OpSignOn, Short: "Sign on (0800, DE70 001)", Label: "sign-on", LabelZH: "签到",
			Run: func(t *Terminal, ctx context.Context, _ Request) (*Result, error) { return t.SignOn(ctx) }},
		{Op: wire.OpSignOff, Short: "Sign off (0800, DE70 002)", Label: "sign-off", LabelZH: "签退",
			Run: func(t *Terminal, ctx context.Context, _ Request) (*Result, error) { return t.SignOff(ctx) }},
		{Op: wire.OpDownload, Short: "cup: download the chip CA public keys and application parameters (0820 372/382, 0800 370/380)",
			Label: "parameter download", LabelZH: "参数下载",
			Run: func(t *Terminal, ctx context.Context, _ Request) (*Result, error) { return t.Download(ctx) }},
		{Op: wire.OpMasterKey, Short: "cup: download the terminal master key under the transport key (0800, 60.3 350)",
			Label: "master key download", LabelZH: "主密钥下载",
			Run: func(t *Terminal, ctx context.Context, _ Request) (*Result, error) { return t.MasterKey(ctx) }},
		{Op: wire.OpSettle, Short: "Settle the open batch (0500; 0320 upload when out of balance)", Label: "settlement", LabelZH: "结算",
			Run: func(t *Terminal, ctx context.Context, _ Request) (*Result, error) { return t.Settle(ctx) }},
	}
}

// Operations returns the catalogue of operations a terminal runs.
func Operations() []Operation { return slices.Clone(operations) }

// Lookup returns the operation with the scenario name or posim terminal
// subcommand name.
func Lookup(name string) (Operation, bool) {
	for _, o := range operations {
		if o.Name() == name || o.Command() == name {
			return o, true
		}
	}
	return Operation{}, false
}

// OperationOf returns the catalogue row of op.
func OperationOf(op wire.Op) (Operation, bool) {
	for _, o := range operations {
		if o.Op == op {
			return o, true
		}
	}
	return Operation{}, false
}
