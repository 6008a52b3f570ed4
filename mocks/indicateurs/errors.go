package indicateurs

import "github.com/relais-dev/relais/mocks/platform"

// problems writes the endpoint's problem details: the runtime's codes and
// the endpoint's own, with their titles and types. Read-only.
var problems = platform.ProblemWriter{
	Codes: map[string]platform.ProblemCode{
		"REPORT_NOT_FOUND":    {Title: "Not found", Slug: "not-found"},
		"VERSION_CONFLICT":    {Title: "Version conflict", Slug: "version-conflict"},
		"OUTDATED_VERSION":    {Title: "Outdated version", Slug: "outdated-version"},
		"INVALID_FINESS":      {Title: "Invalid FINESS", Slug: "invalid-finess"},
		"FINESS_MISMATCH":     {Title: "FINESS mismatch", Slug: "finess-mismatch"},
		"PERIOD_OUTSIDE_YEAR": {Title: "Period outside the year", Slug: "period-outside-year"},
	},
	Unauthorized: "La clé d'API est absente ou inconnue.",
}
