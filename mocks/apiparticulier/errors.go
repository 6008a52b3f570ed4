package apiparticulier

import (
	"net/http"
	"strings"

	"github.com/relais-dev/relais/mocks/platform"
)

// errorKind names one error answer of the platform. Several kinds may share
// a code (37003 comes in two wordings).
type errorKind int

// The platform's errors. Titles and details are the platform's own French
// sentences; the codes marked "designed" are Relais' (see the contract).
const (
	errInsufficientPrivileges errorKind = iota // 403 00100
	errInvalidToken                            // 401 00101
	errExpiredToken                            // 401 00103
	errBlacklistedToken                        // 401 00105
	errMissingRecipient                        // 422 00203
	errInvalidRecipient                        // 422 00210
	errCivility                                // 422 00366
	errMissingIdentifiant                      // 422 00380
	errConflict                                // 409 00015
	errTooManyRequests                         // 429 00429
	errInternal                                // 500 00500 (designed)
	errUnknownRoute                            // 404 00404 (designed)
	errMethod                                  // 405 00405 (designed)
	errDossierAbsentCNAV                       // 404 37003, quotient familial wording
	errDossierInexistant                       // 404 37003, benefits wording
	errDossierAbsentCNAF                       // 404 23003
	errDossierAbsentMSA                        // 404 10003
	errDossierAbsentRNCPS                      // 404 40003
	errProviderUnavailable                     // 504 37001 (503 when the platform is down: designed)
	errProviderTimeout                         // 504 37002
	errProviderRateLimited                     // 504 37008
	errProviderUnknown                         // 502 37999
	errFTUnavailable                           // 504 24001
	errFTTimeout                               // 504 24002
	errFTNotFound                              // 404 24003
	errFTUnknown                               // 502 24999
)

// apiError is one element of the platform's `errors` array.
type apiError struct {
	Code   string            `json:"code"`
	Title  string            `json:"title"`
	Detail string            `json:"detail"`
	Source *errorSource      `json:"source"`
	Meta   map[string]string `json:"meta"`
}

// errorSource names the parameter at fault.
type errorSource struct {
	Parameter string `json:"parameter"`
}

// errorBody is the platform's error body.
type errorBody struct {
	Errors []apiError `json:"errors"`
}

// Providers, as the platform names them in meta.provider.
const (
	providerCNAV          = "CNAV"
	providerCNAF          = "CNAF"
	providerMSA           = "MSA"
	providerRNCPS         = "RNCPS"
	providerFranceTravail = "France Travail"
)

// definition returns the status and body element of k.
func (k errorKind) definition() (int, apiError) {
	token := &errorSource{Parameter: "token"}
	recipient := &errorSource{Parameter: "recipient"}
	meta := map[string]string{}
	provider := func(p string) map[string]string { return map[string]string{"provider": p} }
	const (
		nonTraitable     = "Entité non traitable"
		inconnueTitle    = "Erreur inconnue du fournisseur de données"
		inconnueDetail   = "La réponse retournée par le fournisseur de données est invalide et inconnue de notre service. L'équipe technique a été notifiée de cette erreur pour investigation."
		indispoTitle     = "Service non disponible"
		indispoDetail    = "Service du fournisseur de données temporairement indisponible ou en maintenance."
		horsDelaiTitle   = "Intermédiaire hors-délai"
		horsDelaiDetail  = "Temps d’attente d’une réponse du fournisseur de données écoulé."
		entiteNonTrouvee = "Entité non trouvée"
	)
	switch k {
	case errInsufficientPrivileges:
		return http.StatusForbidden, apiError{"00100", "Privilèges insuffisants", "Votre token est valide mais vos privilèges sont insuffisants. Listez vos privilèges sur /api/introspect", token, meta}
	case errInvalidToken:
		return http.StatusUnauthorized, apiError{"00101", "Interdit", "Votre token n'est pas valide ou n'est pas renseigné", token, meta}
	case errExpiredToken:
		return http.StatusUnauthorized, apiError{"00103", "Jeton expiré", "Votre token est expiré. Vous devez refaire une demande", token, meta}
	case errBlacklistedToken:
		return http.StatusUnauthorized, apiError{"00105", "Jeton sur liste noire", "Votre jeton est sur liste noire, celui-ci a certainement été divulgué sur un canal non-sécurisé. Vous pouvez trouver un jeton valide sur votre espace personnel: https://entreprise.api.gouv.fr/compte", token, meta}
	case errMissingRecipient:
		return http.StatusUnprocessableEntity, apiError{"00203", nonTraitable, "Le paramètre recipient est obligatoire", recipient, meta}
	case errInvalidRecipient:
		return http.StatusUnprocessableEntity, apiError{"00210", nonTraitable, "Le paramètre recipient n'est pas un siret valide", recipient, meta}
	case errCivility:
		return http.StatusUnprocessableEntity, apiError{"00366", nonTraitable, "Un ou plusieurs paramètres de civilité ne sont pas correctement formatés", nil, meta}
	case errMissingIdentifiant:
		return http.StatusUnprocessableEntity, apiError{"00380", nonTraitable, "L'identifiant est manquant", nil, meta}
	case errConflict:
		return http.StatusConflict, apiError{"00015", "Conflit", "Une requête associé à votre jeton est déjà en cours de traitement pour ces paramètres. Veuillez attendre la fin du traitement avant d'effectuer une nouvelle requête.", nil, meta}
	case errTooManyRequests:
		return http.StatusTooManyRequests, apiError{"00429", "Trop de requêtes", "Vous avez effectué trop de requêtes", nil, meta}
	case errUnknownRoute:
		return http.StatusNotFound, apiError{"00404", "Route inconnue", "Aucune route de l'API ne correspond à ce chemin.", nil, meta}
	case errMethod:
		return http.StatusMethodNotAllowed, apiError{"00405", "Méthode non autorisée", "Cette route n'accepte pas cette méthode HTTP.", nil, meta}
	case errDossierAbsentCNAV:
		return http.StatusNotFound, apiError{"37003", "Dossier allocataire absent CNAV", "Le dossier allocataire n'a pas été trouvé auprès de la CNAV.", nil, provider(providerCNAV)}
	case errDossierInexistant:
		return http.StatusNotFound, apiError{"37003", entiteNonTrouvee, "Dossier allocataire inexistant. Le document ne peut être édité.", nil, provider(providerCNAV)}
	case errDossierAbsentCNAF:
		return http.StatusNotFound, apiError{"23003", "Dossier allocataire absent CNAF", "Le dossier allocataire n'a pas été trouvé auprès de la CNAF.", nil, provider(providerCNAF)}
	case errDossierAbsentMSA:
		return http.StatusNotFound, apiError{"10003", "Dossier allocataire absent MSA", "Le dossier allocataire n'a pas été trouvé auprès de la MSA.", nil, provider(providerMSA)}
	case errDossierAbsentRNCPS:
		return http.StatusNotFound, apiError{"40003", "Dossier allocataire absent RNCPS", "Le dossier allocataire n'a pas été trouvé auprès du RNCPS.", nil, provider(providerRNCPS)}
	case errProviderUnavailable:
		return http.StatusGatewayTimeout, apiError{"37001", indispoTitle, indispoDetail, nil, provider(providerCNAV)}
	case errProviderTimeout:
		return http.StatusGatewayTimeout, apiError{"37002", horsDelaiTitle, horsDelaiDetail, nil, provider(providerCNAV)}
	case errProviderRateLimited:
		return http.StatusGatewayTimeout, apiError{"37008", "Erreur auprès du fournisseur de données : trop de requêtes", "Erreur de fournisseur de donnée : Trop de requêtes effectuées, veuillez réessayer plus tard.", nil, provider(providerCNAV)}
	case errProviderUnknown:
		return http.StatusBadGateway, apiError{"37999", inconnueTitle, inconnueDetail, nil, provider(providerCNAV)}
	case errFTUnavailable:
		return http.StatusGatewayTimeout, apiError{"24001", indispoTitle, indispoDetail, nil, provider(providerFranceTravail)}
	case errFTTimeout:
		return http.StatusGatewayTimeout, apiError{"24002", horsDelaiTitle, horsDelaiDetail, nil, provider(providerFranceTravail)}
	case errFTNotFound:
		return http.StatusNotFound, apiError{"24003", entiteNonTrouvee, "Aucune situation France Travail n'a pu être trouvée avec les critères de recherche fournis.", nil, provider(providerFranceTravail)}
	case errFTUnknown:
		return http.StatusBadGateway, apiError{"24999", inconnueTitle, inconnueDetail, nil, provider(providerFranceTravail)}
	default: // errInternal
		return http.StatusInternalServerError, apiError{"00500", "Erreur interne", "Une erreur interne est survenue. L'équipe technique a été notifiée.", nil, meta}
	}
}

// writeError answers k. status, when not zero, replaces the kind's own
// status (a provider error answered 503 during an outage); source, when not
// empty, names the parameter at fault.
func writeError(w http.ResponseWriter, k errorKind, status int, source string) {
	st, e := k.definition()
	if status != 0 {
		st = status
	}
	if source != "" {
		e.Source = &errorSource{Parameter: source}
	}
	platform.WriteJSON(w, st, errorBody{Errors: []apiError{e}})
}

// isFranceTravail reports whether an operation reads France Travail (its
// errors are 24xxx) rather than the CAF/MSA (37xxx).
func isFranceTravail(operationID string) bool {
	return strings.HasPrefix(operationID, "france_travail.")
}

// compile-time check: writeProblem is the runtime's error writer.
var _ platform.ErrorWriter = (*Server)(nil).writeProblem

// writeProblem is the mock's platform.ErrorWriter: the runtime's problems in
// the platform's error format.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, p platform.Problem) {
	ft := isFranceTravail(p.OperationID)
	switch p.Kind {
	case platform.KindInvalidRequest:
		writeError(w, s.invalidRequestKind(r, p), 0, "")
	case platform.KindUnauthorized:
		writeError(w, s.tokenErrorKind(r, p.OperationID), 0, "")
	case platform.KindForbidden:
		writeError(w, errInsufficientPrivileges, 0, "")
	case platform.KindRateLimited:
		writeError(w, errTooManyRequests, 0, "")
	case platform.KindConflict:
		writeError(w, errConflict, 0, "")
	case platform.KindNotFound:
		writeError(w, errUnknownRoute, 0, "")
	case platform.KindMethod:
		writeError(w, errMethod, 0, "")
	default: // injected errors and outages
		writeError(w, statusKind(p.Status, ft), p.Status, "")
	}
}

// invalidRequestKind maps a request the contract refuses to the platform's
// 422 codes.
func (s *Server) invalidRequestKind(r *http.Request, p platform.Problem) errorKind {
	switch {
	case p.Parameter == "recipient" && !r.URL.Query().Has("recipient"):
		return errMissingRecipient
	case p.Parameter == "recipient":
		return errInvalidRecipient
	case isFranceTravail(p.OperationID):
		return errMissingIdentifiant
	default:
		return errCivility
	}
}

// statusKind is the error an injected status stands for.
func statusKind(status int, franceTravail bool) errorKind {
	switch {
	case status == http.StatusTooManyRequests:
		return errTooManyRequests
	case status == http.StatusBadGateway && franceTravail:
		return errFTUnknown
	case status == http.StatusBadGateway:
		return errProviderUnknown
	case (status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout) && franceTravail:
		if status == http.StatusGatewayTimeout {
			return errFTTimeout
		}
		return errFTUnavailable
	case status == http.StatusGatewayTimeout:
		return errProviderTimeout
	case status == http.StatusServiceUnavailable:
		return errProviderUnavailable
	case status == http.StatusNotFound && franceTravail:
		return errFTNotFound
	case status == http.StatusNotFound:
		return errDossierInexistant
	case status == http.StatusUnauthorized:
		return errInvalidToken
	case status == http.StatusForbidden:
		return errInsufficientPrivileges
	case status == http.StatusConflict:
		return errConflict
	case status == http.StatusUnprocessableEntity:
		return errCivility
	default:
		return errInternal
	}
}
