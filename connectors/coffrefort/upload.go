package coffrefort

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
)

// upload sends the document and reports whether the safe answered with the
// replay of an earlier upload of the same delivery.
func (c *Client) upload(ctx context.Context, d *connectors.Delivery, beneficiaryID string) (document, bool, error) {
	const op = "uploading document"
	var bodies []*uploadBody
	header, answer, err := c.send(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, body, err := c.uploadRequest(ctx, d, beneficiaryID)
		if body != nil {
			bodies = append(bodies, body)
		}
		return req, err
	})
	var streamErr error
	for _, b := range bodies {
		streamErr = b.finish()
	}
	if ie, ok := errors.AsType[*integrityError](streamErr); ok {
		return document{}, false, &connectors.Error{Class: connectors.Permanent, Op: op + ": " + ie.Error()}
	}
	if err != nil {
		return document{}, false, err
	}
	var doc document
	if err := connectors.DecodeAnswer(op, answer, &doc); err != nil {
		return document{}, false, err
	}
	if doc.ID == "" {
		return document{}, false, &connectors.Error{Class: connectors.Permanent, Op: op + `: contract: field "id" is missing from the answer`}
	}
	return doc, strings.EqualFold(header.Get("Idempotent-Replayed"), "true"), nil
}

// uploadBody is the multipart body of one upload, written by a goroutine
// into a pipe as the transport reads it.
type uploadBody struct {
	pr   *io.PipeReader
	done chan struct{}
	err  error // the writer's outcome, set before done is closed
}

// errUploadOver stops a writer whose request is over.
var errUploadOver = errors.New("upload over")

// finish stops the writer if it still runs, waits for it and returns its
// outcome.
func (b *uploadBody) finish() error {
	b.pr.CloseWithError(errUploadOver)
	<-b.done
	return b.err
}

// integrityError is content that does not match what was accepted.
type integrityError struct{ reason string }

func (e *integrityError) Error() string { return "integrity_mismatch (" + e.reason + ")" }

// uploadRequest opens the document and builds the multipart request whose
// body streams it. The caller must finish the returned body.
func (c *Client) uploadRequest(ctx context.Context, d *connectors.Delivery, beneficiaryID string) (*http.Request, *uploadBody, error) {
	rc, err := d.Document.Open(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("opening document content: %w", err)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	body := &uploadBody{pr: pr, done: make(chan struct{})}
	go func() {
		defer close(body.done)
		buf := c.copyBuffer()
		err := writeUpload(mw, d, beneficiaryID, rc, c.cfg.MaxDocumentSize, *buf)
		c.bufs.Put(buf)
		if cerr := rc.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing document content: %w", cerr)
		}
		body.err = err
		_ = pw.CloseWithError(err) // nil closes the pipe normally
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/api/v3/documents", pr)
	if err != nil {
		return nil, body, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", d.IdempotencyKey)
	return req, body, nil
}

// writeUpload writes the parts, streaming the file and checking its size
// and SHA-256 against the accepted document. On a mismatch it returns an
// *integrityError before the closing boundary, so the safe never receives
// a complete upload.
func writeUpload(mw *multipart.Writer, d *connectors.Delivery, beneficiaryID string, content io.Reader, maxSize int64, buf []byte) error {
	doc := &d.Document.Document
	fields := [][2]string{{"beneficiary_id", beneficiaryID}, {"distant_id", d.ID}, {"name", doc.Title}, {"issue_date", doc.IssueDate}}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return fmt.Errorf("writing part %s: %w", f[0], err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", multipart.FileContentDisposition("file", doc.FileName))
	h.Set("Content-Type", doc.MediaType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return fmt.Errorf("writing part file: %w", err)
	}
	limit := maxSize
	if doc.Size > 0 {
		limit = min(limit, doc.Size)
	}
	sum := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(part, sum), io.LimitReader(content, limit+1), buf)
	if err != nil {
		return fmt.Errorf("streaming document content: %w", err)
	}
	switch {
	case n > maxSize:
		return &integrityError{reason: fmt.Sprintf("the content exceeds %d bytes", maxSize)}
	case doc.Size > 0 && n != doc.Size:
		return &integrityError{reason: fmt.Sprintf("the content is not the %d bytes accepted", doc.Size)}
	case doc.SHA256 != "" && !strings.EqualFold(hex.EncodeToString(sum.Sum(nil)), doc.SHA256):
		return &integrityError{reason: "the content's sha256 differs from the accepted document's"}
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("closing multipart body: %w", err)
	}
	return nil
}

// verify compares the safe's answer with the accepted document: a safe
// that stored other bytes is a Permanent failure.
func verify(want *mapping.Document, got *document) error {
	const op = "verifying upload"
	alg := strings.ToLower(strings.ReplaceAll(got.HashAlgorithm, "-", ""))
	if got.Hash != "" && want.SHA256 != "" && (alg == "" || alg == "sha256") && !strings.EqualFold(got.Hash, want.SHA256) {
		return permanent(op + ": integrity_mismatch (the safe's sha256 differs from the accepted document's)")
	}
	if got.Size != 0 && want.Size != 0 && got.Size != want.Size {
		return permanent(fmt.Sprintf("%s: integrity_mismatch (the safe stored %d bytes, the document has %d)", op, got.Size, want.Size))
	}
	return nil
}

// copyBufferSize is the size of the buffers documents stream through.
const copyBufferSize = 32 << 10

func (c *Client) copyBuffer() *[]byte {
	if b, ok := c.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBufferSize)
	return &b
}
