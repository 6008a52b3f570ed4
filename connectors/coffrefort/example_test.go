package coffrefort_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http/httptest"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/mapping"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
)

// Deposit a shared document in a beneficiary's safe (here the mock safe).
func ExampleNew() {
	srv := httptest.NewServer(mockcoffrefort.New(mockcoffrefort.Options{}))
	defer srv.Close()

	safe, err := coffrefort.New("coffrefort", coffrefort.Config{
		BaseURL:      srv.URL,
		ClientID:     "relais-sandbox",
		ClientSecret: connectors.Secret("relais-sandbox-secret"),
	}, connectors.Deps{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer safe.CloseIdleConnections()

	content := []byte("%PDF-1.7 ...")
	sum := sha256.Sum256(content)
	receipt, err := safe.Deliver(context.Background(), &connectors.Delivery{
		ID:             "dlv-42",
		IdempotencyKey: "dlv-42",
		Attempt:        1,
		Document: &connectors.DocumentDelivery{
			DocumentDeposit: mapping.DocumentDeposit{
				Beneficiary: mapping.Beneficiary{DistantID: "ESMS-1", FirstName: "Zoé", LastName: "Martin", BirthDate: "1990-01-31"},
				Document: mapping.Document{
					Kind: "attestation", Title: "Attestation", FileName: "attestation.pdf", MediaType: "application/pdf",
					Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Visibility: mapping.VisibilityShared,
				},
			},
			Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil },
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("document", receipt.RemoteID, "breaker", safe.Status().Breaker)
	// Output: document 1 breaker closed
}
