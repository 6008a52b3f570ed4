package api

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/relais-dev/relais/gateway/delivery"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
)

// SubmissionRequest is the body of POST /v1/submissions.
type SubmissionRequest struct {
	// Destinations name the connectors to deliver to.
	Destinations []string `json:"destinations"`
	// DocumentDeposit is a document for a beneficiary of a digital safe.
	DocumentDeposit *DocumentDepositRequest `json:"document_deposit"`
}

// DocumentDepositRequest is a document deposit with its content.
type DocumentDepositRequest struct {
	Beneficiary mapping.Beneficiary `json:"beneficiary"`
	Document    DocumentRequest     `json:"document"`
	// Content is the document, base64 (standard alphabet, padded).
	Content []byte `json:"content"`
}

// DocumentRequest describes the document. Size and SHA-256 are computed
// by Relais; a client may send its SHA-256 to have it checked.
type DocumentRequest struct {
	Kind       string             `json:"kind"`
	Title      string             `json:"title"`
	FileName   string             `json:"file_name"`
	MediaType  string             `json:"media_type"`
	IssueDate  string             `json:"issue_date,omitempty"`
	Visibility mapping.Visibility `json:"visibility"`
	SHA256     string             `json:"sha256,omitempty"`
}

// DecodeSubmission reads a submission body, at most limit bytes, and
// returns it with the SHA-256 of the raw body. Decoding is strict: member
// names match exactly, an unknown or duplicate member is an error, and so
// is anything after the object. Errors are *Error values naming the field
// by its path (document_deposit.beneficiary.birth_date, destinations[0]),
// or the byte offset of a syntax error.
func DecodeSubmission(body io.Reader, limit int64) (*SubmissionRequest, [32]byte, error) {
	h := sha256.New()
	lr := &limitedReader{r: body, n: limit, limit: limit, blank: true}
	var req *SubmissionRequest
	if err := json.UnmarshalRead(io.TeeReader(lr, h), &req, json.RejectUnknownMembers(true)); err != nil {
		return nil, [32]byte{}, decodeError(err, lr)
	}
	if req == nil {
		return nil, [32]byte{}, &Error{Status: http.StatusBadRequest, Code: "invalid_type", Title: "Wrong type", Field: "(body)",
			Detail: "The body must be a JSON object, not null."}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return req, sum, nil
}

// limitedReader is io.LimitReader that remembers it hit its limit.
type limitedReader struct {
	r        io.Reader
	n, limit int64
	exceeded bool
	// blank stays true while only JSON whitespace has been read.
	blank bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe one byte to tell "exactly at the limit" from "over it".
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.exceeded = true
			return 0, errBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.blank && len(bytes.TrimLeft(p[:n], " \t\r\n")) > 0 {
		l.blank = false
	}
	return n, err
}

var errBodyTooLarge = errors.New("request body too large")

func tooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Title: "Body too large",
		Detail: fmt.Sprintf("The body must be at most %d bytes.", limit)}
}

// fieldPath turns a JSON Pointer into the field path the API reports:
// /document_deposit/beneficiary/birth_date → document_deposit.beneficiary.birth_date,
// /destinations/0 → destinations[0].
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return "(body)"
	}
	return b.String()
}

func decodeError(err error, lr *limitedReader) error {
	var (
		syntax   *jsontext.SyntacticError
		semantic *json.SemanticError
	)
	switch {
	case lr.exceeded || errors.Is(err, errBodyTooLarge):
		return tooLarge(lr.limit)
	case errors.Is(err, io.ErrUnexpectedEOF) && lr.blank:
		return &Error{Status: http.StatusBadRequest, Code: "empty_body", Title: "Malformed JSON", Detail: "The body is empty; send a JSON object."}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Title: "Malformed JSON", Detail: "The JSON body ends too early."}
	case errors.As(err, &syntax) && errors.Is(syntax.Err, jsontext.ErrDuplicateName):
		field := fieldPath(syntax.JSONPointer)
		return &Error{Status: http.StatusBadRequest, Code: "duplicate_field", Title: "Duplicate field", Field: field,
			Detail: fmt.Sprintf("The field %s appears twice.", field), Offset: syntax.ByteOffset}
	case errors.As(err, &syntax) && syntax.Err != nil && strings.Contains(syntax.Err.Error(), "after top-level value"):
		return &Error{Status: http.StatusBadRequest, Code: "trailing_data", Title: "Malformed JSON",
			Detail: "The body must hold exactly one JSON object.", Offset: syntax.ByteOffset}
	case errors.As(err, &syntax):
		detail := "The body is not valid JSON"
		if syntax.Err != nil {
			detail += ": " + syntax.Err.Error()
		}
		return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Title: "Malformed JSON",
			Detail: detail + ".", Offset: syntax.ByteOffset}
	case errors.As(err, &semantic) && errors.Is(semantic.Err, json.ErrUnknownName):
		field := fieldPath(semantic.JSONPointer)
		return &Error{Status: http.StatusBadRequest, Code: "unknown_field", Title: "Unknown field", Field: field,
			Detail: fmt.Sprintf("The field %s is not part of the API (names are case-sensitive).", field)}
	case errors.As(err, &semantic):
		field := fieldPath(semantic.JSONPointer)
		if field == "document_deposit.content" && semantic.JSONKind == '"' {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_base64", Title: "Wrong type", Field: field,
				Detail: "document_deposit.content must be a string of standard, padded base64."}
		}
		want := "another type"
		if semantic.GoType != nil {
			want = jsonTypeName(semantic.GoType.String())
		}
		got := semantic.JSONKind.String()
		return &Error{Status: http.StatusBadRequest, Code: "invalid_type", Title: "Wrong type", Field: field,
			Detail: fmt.Sprintf("%s must be %s, not a JSON %s.", field, want, got), Offset: semantic.ByteOffset}
	default:
		return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Title: "Malformed JSON", Detail: "The body could not be read as JSON.", Err: err}
	}
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string", goType == "mapping.Visibility":
		return "a string"
	case strings.HasPrefix(goType, "[]uint8"):
		return "a base64 string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "a boolean"
	default:
		return "an object"
	}
}

const maxIdempotencyKey = 255

func checkIdempotencyKey(key string) error {
	if key == "" {
		return &Error{Status: http.StatusBadRequest, Code: "idempotency_key_required", Title: "Idempotency-Key required",
			Field: "Idempotency-Key", Detail: "Send an Idempotency-Key header, unique per submission (a UUID, say)."}
	}
	if len(key) > maxIdempotencyKey {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_idempotency_key", Title: "Invalid Idempotency-Key",
			Field: "Idempotency-Key", Detail: fmt.Sprintf("The Idempotency-Key must be at most %d characters.", maxIdempotencyKey)}
	}
	for _, c := range key {
		if c < 0x21 || c > 0x7e {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_idempotency_key", Title: "Invalid Idempotency-Key",
				Field: "Idempotency-Key", Detail: "The Idempotency-Key must be printable ASCII without spaces."}
		}
	}
	return nil
}

// Body encodings of POST /v1/submissions.
const (
	encodingJSON      = "json"
	encodingMultipart = "multipart"
)

// bodyEncoding tells JSON (the document in base64 inside) from multipart
// (a "submission" JSON part, then the document streamed as "content").
func bodyEncoding(r *http.Request) (encoding, boundary string, err error) {
	mt, params, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case perr == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")):
		return encodingJSON, "", nil
	case perr == nil && mt == "multipart/form-data" && params["boundary"] != "":
		return encodingMultipart, params["boundary"], nil
	}
	return "", "", &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Title: "Unsupported media type",
		Detail: "Send the body as application/json, or as multipart/form-data with a boundary (a \"submission\" part, then a \"content\" part)."}
}

// submissionPartLimit bounds the JSON part of a multipart submission.
const submissionPartLimit = 64 << 10

// content is a document's content as received: in chunks of at most
// store.ChunkSize, with its size and SHA-256.
type content struct {
	chunks [][]byte
	size   int64
	sum    [32]byte
}

func contentOf(b []byte) content {
	return content{chunks: chunk(b, store.ChunkSize), size: int64(len(b)), sum: sha256.Sum256(b)}
}

func malformedMultipart(detail string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "malformed_multipart", Title: "Malformed multipart body", Detail: detail}
}

// decodeMultipartSubmission reads a "submission" JSON part, then streams a
// "content" part in chunks, each read once into its own buffer: the
// document is held whole only once. The request hash covers the JSON
// part's bytes and the content's SHA-256.
func (s *Server) decodeMultipartSubmission(body io.Reader, boundary string) (*SubmissionRequest, content, [32]byte, error) {
	limit := s.cfg.MaxDocumentSize + submissionPartLimit + 16<<10
	lr := &limitedReader{r: body, n: limit, limit: limit}
	mr := multipart.NewReader(lr, boundary)
	fail := func(err error) (*SubmissionRequest, content, [32]byte, error) { return nil, content{}, [32]byte{}, err }
	partErr := func(err error) error {
		if lr.exceeded {
			return tooLarge(limit)
		}
		return malformedMultipart("The multipart body cannot be read: " + err.Error() + ".")
	}

	part, err := mr.NextPart()
	if err != nil {
		return fail(partErr(err))
	}
	if part.FormName() != "submission" {
		return fail(malformedMultipart(`The first part must be "submission" (the JSON submission), then "content" (the document).`))
	}
	req, jsonSum, err := DecodeSubmission(part, submissionPartLimit)
	if err != nil {
		return fail(err)
	}
	if req.DocumentDeposit != nil && req.DocumentDeposit.Content != nil {
		return fail(&Error{Status: http.StatusBadRequest, Code: "content_twice", Title: "Content sent twice", Field: "document_deposit.content",
			Detail: `In a multipart submission the document goes in the "content" part, not in document_deposit.content.`})
	}

	var c content
	part, err = mr.NextPart()
	switch {
	case errors.Is(err, io.EOF):
		// No content part: validation reports the missing content.
	case err != nil:
		return fail(partErr(err))
	case part.FormName() != "content":
		return fail(malformedMultipart(`The second part must be "content" (the document).`))
	default:
		h := sha256.New()
		for {
			buf := make([]byte, store.ChunkSize)
			n, rerr := io.ReadFull(part, buf)
			if n > 0 {
				c.size += int64(n)
				if c.size > s.cfg.MaxDocumentSize {
					return fail(documentTooLarge(s.cfg.MaxDocumentSize))
				}
				h.Write(buf[:n])
				c.chunks = append(c.chunks, buf[:n:n])
			}
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
				break
			}
			if rerr != nil {
				return fail(partErr(rerr))
			}
		}
		h.Sum(c.sum[:0])
		if _, err := mr.NextPart(); !errors.Is(err, io.EOF) {
			if err != nil {
				return fail(partErr(err))
			}
			return fail(malformedMultipart(`Only two parts are expected: "submission", then "content".`))
		}
	}
	hash := sha256.New()
	hash.Write(jsonSum[:])
	hash.Write(c.sum[:])
	var sum [32]byte
	hash.Sum(sum[:0])
	return req, c, sum, nil
}

func documentTooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "document_too_large", Title: "Document too large",
		Field: "document_deposit.content", Detail: fmt.Sprintf("The document must be at most %d bytes.", limit)}
}

// bodyLimit is the largest body that can carry a document of max bytes:
// its base64 form plus room for the metadata.
func bodyLimit(maxDocument int64) int64 { return (maxDocument+2)/3*4 + 64<<10 }

func (s *Server) createSubmission(w http.ResponseWriter, r *http.Request) error {
	key := principal(r.Context())
	idemKey := r.Header.Get("Idempotency-Key")
	if err := checkIdempotencyKey(idemKey); err != nil {
		return err
	}
	encoding, boundary, err := bodyEncoding(r)
	if err != nil {
		return err
	}
	var (
		req  *SubmissionRequest
		body content
		hash [32]byte
	)
	if encoding == encodingMultipart {
		req, body, hash, err = s.decodeMultipartSubmission(r.Body, boundary)
	} else {
		limit := bodyLimit(s.cfg.MaxDocumentSize)
		if r.ContentLength > limit {
			return tooLarge(limit)
		}
		req, hash, err = DecodeSubmission(r.Body, limit)
		if err == nil && req.DocumentDeposit != nil {
			body = contentOf(req.DocumentDeposit.Content)
			req.DocumentDeposit.Content = nil // body holds it now
		}
	}
	if err != nil {
		return err
	}
	n, err := s.validateSubmission(req, body)
	if err != nil {
		// A retry of a request accepted before a configuration change
		// (a connector removed, a lower size limit) still gets its answer.
		if prev, perr := s.deps.Store.FindSubmission(r.Context(), key.TenantID, idemKey, hash[:]); perr == nil {
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Location", "/v1/submissions/"+prev.ID)
			writeJSON(w, http.StatusAccepted, "application/json", acceptedView(prev))
			return nil
		}
		return err
	}
	n.TenantID, n.APIKeyID, n.IdempotencyKey, n.RequestHash = key.TenantID, key.ID, idemKey, hash[:]

	sub, replayed, err := s.deps.Store.CreateSubmission(r.Context(), n)
	if errors.Is(err, store.ErrIdempotencyConflict) {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused", Title: "Idempotency-Key reused",
			Field: "Idempotency-Key", Detail: "This Idempotency-Key was already used with a different body."}
	} else if err != nil {
		return fmt.Errorf("creating submission: %w", err)
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/v1/submissions/"+sub.ID)
	writeJSON(w, http.StatusAccepted, "application/json", acceptedView(sub))
	return nil
}

// validateSubmission checks everything but the tenant, and turns the
// request into what the store keeps.
func (s *Server) validateSubmission(req *SubmissionRequest, body content) (store.NewSubmission, error) {
	var problems []FieldProblem
	add := func(field, code, detail string) { problems = append(problems, FieldProblem{field, code, detail}) }

	if len(req.Destinations) == 0 {
		add("destinations", "required", "List at least one destination; GET /v1/connectors lists them.")
	}
	seen := map[string]bool{}
	for i, d := range req.Destinations {
		field := fmt.Sprintf("destinations[%d]", i)
		switch _, ok := s.deps.Connectors.Get(d); {
		case !ok:
			add(field, "unknown_destination", fmt.Sprintf("Unknown destination; known: %s.", strings.Join(s.deps.Connectors.Names(), ", ")))
		case seen[d]:
			add(field, "duplicate_destination", "This destination is listed twice.")
		}
		seen[d] = true
	}
	dep := req.DocumentDeposit
	if dep == nil {
		add("document_deposit", "required", "The payload is required: document_deposit.")
		return store.NewSubmission{}, validationFailed(problems)
	}
	canonical := mapping.DocumentDeposit{
		Beneficiary: dep.Beneficiary,
		Document: mapping.Document{
			Kind: dep.Document.Kind, Title: dep.Document.Title, FileName: dep.Document.FileName,
			MediaType: dep.Document.MediaType, IssueDate: dep.Document.IssueDate, Visibility: dep.Document.Visibility,
			Size: body.size,
		},
	}
	for _, fe := range canonical.Validate("document_deposit.") {
		add(fe.Field, fe.Code, fe.Detail)
	}
	canonical.Document.SHA256 = hex.EncodeToString(body.sum[:])
	switch {
	case body.size == 0:
		add("document_deposit.content", "required", "The document content is required: base64 in JSON, or the \"content\" part of a multipart body.")
	case body.size > s.cfg.MaxDocumentSize:
		return store.NewSubmission{}, documentTooLarge(s.cfg.MaxDocumentSize)
	case dep.Document.SHA256 != "" && !strings.EqualFold(dep.Document.SHA256, canonical.Document.SHA256):
		add("document_deposit.document.sha256", "content_digest_mismatch", "The SHA-256 sent does not match the content received.")
	}
	if len(problems) > 0 {
		return store.NewSubmission{}, validationFailed(problems)
	}

	payload, err := json.Marshal(canonical)
	if err != nil {
		return store.NewSubmission{}, fmt.Errorf("encoding canonical payload: %w", err)
	}
	categories := []string{"identity", "document"}
	if dep.Beneficiary.Email != "" || dep.Beneficiary.Phone != "" {
		categories = []string{"identity", "contact", "document"}
	}
	return store.NewSubmission{
		Kind: delivery.KindDocumentDeposit, Categories: categories, Payload: payload,
		Content: body.chunks, Destinations: req.Destinations,
	}, nil
}

func validationFailed(problems []FieldProblem) error {
	if len(problems) == 0 {
		return nil
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Title: "Invalid submission",
		Field: problems[0].Field, Detail: fmt.Sprintf("%d field(s) are invalid; see errors.", len(problems)), Errors: problems}
}

// chunk splits b into slices of at most size bytes, without copying.
func chunk(b []byte, size int) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := min(len(b), size)
		out = append(out, b[:n:n])
		b = b[n:]
	}
	return out
}

// ---- Views -------------------------------------------------------------

type deliveryRef struct {
	ID          string `json:"id"`
	Destination string `json:"destination"`
	Href        string `json:"href"`
}

type acceptedSubmission struct {
	ID             string        `json:"id"`
	IdempotencyKey string        `json:"idempotency_key"`
	CreatedAt      time.Time     `json:"created_at"`
	Href           string        `json:"href"`
	Deliveries     []deliveryRef `json:"deliveries"`
}

// acceptedView holds only what never changes, so a replayed request gets
// byte for byte the answer the first one got.
func acceptedView(sub store.Submission) acceptedSubmission {
	v := acceptedSubmission{ID: sub.ID, IdempotencyKey: sub.IdempotencyKey, CreatedAt: sub.CreatedAt.Truncate(time.Microsecond), Href: "/v1/submissions/" + sub.ID}
	deliveries := slices.Clone(sub.Deliveries)
	slices.SortFunc(deliveries, func(a, b store.Delivery) int {
		return cmp.Or(cmp.Compare(a.Destination, b.Destination), cmp.Compare(a.ID, b.ID))
	})
	for _, d := range deliveries {
		v.Deliveries = append(v.Deliveries, deliveryRef{ID: d.ID, Destination: d.Destination, Href: "/v1/deliveries/" + d.ID})
	}
	return v
}

func (s *Server) getSubmission(w http.ResponseWriter, r *http.Request) error {
	sub, err := s.deps.Store.GetSubmission(r.Context(), principal(r.Context()).TenantID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("submission")
	} else if err != nil {
		return fmt.Errorf("reading submission: %w", err)
	}
	writeJSON(w, http.StatusOK, "application/json", sub)
	return nil
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := s.deps.Store.GetDelivery(r.Context(), principal(r.Context()).TenantID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("delivery")
	} else if err != nil {
		return fmt.Errorf("reading delivery: %w", err)
	}
	writeJSON(w, http.StatusOK, "application/json", d)
	return nil
}

func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request) error {
	key := principal(r.Context())
	d, err := s.deps.Store.ReplayDelivery(r.Context(), key.TenantID, key.ID, r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("delivery")
	case errors.Is(err, store.ErrNotReplayable):
		return &Error{Status: http.StatusConflict, Code: "delivery_not_replayable", Title: "Delivery not replayable",
			Detail: "Only a failed or dead delivery can be replayed."}
	case err != nil:
		return fmt.Errorf("replaying delivery: %w", err)
	}
	writeJSON(w, http.StatusAccepted, "application/json", d)
	return nil
}

// ---- OpenAPI -------------------------------------------------------------

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	doc, err := OpenAPIJSON()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = io.Copy(w, bytes.NewReader(doc))
	return nil
}
