package coffrefort

import (
	"fmt"
	"strings"
)

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
