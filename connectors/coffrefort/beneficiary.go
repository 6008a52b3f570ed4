package coffrefort

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/relais-dev/relais/connectors"
)

// beneficiaryID returns the safe's id of the delivery's beneficiary,
// creating the beneficiary if the safe does not know it, and reports
// whether it came from the cache.
func (c *Client) beneficiaryID(ctx context.Context, d *connectors.Delivery) (string, bool, error) {
	distantID := d.Document.Beneficiary.DistantID
	if id, ok := c.cache.get(distantID); ok {
		return id, true, nil
	}
	id, found, err := c.findBeneficiary(ctx, distantID)
	if err != nil {
		return "", false, err
	}
	if !found {
		if id, err = c.createBeneficiary(ctx, d); err != nil {
			return "", false, err
		}
	}
	c.cache.put(distantID, id)
	return id, false, nil
}

// findBeneficiary looks the beneficiary up by distant_id. Only a
// beneficiary linked to that distant_id is taken: were the safe to ignore
// the filter, the first beneficiary listed would be someone else.
func (c *Client) findBeneficiary(ctx context.Context, distantID string) (string, bool, error) {
	const op = "finding beneficiary"
	u := c.cfg.BaseURL + "/api/v3/beneficiaries?distantId=" + url.QueryEscape(distantID)
	_, body, err := c.send(ctx, op, request(http.MethodGet, u, nil, ""))
	if err != nil {
		return "", false, err
	}
	var found []beneficiary
	if err := connectors.DecodeAnswer(op, body, &found); err != nil {
		return "", false, err
	}
	for i := range found {
		if found[i].ID != "" && found[i].holds(distantID) {
			return string(found[i].ID), true, nil
		}
	}
	return "", false, nil
}

// createBeneficiary creates the beneficiary. A 409 means another call
// created it first: the problem body's existing_id names it.
func (c *Client) createBeneficiary(ctx context.Context, d *connectors.Delivery) (string, error) {
	const op = "creating beneficiary"
	b := d.Document.Beneficiary
	body, err := json.Marshal(beneficiaryRequest{
		BirthDate: b.BirthDate,
		FirstName: b.FirstName,
		LastName:  b.LastName,
		Email:     b.Email,
		Phone:     b.Phone,
		DistantID: b.DistantID,
	})
	if err != nil {
		return "", fmt.Errorf("%s: encoding: %w", op, err)
	}
	_, answer, err := c.send(ctx, op, request(http.MethodPost, c.cfg.BaseURL+"/api/v3/beneficiaries", body, d.IdempotencyKey+":beneficiary"))
	if ce, ok := errors.AsType[*connectors.Error](err); ok && ce.Status == http.StatusConflict {
		var cf conflict
		if json.Unmarshal(ce.Body, &cf) == nil && cf.ExistingID != "" {
			return string(cf.ExistingID), nil
		}
		return "", err
	}
	if err != nil {
		return "", err
	}
	var created beneficiary
	if err := connectors.DecodeAnswer(op, answer, &created); err != nil {
		return "", err
	}
	if created.ID == "" {
		return "", &connectors.Error{Class: connectors.Retryable, Op: op + ": the answer has no id"}
	}
	return string(created.ID), nil
}

// staleBeneficiary reports whether an upload failure may come from a
// beneficiary id that no longer exists.
func staleBeneficiary(err error) bool {
	ce, ok := errors.AsType[*connectors.Error](err)
	return ok && (ce.Status == http.StatusNotFound || ce.Status == http.StatusUnprocessableEntity)
}
