package cards

// Builtin returns the built-in test cards. Every card has PIN 1234 and
// expires 12/30 unless its row says otherwise. The table is documented in the
// README; keep them in step.
func Builtin() *Book {
	card := func(alias, pan string, balance int64, status, desc string) Card {
		return Card{Alias: alias, PAN: pan, Expiry: "3012", PIN: DefaultPIN, Balance: balance, Status: status, Description: desc}
	}
	b := &Book{Cards: []Card{
		card("approve", "6200000000000005", 1_000_000, StatusActive, "approved (00); the default card"),
		card("visa-approve", "4111111111111111", 100_000, StatusActive, "approved (00); balance 1000.00"),
		card("mastercard-approve", "5555555555554444", 100_000, StatusActive, "approved (00); balance 1000.00"),
		card("credit-approve", "6250940000000019", 1_000_000, StatusActive, "UnionPay credit card: approved (00), unless the merchant may not take credit cards"),
		card("insufficient-funds", "6200000000000104", 0, StatusActive, "declined 51: balance 0.00"),
		card("low-balance", "6200000000000203", 5_000, StatusActive, "approved up to 50.00, then 51"),
		card("do-not-honor", "6200000000000302", 1_000_000, StatusBlocked, "declined 05"),
		card("lost", "6200000000000401", 1_000_000, StatusLost, "declined 41 (lost card)"),
		card("stolen", "6200000000000500", 1_000_000, StatusStolen, "declined 43 (stolen card)"),
		card("pick-up", "6200000000000609", 1_000_000, StatusPickUp, "declined 04 (pick-up card)"),
		card("fraud", "6200000000000708", 1_000_000, StatusFraud, "declined 34 (suspected fraud)"),
		card("restricted", "6200000000000807", 1_000_000, StatusRestricted, "declined 62 (restricted card)"),
		card("not-permitted", "6200000000000906", 1_000_000, StatusNotAllowed, "declined 57 (not permitted to cardholder)"),
		card("aml", "6200000000001003", 1_000_000, StatusAML, "declined 93 (violation of law)"),
		card("expired", "6200000000001102", 1_000_000, StatusActive, "declined 54: expired 01/20"),
		card("wrong-pin", "6200000000001201", 1_000_000, StatusActive, "the cardholder types 9999: 55, then 75 after three tries"),
		card("chip-approve", "6200000000002001", 1_000_000, StatusActive, "chip card: ARQC verified, ARPC verified, TC: approved"),
		card("chip-offline-decline", "6200000000002100", 1_000_000, StatusActive, "chip card that refuses at the first GENERATE AC (AAC): declined offline, nothing sent"),
		card("chip-aac-after-approval", "6200000000002209", 1_000_000, StatusActive, "chip card that refuses the host's approval (AAC at the second GENERATE AC): the terminal reverses (06)"),
		card("chip-online-pin", "6200000000002308", 1_000_000, StatusActive, "chip card that asks for the PIN, verified online (DE22 051)"),
		card("contactless", "6200000000002407", 1_000_000, StatusActive, "QuickPass (闪付) contactless chip: no PIN up to 1000.00, online PIN over it"),
		card("unlimited", "6200000000009998", 1<<53, StatusActive, "approved (00) and never runs out: the card posim load sells on"),
	}}
	for i := range b.Cards {
		switch b.Cards[i].Alias {
		case "expired":
			b.Cards[i].Expiry = "2001"
		case "wrong-pin":
			b.Cards[i].EnteredPIN = "9999"
		case "visa-approve", "mastercard-approve", "credit-approve":
			b.Cards[i].Type = "credit"
		case "chip-approve":
			b.Cards[i].Chip = &Chip{PSN: "01", Behaviour: ChipApprove}
		case "chip-offline-decline":
			b.Cards[i].Chip = &Chip{PSN: "01", Behaviour: ChipOfflineDecline}
		case "chip-aac-after-approval":
			b.Cards[i].Chip = &Chip{PSN: "01", Behaviour: ChipAACAfterApproval}
		case "chip-online-pin":
			b.Cards[i].Chip = &Chip{PSN: "01", Behaviour: ChipOnlinePIN}
		case "contactless":
			b.Cards[i].Chip = &Chip{PSN: "01", Behaviour: ChipApprove, Contactless: true}
		}
	}
	return b
}
