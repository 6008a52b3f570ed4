package coffrefort

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// maxFieldSize bounds the non-file parts of an upload.
	maxFieldSize = 1 << 10
	// multipartOverhead is allowed on top of MaxFileSize for the other
	// parts, headers and boundaries.
	multipartOverhead = 64 << 10
	// copyBufferSize is the size of the pooled buffers files stream through.
	copyBufferSize = 32 << 10

	// fileURLBase is where document URLs point. The mock does not serve
	// files: the host is reserved (RFC 2606) so nothing resolves it.
	fileURLBase = "https://files.coffrefort.invalid/documents/"
)

type documentJSON struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	Private       bool      `json:"private"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	DepositedBy   string    `json:"deposited_by"`
	IssueDate     *string   `json:"issue_date"`
	Extension     *string   `json:"extension"`
	Size          int64     `json:"size"`
	MimeType      string    `json:"mime_type"`
	URL           string    `json:"url"`
	ThumbnailURL  *string   `json:"thumbnail_url"`
	HashAlgorithm string    `json:"hash_algorithm"`
	Hash          string    `json:"hash"`
	BeneficiaryID int64     `json:"beneficiary_id"`
	FolderID      *int64    `json:"folder_id"`
	DistantID     *string   `json:"distant_id"`
}

func (d *Document) wire() documentJSON {
	out := documentJSON{
		ID:            d.ID,
		Name:          d.Name,
		Private:       d.Private,
		CreatedAt:     d.CreatedAt,
		UpdatedAt:     d.UpdatedAt,
		DepositedBy:   d.DepositedBy,
		IssueDate:     nullable(d.IssueDate),
		Extension:     nullable(d.Extension),
		Size:          d.Size,
		MimeType:      d.MimeType,
		URL:           fileURLBase + strconv.FormatInt(d.ID, 10),
		HashAlgorithm: "SHA-256",
		Hash:          d.SHA256,
		BeneficiaryID: d.BeneficiaryID,
		DistantID:     nullable(d.DistantID),
	}
	if d.FolderID != 0 {
		out.FolderID = &d.FolderID
	}
	if d.MimeType == "application/pdf" || strings.HasPrefix(d.MimeType, "image/") {
		thumb := out.URL + "/thumbnail.png"
		out.ThumbnailURL = &thumb
	}
	return out
}

// fileSink measures a file as it streams by: size, SHA-256 and first bytes.
type fileSink struct {
	h    hash.Hash
	size int64
	head []byte
}

func (f *fileSink) Write(p []byte) (int, error) {
	f.h.Write(p)
	f.size += int64(len(p))
	if room := HeadSize - len(f.head); room > 0 {
		if f.head == nil {
			f.head = make([]byte, 0, HeadSize)
		}
		f.head = append(f.head, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// upload is what the parts of a document upload said.
type upload struct {
	fields   map[string]string
	file     *fileSink
	filename string
	mimeType string
}

// uploadFields are the non-file parts an upload may carry.
var uploadFields = []string{"beneficiary_id", "folder_id", "distant_id", "issue_date", "name"}

// readUpload streams the multipart body of c. On failure it returns the
// reply to send.
func (s *Server) readUpload(c *call) (upload, reply, bool) {
	mt, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return upload{}, problemReply(http.StatusUnsupportedMediaType, fmt.Sprintf("The content-type %q is not supported. Supported MIME types are \"multipart/form-data\".", c.r.Header.Get("Content-Type"))), false
	}
	if params["boundary"] == "" {
		return upload{}, problemReply(http.StatusBadRequest, "The multipart boundary is missing."), false
	}
	tooBig := problemReply(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is too large: the maximum allowed size is %d bytes.", s.opts.MaxFileSize))
	readFailed := func(err error) (upload, reply, bool) {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return upload{}, tooBig, false
		}
		return upload{}, problemReply(http.StatusBadRequest, "Reading the multipart body: "+err.Error()), false
	}

	body := http.MaxBytesReader(nil, c.r.Body, s.opts.MaxFileSize+multipartOverhead)
	mr := multipart.NewReader(body, params["boundary"])
	up := upload{fields: make(map[string]string, len(uploadFields))}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return readFailed(err)
		}
		name := part.FormName()
		switch {
		case name == "file":
			if up.file != nil {
				return upload{}, problemReply(http.StatusBadRequest, `The part "file" is repeated.`), false
			}
			up.file = &fileSink{h: sha256.New()}
			up.filename = part.FileName()
			up.mimeType = "application/octet-stream"
			if mt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type")); err == nil {
				up.mimeType = mt
			}
			bufp := s.copyBuffer()
			n, err := io.CopyBuffer(up.file, io.LimitReader(part, s.opts.MaxFileSize+1), *bufp)
			s.bufs.Put(bufp)
			if err != nil {
				return readFailed(err)
			}
			if n > s.opts.MaxFileSize {
				return upload{}, tooBig, false
			}
		case slices.Contains(uploadFields, name):
			if _, seen := up.fields[name]; seen {
				return upload{}, problemReply(http.StatusBadRequest, fmt.Sprintf("The part %q is repeated.", name)), false
			}
			v, err := io.ReadAll(io.LimitReader(part, maxFieldSize+1))
			if err != nil {
				return readFailed(err)
			}
			if len(v) > maxFieldSize {
				return upload{}, problemReply(http.StatusBadRequest, fmt.Sprintf("The part %q exceeds %d bytes.", name, maxFieldSize)), false
			}
			up.fields[name] = string(v)
		default:
			return upload{}, problemReply(http.StatusBadRequest, fmt.Sprintf("Extra attributes are not allowed (%q is unknown).", name)), false
		}
	}
	return up, reply{}, true
}

func (s *Server) copyBuffer() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBufferSize)
	return &b
}

// createDocument serves POST /api/v3/documents.
func (s *Server) createDocument(c *call) reply {
	up, rp, ok := s.readUpload(c)
	if !ok {
		return rp
	}
	var vs []violation
	beneficiaryID, err := strconv.ParseInt(up.fields["beneficiary_id"], 10, 64)
	switch {
	case up.fields["beneficiary_id"] == "":
		vs = append(vs, violation{"beneficiary_id", msgNotBlank})
	case err != nil || beneficiaryID <= 0:
		vs = append(vs, violation{"beneficiary_id", msgInvalid})
	}
	var folderID int64
	if v := up.fields["folder_id"]; v != "" {
		if folderID, err = strconv.ParseInt(v, 10, 64); err != nil || folderID <= 0 {
			vs = append(vs, violation{"folder_id", msgInvalid})
		}
	}
	if v := up.fields["issue_date"]; v != "" && !validDate(v) {
		vs = append(vs, violation{"issue_date", msgInvalidDate})
	}
	switch {
	case up.file == nil:
		vs = append(vs, violation{"file", msgNotBlank})
	case up.filename == "":
		vs = append(vs, violation{"file", "The file has no name."})
	case up.file.size == 0:
		vs = append(vs, violation{"file", "An empty file is not allowed."})
	}
	if len(vs) > 0 {
		return validationReply(vs)
	}

	now := c.now.UTC().Truncate(time.Second)
	d := &Document{
		BeneficiaryID:  beneficiaryID,
		Name:           up.fields["name"],
		Private:        true,
		CreatedAt:      now,
		UpdatedAt:      now,
		DepositedBy:    c.clientID,
		IssueDate:      up.fields["issue_date"],
		FolderID:       folderID,
		DistantID:      up.fields["distant_id"],
		Extension:      strings.ToLower(strings.TrimPrefix(path.Ext(up.filename), ".")),
		MimeType:       up.mimeType,
		Size:           up.file.size,
		SHA256:         hex.EncodeToString(up.file.h.Sum(nil)),
		Head:           up.file.head,
		IdempotencyKey: c.key,
	}
	if d.Name == "" {
		d.Name = up.filename
	}

	s.mu.Lock()
	st := s.state
	if _, found := st.beneficiaries[beneficiaryID]; !found {
		s.mu.Unlock()
		return validationReply([]violation{{"beneficiary_id", fmt.Sprintf("The beneficiary %d does not exist.", beneficiaryID)}})
	}
	st.lastDocumentID = nextID(st.lastDocumentID, st.documents)
	d.ID = st.lastDocumentID
	st.documents[d.ID] = d
	st.docsByBeneficiary[beneficiaryID] = append(st.docsByBeneficiary[beneficiaryID], d.ID)
	if c.key != "" {
		st.createdPerKey[c.key]++
	}
	w := d.wire()
	s.mu.Unlock()
	return jsonReply(http.StatusCreated, w)
}

// listDocuments serves GET /api/v3/beneficiaries/{id}/documents.
func (s *Server) listDocuments(c *call) reply {
	id, ok := pathID(c.r)
	if !ok {
		return problemReply(http.StatusNotFound, "Beneficiary not found.")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, found := s.state.beneficiaries[id]; !found {
		return problemReply(http.StatusNotFound, "Beneficiary not found.")
	}
	ids := s.state.docsByBeneficiary[id]
	out := make([]documentJSON, len(ids))
	for i, docID := range ids {
		out[i] = s.state.documents[docID].wire()
	}
	return jsonReply(http.StatusOK, out)
}

// getDocument serves GET /api/v3/documents/{id}.
func (s *Server) getDocument(c *call) reply {
	id, ok := pathID(c.r)
	if !ok {
		return problemReply(http.StatusNotFound, "Document not found.")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, found := s.state.documents[id]
	if !found {
		return problemReply(http.StatusNotFound, "Document not found.")
	}
	return jsonReply(http.StatusOK, d.wire())
}

// toggleVisibility serves PATCH /api/v3/documents/{id}/toggle-visibility:
// a private document becomes shared with the professionals, and back.
func (s *Server) toggleVisibility(c *call) reply {
	id, ok := pathID(c.r)
	if !ok {
		return problemReply(http.StatusNotFound, "Document not found.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, found := s.state.documents[id]
	if !found {
		return problemReply(http.StatusNotFound, "Document not found.")
	}
	d.Private = !d.Private
	d.UpdatedAt = c.now.UTC().Truncate(time.Second)
	return jsonReply(http.StatusOK, d.wire())
}
