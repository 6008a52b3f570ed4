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

// Paths are what a gateway mounts the handler on, beside its API: the
// sign-in routes, the account page, the professional space and the JWKS.
func ExamplePaths() {
	for _, p := range web.Paths() {
		fmt.Println(p)
	}
	// Output:
	// /auth/
	// /compte
	// /compte/
	// /pro
	// /pro/
	// /.well-known/jwks.json
}
