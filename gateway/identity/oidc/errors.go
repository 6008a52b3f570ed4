package oidc

import (
	"errors"
	"fmt"
)

// Code is the stable identifier of a relying-party failure. Codes are part of
// Relais' public error vocabulary (RFC 9457 problem types, journal entries):
// never rename one.
type Code string

// The codes of every failure the relying party reports.
const (
	CodeDiscovery         Code = "oidc_discovery_failed"
	CodeStateMissing      Code = "oidc_state_missing"
	CodeStateMismatch     Code = "oidc_state_mismatch"
	CodeLoginExpired      Code = "oidc_login_expired"
	CodeProviderError     Code = "oidc_provider_error"
	CodeCodeMissing       Code = "oidc_code_missing"
	CodeTokenExchange     Code = "oidc_token_exchange_failed"
	CodeIDTokenMissing    Code = "oidc_id_token_missing"
	CodeMalformedToken    Code = "oidc_malformed_token"
	CodeUnsupportedAlg    Code = "oidc_unsupported_alg"
	CodeBadSignature      Code = "oidc_bad_signature"
	CodeIssuerMismatch    Code = "oidc_issuer_mismatch"
	CodeAudienceMismatch  Code = "oidc_audience_mismatch"
	CodeTokenExpired      Code = "oidc_token_expired"
	CodeIssuedInFuture    Code = "oidc_iat_in_future"
	CodeNonceMismatch     Code = "oidc_nonce_mismatch"
	CodeACRTooLow         Code = "oidc_acr_too_low"
	CodeNotEncrypted      Code = "oidc_not_encrypted"
	CodeDecryption        Code = "oidc_decryption_failed"
	CodeUserinfo          Code = "oidc_userinfo_failed"
	CodeUserinfoNotSigned Code = "oidc_userinfo_not_signed"
	CodeUserinfoSignature Code = "oidc_userinfo_bad_signature"
	CodeSubjectMismatch   Code = "oidc_subject_mismatch"
	CodeSIRETMissing      Code = "oidc_siret_missing"
	CodeLogoutUnsupported Code = "oidc_logout_unsupported"
)

// messages are the plain French sentences shown to the person for each code.
var messages = map[Code]string{
	CodeDiscovery:         "Le service d’identification est momentanément injoignable. Veuillez réessayer plus tard.",
	CodeStateMissing:      "La connexion n’a pas pu être vérifiée. Veuillez recommencer depuis le début.",
	CodeStateMismatch:     "La connexion n’a pas pu être vérifiée. Veuillez recommencer depuis le début.",
	CodeLoginExpired:      "La connexion a pris trop de temps. Veuillez recommencer.",
	CodeProviderError:     "Le service d’identification a refusé la connexion.",
	CodeCodeMissing:       "La réponse du service d’identification est incomplète. Veuillez recommencer.",
	CodeTokenExchange:     "Le service d’identification n’a pas confirmé la connexion. Veuillez recommencer.",
	CodeIDTokenMissing:    "La réponse du service d’identification est incomplète. Veuillez recommencer.",
	CodeMalformedToken:    "La réponse du service d’identification est illisible. Veuillez recommencer.",
	CodeUnsupportedAlg:    "La réponse du service d’identification n’est pas signée comme attendu. La connexion est refusée.",
	CodeBadSignature:      "La signature de la réponse du service d’identification est invalide. La connexion est refusée.",
	CodeIssuerMismatch:    "La réponse ne provient pas du service d’identification attendu. La connexion est refusée.",
	CodeAudienceMismatch:  "La réponse du service d’identification n’était pas destinée à Relais. La connexion est refusée.",
	CodeTokenExpired:      "La réponse du service d’identification a expiré. Veuillez recommencer.",
	CodeIssuedInFuture:    "Les horloges des serveurs ne sont pas synchronisées. Veuillez réessayer dans quelques instants.",
	CodeNonceMismatch:     "La connexion n’a pas pu être vérifiée. Veuillez recommencer depuis le début.",
	CodeACRTooLow:         "Cette démarche demande un niveau d’identification plus élevé. Veuillez vous connecter avec un moyen d’identification plus sûr.",
	CodeNotEncrypted:      "La réponse du service d’identification n’est pas chiffrée comme attendu. La connexion est refusée.",
	CodeDecryption:        "La réponse chiffrée du service d’identification n’a pas pu être lue. La connexion est refusée.",
	CodeUserinfo:          "Vos informations n’ont pas pu être récupérées. Veuillez recommencer.",
	CodeUserinfoNotSigned: "Vos informations ne sont pas signées comme attendu. La connexion est refusée.",
	CodeUserinfoSignature: "La signature de vos informations est invalide. La connexion est refusée.",
	CodeSubjectMismatch:   "Vos informations ne correspondent pas à la personne connectée. La connexion est refusée.",
	CodeSIRETMissing:      "Votre compte professionnel n’indique pas d’établissement (SIRET). Contactez votre administrateur.",
	CodeLogoutUnsupported: "La déconnexion auprès du service d’identification n’est pas disponible.",
}

// Message returns the French sentence shown to the person for c.
func (c Code) Message() string {
	if m, ok := messages[c]; ok {
		return m
	}
	return "La connexion a échoué. Veuillez recommencer."
}

// Error is every failure of the relying party: a stable Code, the French
// Message for the person, and the underlying cause for the logs.
type Error struct {
	Code Code
	// Message is plain French for the person; never holds token material.
	Message string
	// Err is the cause, for operators; may be nil.
	Err error
}

var _ error = (*Error)(nil)

func newError(c Code, err error) *Error {
	return &Error{Code: c, Message: c.Message(), Err: err}
}

func errorf(c Code, format string, args ...any) *Error {
	return newError(c, fmt.Errorf(format, args...))
}

// Error returns the code and the cause.
func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so callers may
// write errors.Is(err, &oidc.Error{Code: oidc.CodeNonceMismatch}).
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code
}

// CodeOf returns the code of err, or "" when err is not a relying-party error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ProviderError is an error the OpenID Provider sent back on the redirect
// (RFC 6749 §4.1.2.1). It is wrapped in an *Error with CodeProviderError whose
// Message is the French sentence for ErrorCode.
type ProviderError struct {
	ErrorCode   string
	Description string
}

func (e *ProviderError) Error() string {
	if e.Description == "" {
		return "provider returned " + e.ErrorCode
	}
	return "provider returned " + e.ErrorCode + ": " + e.Description
}

// providerMessages map the OAuth 2.0 / OIDC redirect error codes to French.
var providerMessages = map[string]string{
	"access_denied":              "Vous avez annulé la connexion.",
	"login_required":             "Vous devez vous identifier pour continuer.",
	"consent_required":           "Votre accord est nécessaire pour continuer.",
	"interaction_required":       "Le service d’identification demande une action de votre part. Veuillez recommencer.",
	"account_selection_required": "Veuillez choisir un compte pour continuer.",
	"invalid_request":            "La demande de connexion est incorrecte. Veuillez recommencer ; si le problème persiste, contactez votre administrateur.",
	"unauthorized_client":        "Relais n’est pas autorisé à utiliser ce service d’identification. Contactez votre administrateur.",
	"unsupported_response_type":  "La demande de connexion est incorrecte. Contactez votre administrateur.",
	"invalid_scope":              "Les informations demandées ne sont pas disponibles auprès de ce service d’identification. Contactez votre administrateur.",
	"server_error":               "Le service d’identification a rencontré une erreur. Veuillez réessayer plus tard.",
	"temporarily_unavailable":    "Le service d’identification est momentanément indisponible. Veuillez réessayer plus tard.",
}

// ProviderMessage returns the French sentence shown to the person for an
// error code the provider sent on the redirect.
func ProviderMessage(errorCode string) string {
	if m, ok := providerMessages[errorCode]; ok {
		return m
	}
	return "Le service d’identification a refusé la connexion. Veuillez recommencer."
}

func providerError(errorCode, description string) *Error {
	return &Error{
		Code:    CodeProviderError,
		Message: ProviderMessage(errorCode),
		Err:     &ProviderError{ErrorCode: errorCode, Description: description},
	}
}
