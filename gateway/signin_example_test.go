package gateway_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/relais-dev/relais/gateway"
	"github.com/relais-dev/relais/gateway/identity/web"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/vault"
)

// Browser sessions kept in the store: any replica on the same database
// reads what another created, and the provider's access token only until
// it expires.
func ExampleNewStoreSessions() {
	dir, err := os.MkdirTemp("", "relais-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	keys, _ := vault.ParseKeys(vault.GenerateKeySpec("k1"), "")
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: filepath.Join(dir, "relais.db"), Keyring: keys})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}

	sessions := gateway.NewStoreSessions(st, 0)
	now := time.Now()
	err = sessions.Create(ctx, web.Session{
		ID: "the-session-cookie-value-0123456789abcdef", CSRF: "csrf-token", Provider: "franceconnect",
		GivenName: "Zoé", AccessToken: "fc-access-token", AccessTokenExpiry: now.Add(time.Minute),
		Created: now, Expires: now.Add(30 * time.Minute),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := sessions.Get(ctx, "the-session-cookie-value-0123456789abcdef")
	fmt.Println(s.GivenName, s.Provider, s.LiveAccessToken(now) != "", s.LiveAccessToken(now.Add(time.Minute)) != "", err)
	// Output: Zoé franceconnect true false <nil>
}
