package browsertest

import "testing"

func TestInOrder(t *testing.T) {
	texts := []string{"in 0200", "fault ✂ cut", "timeout x", "in 0400", "out 0410"}
	if err := InOrder(texts, "0200", "cut", "timeout", "0400", "0410"); err != nil {
		t.Fatal(err)
	}
	if err := InOrder(texts, "0400", "0200"); err == nil {
		t.Fatal("out of order accepted")
	}
	if err := InOrder(texts, "0999"); err == nil {
		t.Fatal("missing item accepted")
	}
}
