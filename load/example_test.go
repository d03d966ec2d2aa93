package load_test

import (
	"context"
	"fmt"
	"time"

	"github.com/posim/posim/acquirer"
	"github.com/posim/posim/load"
)

// Push sales from eight terminals at an acquirer for half a second and read
// what came back.
func ExampleRun() {
	a, err := acquirer.New()
	if err != nil {
		panic(err)
	}
	if err := a.Listen("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer a.Close()

	mix, _ := load.ParseMix("sale=9,decline=1")
	res, err := load.Run(context.Background(), load.Options{Target: a.Addr(), Terminals: 8, Mix: mix}, 500*time.Millisecond)
	if err != nil {
		panic(err)
	}
	fmt.Println("answered:", res.Responses > 0 && res.Responses == res.Codes["00"]+res.Codes["51"])
	fmt.Println("errors:", load.FormatCounts(res.Errors))
	fmt.Println("p50 <= p99:", res.Latency.P50 <= res.Latency.P99)
	// Output:
	// answered: true
	// errors: none
	// p50 <= p99: true
}
