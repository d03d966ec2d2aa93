package cards

import "testing"

func FuzzParse(f *testing.F) {
	f.Add([]byte("cards:\n  - alias: x\n    pan: \"6200000000001300\"\n    balance: \"1.00\"\n"))
	f.Add([]byte("merchants:\n  - {mid: M, status: frozen}\n"))
	f.Add([]byte("cards: [1, 2"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse("f.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, c := range b.Cards {
			if c.PAN == "" {
				t.Fatal("a card without a PAN was accepted")
			}
		}
	})
}
