package dmp

import "net/http"

// The canonical URLs of the ANS PDSm guide the server follows.
const (
	pdsmGuide            = "https://interop.esante.gouv.fr/ig/fhir/pdsm/ImplementationGuide/ans.fhir.fr.pdsm"
	pdsmManager          = "https://interop.esante.gouv.fr/ig/fhir/pdsm/CapabilityStatement/PDSm-GestionnaireDePartageDeDocuments"
	pdsmDocumentProfile  = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-comprehensive-document-reference"
	pdsmProvideBundle    = "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-comprehensive-provide-document-bundle"
	fhirBinaryDefinition = "http://hl7.org/fhir/StructureDefinition/Binary"
)

// The CapabilityStatement's shapes, in FHIR element order.
type (
	capabilityStatement struct {
		ResourceType        string   `json:"resourceType"`
		ID                  string   `json:"id"`
		Name                string   `json:"name"`
		Title               string   `json:"title"`
		Status              string   `json:"status"`
		Date                string   `json:"date"`
		Publisher           string   `json:"publisher"`
		Description         string   `json:"description"`
		Kind                string   `json:"kind"`
		Instantiates        []string `json:"instantiates"`
		Software            software `json:"software"`
		Implementation      impl     `json:"implementation"`
		FHIRVersion         string   `json:"fhirVersion"`
		Format              []string `json:"format"`
		ImplementationGuide []string `json:"implementationGuide"`
		Rest                []rest   `json:"rest"`
	}
	software struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	impl struct {
		Description string `json:"description"`
		URL         string `json:"url"`
	}
	rest struct {
		Mode          string        `json:"mode"`
		Documentation string        `json:"documentation"`
		Security      security      `json:"security"`
		Resource      []restRes     `json:"resource"`
		Interaction   []interaction `json:"interaction"`
	}
	security struct {
		Cors        bool              `json:"cors"`
		Service     []codeableConcept `json:"service"`
		Description string            `json:"description"`
	}
	restRes struct {
		Type        string        `json:"type"`
		Profile     string        `json:"profile"`
		Interaction []interaction `json:"interaction"`
		SearchParam []searchParam `json:"searchParam,omitempty"`
	}
	interaction struct {
		Code          string `json:"code"`
		Documentation string `json:"documentation,omitempty"`
	}
	searchParam struct {
		Name          string `json:"name"`
		Definition    string `json:"definition"`
		Type          string `json:"type"`
		Documentation string `json:"documentation"`
	}
)

// capabilities answers the FHIR capabilities interaction: what the mock
// implements of the PDSm document sharing manager.
func (s *Server) capabilities(w http.ResponseWriter, r *http.Request) {
	if ferr := acceptFHIR(r); ferr != nil {
		ferr.write(w)
		return
	}
	base := s.baseURL(r)
	writeJSON(w, http.StatusOK, capabilityStatement{
		ResourceType: "CapabilityStatement",
		ID:           "relais-dmp-mock",
		Name:         "RelaisDMPMock",
		Title:        "Relais health record mock (PDSm document recipient and responder)",
		Status:       "active",
		Date:         "2025-06-01",
		Publisher:    "Relais",
		Description:  "Mock of a health record exposing ITI-65, ITI-67 and ITI-68 as profiled by the ANS PDSm guide; JSON only.",
		Kind:         "instance",
		Instantiates: []string{pdsmManager},
		Software:     software{Name: "relais-mock-dmp", Version: "1.0.0"},
		Implementation: impl{
			Description: "Relais mock health record",
			URL:         base,
		},
		FHIRVersion:         "4.0.1",
		Format:              []string{"application/fhir+json", "json"},
		ImplementationGuide: []string{pdsmGuide},
		Rest: []rest{{
			Mode:          "server",
			Documentation: "Document sharing manager: stores, lists and returns the documents of a patient's record.",
			Security: security{
				Cors: false,
				Service: []codeableConcept{{Coding: []coding{{
					System: "http://terminology.hl7.org/CodeSystem/restful-security-service", Code: "OAuth", Display: "OAuth",
				}}}},
				Description: "Bearer token standing in for the Pro Santé Connect access token (designed by Relais).",
			},
			Resource: []restRes{
				{
					Type:        "DocumentReference",
					Profile:     pdsmDocumentProfile,
					Interaction: []interaction{{Code: "search-type", Documentation: "ITI-67 Find Document References"}},
					SearchParam: []searchParam{
						{Name: "patient", Definition: "http://hl7.org/fhir/SearchParameter/clinical-patient", Type: "reference",
							Documentation: "The patient, chained by INS: patient.identifier=<system>|<value>."},
						{Name: "status", Definition: "http://hl7.org/fhir/SearchParameter/DocumentReference-status", Type: "token",
							Documentation: "current, superseded or entered-in-error; comma-separated for several."},
					},
				},
				{
					Type:        "Binary",
					Profile:     fhirBinaryDefinition,
					Interaction: []interaction{{Code: "read", Documentation: "ITI-68 Retrieve Document"}},
				},
			},
			Interaction: []interaction{{Code: "transaction", Documentation: "ITI-65 Provide Document Bundle: " + pdsmProvideBundle}},
		}},
	})
}
