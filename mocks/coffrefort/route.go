package coffrefort

import (
	"fmt"
	"strings"
)

// routeID indexes routeTable.
type routeID uint8

const (
	routeToken routeID = iota
	routeBeneficiariesSearch
	routeBeneficiariesCreate
	routeBeneficiariesExternalLink
	routeDocumentsCreate
	routeDocumentsList
	routeDocumentsGet
	routeDocumentsToggleVisibility
	// routeUnknown is any other /api path or method; it must stay last
	// before numRoutes.
	routeUnknown
	numRoutes
)

// route is one operation of the API.
type route struct {
	name, method, path string
	// scope is the token scope the operation needs; 0 means no token
	// (the token endpoint itself).
	scope scope
	// idempotent routes honour the Idempotency-Key header.
	idempotent bool
	handle     func(*Server, *call) reply
}

// routeTable is read-only after package initialisation.
var routeTable = [numRoutes]route{
	routeToken:                     {name: "token", method: "POST", path: "/api/token", handle: (*Server).token},
	routeBeneficiariesSearch:       {name: "beneficiaries.search", method: "GET", path: "/api/v3/beneficiaries", scope: scopeBeneficiariesRead, handle: (*Server).searchBeneficiaries},
	routeBeneficiariesCreate:       {name: "beneficiaries.create", method: "POST", path: "/api/v3/beneficiaries", scope: scopeBeneficiariesCreate, idempotent: true, handle: (*Server).createBeneficiary},
	routeBeneficiariesExternalLink: {name: "beneficiaries.external_link", method: "PATCH", path: "/api/v3/beneficiaries/{id}/add-external-link", scope: scopeBeneficiariesUpdate, handle: (*Server).addExternalLink},
	routeDocumentsCreate:           {name: "documents.create", method: "POST", path: "/api/v3/documents", scope: scopeDocumentsCreate, idempotent: true, handle: (*Server).createDocument},
	routeDocumentsList:             {name: "documents.list", method: "GET", path: "/api/v3/beneficiaries/{id}/documents", scope: scopeDocumentsRead, handle: (*Server).listDocuments},
	routeDocumentsGet:              {name: "documents.get", method: "GET", path: "/api/v3/documents/{id}", scope: scopeDocumentsRead, handle: (*Server).getDocument},
	routeDocumentsToggleVisibility: {name: "documents.toggle_visibility", method: "PATCH", path: "/api/v3/documents/{id}/toggle-visibility", scope: scopeDocumentsUpdate, handle: (*Server).toggleVisibility},
	routeUnknown:                   {name: "unknown"},
}

// RouteNames returns the stable route names used in LogEntry.Route,
// Stats.ByRoute and Faults.Routes, "unknown" last.
func RouteNames() []string {
	out := make([]string, 0, numRoutes)
	for i := range routeTable {
		out = append(out, routeTable[i].name)
	}
	return out
}

func routeByName(name string) (routeID, bool) {
	for i := range routeTable {
		if routeTable[i].name == name {
			return routeID(i), true
		}
	}
	return 0, false
}

// scope is a set of OAuth2 scopes, one bit each.
type scope uint16

const (
	scopeBeneficiariesRead scope = 1 << iota
	scopeBeneficiariesCreate
	scopeBeneficiariesUpdate
	scopeDocumentsRead
	scopeDocumentsCreate
	scopeDocumentsUpdate
	scopeCenters
	scopePros
	numScopes = iota
)

var scopeNames = [numScopes]string{
	"beneficiaries_read", "beneficiaries_create", "beneficiaries_update",
	"documents_read", "documents_create", "documents_update",
	"centers", "pros",
}

const allScopes scope = 1<<numScopes - 1

// parseScope reads a space-separated scope list; empty means every scope.
func parseScope(s string) (scope, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return allScopes, nil
	}
	var out scope
next:
	for _, f := range fields {
		for i, name := range scopeNames {
			if f == name {
				out |= 1 << i
				continue next
			}
		}
		return 0, fmt.Errorf("parsing scope: unknown scope %q", f)
	}
	return out, nil
}

// String lists the scopes of s, space-separated, in a fixed order.
func (s scope) String() string {
	var b strings.Builder
	for i, name := range scopeNames {
		if s&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(name)
		}
	}
	return b.String()
}
