package apiparticulier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
)

// inputs is what a query gives the operations, worked out once per Pull.
type inputs struct {
	// accessToken, when set, sends the CAF/MSA operations to their
	// /france_connect routes with it as the bearer.
	accessToken connectors.Secret
	// identity holds the identity parameters of the /identite routes,
	// mapped from the person asked about; identityErr why it could not be.
	identity    url.Values
	identityErr error
	// franceTravailID is the person's France Travail identifier.
	franceTravailID string
}

// inputs maps what the operations of q will need.
func (c *Client) inputs(q *connectors.PullQuery, ops []operation) inputs {
	in := inputs{accessToken: q.AccessToken}
	for _, id := range q.Person.Identifiers {
		if id.System == FranceTravailIDSystem {
			in.franceTravailID = id.Value
			break
		}
	}
	for _, op := range ops {
		if op.route == routeDSS && in.accessToken == "" {
			in.identity, in.identityErr = c.identityParams(&q.Person)
			break
		}
	}
	return in
}

// check reports why op cannot run with these inputs, as the item's error.
func (in *inputs) check(op operation) error {
	switch {
	case op.route == routeDSS && in.accessToken == "" && in.identityErr != nil:
		return &connectors.Error{Class: connectors.Permanent, Outcome: connectors.OutcomeError,
			Op: "checking the query: mapping the person to the identity parameters", Err: in.identityErr}
	case op.route == routeFranceTravail && in.franceTravailID == "":
		return &connectors.Error{Class: connectors.Permanent, Outcome: connectors.OutcomeError,
			Op: "checking the query: no France Travail identifier (a person identifier of system " + FranceTravailIDSystem + ")"}
	}
	return nil
}

// identityQuery is the output of the identity spec
// (mapping/specs/apiparticulier/identite.outbound.yaml): the platform's
// parameters, named as it names them.
type identityQuery struct {
	NomNaissance string   `json:"nomNaissance"`
	NomUsage     string   `json:"nomUsage"`
	Prenoms      []string `json:"prenoms"`
	Annee        int      `json:"anneeDateNaissance"`
	Mois         int      `json:"moisDateNaissance"`
	Jour         int      `json:"jourDateNaissance"`
	Sexe         string   `json:"sexeEtatCivil"`
	CodePays     string   `json:"codeCogInseePaysNaissance"`
	CodeCommune  string   `json:"codeCogInseeCommuneNaissance"`
}

// identityParams maps the person to the identity parameters of the
// /identite routes through the identity spec. The given names go as the
// repeated prenoms[] parameter, as the platform reads an array.
func (c *Client) identityParams(p *mapping.Person) (url.Values, error) {
	raw, err := json.Marshal(struct {
		Person *mapping.Person `json:"person"`
	}{p})
	if err != nil {
		return nil, fmt.Errorf("encoding the person: %w", err)
	}
	res, err := c.plans.identity.Run(raw, engine.RunOptions{})
	if err != nil {
		return nil, err
	}
	var iq identityQuery
	if err := json.Unmarshal(res.Output, &iq); err != nil {
		return nil, fmt.Errorf("decoding the identity parameters: %w", err)
	}
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	setInt := func(k string, n int) {
		if n != 0 {
			v.Set(k, strconv.Itoa(n))
		}
	}
	set("nomNaissance", iq.NomNaissance)
	set("nomUsage", iq.NomUsage)
	v["prenoms[]"] = iq.Prenoms
	setInt("anneeDateNaissance", iq.Annee)
	setInt("moisDateNaissance", iq.Mois)
	setInt("jourDateNaissance", iq.Jour)
	set("sexeEtatCivil", iq.Sexe)
	set("codeCogInseePaysNaissance", iq.CodePays)
	set("codeCogInseeCommuneNaissance", iq.CodeCommune)
	return v, nil
}

// request returns the stack an operation goes through and its request:
// GET, the recipient and the operation's parameters in the query string
// (the platform's design; the stack's logger never prints query strings),
// Cache-Control: no-cache on the CAF/MSA routes only when q asks for fresh
// data.
func (c *Client) request(op operation, q *connectors.PullQuery, in *inputs) (*connectors.Stack, connectors.RequestBuilder) {
	params := url.Values{}
	stack, path := c.stack, op.path
	fc := false
	switch op.route {
	case routeDSS:
		if in.accessToken != "" {
			stack, path, fc = c.fcStack, path+"/france_connect", true
		} else {
			path += "/identite"
			for k, vs := range in.identity {
				params[k] = vs
			}
		}
		if op.monthly && q.Month.Year != 0 {
			params.Set("annee", strconv.Itoa(q.Month.Year))
			if q.Month.Month != 0 {
				params.Set("mois", strconv.Itoa(q.Month.Month))
			}
		}
	case routeFranceTravail:
		params.Set("identifiant", in.franceTravailID)
	}
	params.Set("recipient", q.Recipient)
	target := c.cfg.BaseURL + path + "?" + params.Encode()
	fresh := q.Fresh && op.route == routeDSS
	token := in.accessToken
	return stack, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		if fresh {
			req.Header.Set("Cache-Control", "no-cache")
		}
		if fc {
			// The FranceConnect stack has no credentials of its own.
			req.Header.Set("Authorization", "Bearer "+token.Reveal())
		}
		return req, nil
	}
}
