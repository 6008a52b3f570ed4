package web_test

import (
	"fmt"

	"github.com/relais-dev/relais/gateway/identity/web"
)

func ExampleLocalPath() {
	for _, raw := range []string{"/compte?onglet=1", "//evil.example/compte", "https://evil.example/"} {
		p, ok := web.LocalPath(raw)
		fmt.Printf("%q %v\n", p, ok)
	}
	// Output:
	// "/compte?onglet=1" true
	// "" false
	// "" false
}
