package browsertest

import (
	"fmt"
	"strings"
)

// InOrder checks that each wanted fragment appears in texts, each after the
// previous one, and names the first that does not.
func InOrder(texts []string, want ...string) error {
	i := 0
	for _, w := range want {
		for i < len(texts) && !strings.Contains(texts[i], w) {
			i++
		}
		if i == len(texts) {
			return fmt.Errorf("%q not found after the earlier items in %q", w, texts)
		}
		i++
	}
	return nil
}
