package connectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// ReadAnswer reads the answer to a call and returns the body of a success,
// at most limit bytes. The caller still closes the body.
//
// A success is a status of want, or any 2xx when want is empty; another 2xx
// is a Permanent contract error carrying the status. Any other status is
// Classify's *Error, the bounded error body kept. A body that cannot be
// read is classified by ClassifyTransportError; one longer than limit is a
// Permanent "answer_too_large" error carrying the status.
//
// A connector that reads the platform's own error codes classifies a
// failure itself and calls ReadAnswer for the 2xx answers only.
func ReadAnswer(resp *http.Response, op string, now time.Time, limit int64, want ...int) ([]byte, error) {
	success := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if !success {
		return nil, Classify(resp, op, now)
	}
	if len(want) > 0 && !slices.Contains(want, resp.StatusCode) {
		return nil, &Error{Class: Permanent, Op: op + ": contract: unexpected success status", Status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, ClassifyTransportError(op, fmt.Errorf("reading the answer: %w", err))
	}
	if int64(len(body)) > limit {
		return nil, &Error{Class: Permanent, Op: op + ": answer_too_large", Status: resp.StatusCode}
	}
	return body, nil
}

// DecodeAnswer decodes the JSON of a successful answer into v. An answer
// that is not JSON, or is cut, is Retryable: a proxy's page or a cut answer
// is more likely than a change, and the platform deduplicates the retry.
// JSON of the wrong shape is the platform's contract changing: Permanent,
// naming the field, so that operators see it rather than a delivery
// retrying against a platform that changed.
func DecodeAnswer(op string, body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return &Error{Class: Permanent, Op: fmt.Sprintf("%s: contract: field %q is a JSON %s, want %s", op, te.Field, te.Value, te.Type), Err: err}
	}
	return &Error{Class: Retryable, Op: op + ": decoding the answer", Err: err}
}
