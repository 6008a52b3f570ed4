package mandate

import "errors"

// Sentinel errors callers test with errors.Is.
var (
	// ErrNotFound: no such mandate (or consent) for this tenant.
	ErrNotFound = errors.New("mandate: not found")
	// ErrVersionConflict: the mandate changed since it was read. The
	// service retries; callers of the store see it.
	ErrVersionConflict = errors.New("mandate: changed concurrently")

	// ErrExpired: the mandate has passed its expiry.
	ErrExpired = errors.New("mandate: expired")
	// ErrRevoked: the mandate was revoked.
	ErrRevoked = errors.New("mandate: revoked")
	// ErrOtherOrganisation: the mandate is held by another tenant.
	ErrOtherOrganisation = errors.New("mandate: held by another organisation")
	// ErrDemarcheNotCovered: the mandate does not cover the démarche.
	ErrDemarcheNotCovered = errors.New("mandate: démarche not covered")
	// ErrNotActive: the mandate is a draft still waiting for its SMS code.
	ErrNotActive = errors.New("mandate: not active")
	// ErrNotDraft: only a draft mandate can be confirmed.
	ErrNotDraft = errors.New("mandate: not a draft")
	// ErrInvalidCode: the SMS code does not match.
	ErrInvalidCode = errors.New("mandate: invalid confirmation code")
	// ErrCodeExpired: the SMS code is past its lifetime or its attempts.
	ErrCodeExpired = errors.New("mandate: confirmation code expired")
)

// Stable codes of a refused use or change, as the API and the journal show
// them.
const (
	CodeExpired            = "mandate_expired"
	CodeRevoked            = "mandate_revoked"
	CodeOtherOrganisation  = "mandate_other_organisation"
	CodeDemarcheNotCovered = "mandate_demarche_not_covered"
	CodeNotActive          = "mandate_not_active"
	CodeNotDraft           = "mandate_not_draft"
	CodeInvalidCode        = "invalid_confirmation_code"
	CodeCodeExpired        = "confirmation_code_expired"
)

// sentinel is the sentinel error of a code.
func sentinel(code string) error {
	switch code {
	case CodeExpired:
		return ErrExpired
	case CodeRevoked:
		return ErrRevoked
	case CodeOtherOrganisation:
		return ErrOtherOrganisation
	case CodeDemarcheNotCovered:
		return ErrDemarcheNotCovered
	case CodeNotActive:
		return ErrNotActive
	case CodeNotDraft:
		return ErrNotDraft
	case CodeInvalidCode:
		return ErrInvalidCode
	case CodeCodeExpired:
		return ErrCodeExpired
	}
	return nil
}

// RefusedError is a use or a change the mandate does not allow. It
// matches its sentinel with errors.Is: a RefusedError with Code
// mandate_expired is ErrExpired.
type RefusedError struct {
	// Code is one of the Code constants.
	Code      string
	MandateID string
	// Demarche is the démarche asked for, for a refused use.
	Demarche Demarche
}

func (e *RefusedError) Error() string {
	s := "mandate " + e.MandateID + ": refused: " + e.Code
	if e.Demarche != "" {
		s += " (démarche " + string(e.Demarche) + ")"
	}
	return s
}

// Is matches the sentinel of e's code.
func (e *RefusedError) Is(target error) bool { return target != nil && sentinel(e.Code) == target }

// Explanation explains the refusal to the staff, in French: the text the
// API's problem detail and the professional space both show.
func (e *RefusedError) Explanation() string {
	switch e.Code {
	case CodeExpired:
		return "Ce mandat a expiré : renouvelez-le avec la personne."
	case CodeRevoked:
		return "Ce mandat a été révoqué : créez-en un nouveau avec la personne."
	case CodeOtherOrganisation:
		return "Ce mandat est détenu par une autre structure."
	case CodeDemarcheNotCovered:
		return "Ce mandat ne couvre pas cette démarche."
	case CodeNotActive:
		return "Ce mandat attend encore le code reçu par SMS par la personne."
	case CodeNotDraft:
		return "Ce mandat est déjà confirmé."
	case CodeInvalidCode:
		return "Ce code ne correspond pas. Vérifiez le SMS reçu par la personne et réessayez."
	case CodeCodeExpired:
		return "Ce code n'est plus valable (délai dépassé ou trop d'essais) : créez un nouveau mandat."
	}
	return "Ce mandat ne permet pas cette opération."
}

func refused(code string, m Mandate, d Demarche) *RefusedError {
	return &RefusedError{Code: code, MandateID: m.ID, Demarche: d}
}
