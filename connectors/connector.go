package connectors

import (
	"context"
	"io"
	"time"

	"github.com/relais-dev/relais/mapping"
)

// Delivery is one payload bound for one destination.
type Delivery struct {
	// ID is Relais's delivery id.
	ID string
	// IdempotencyKey is stable across every attempt and replay of the
	// delivery; the platform deduplicates on it.
	IdempotencyKey string
	// Attempt counts calls to the platform, starting at 1.
	Attempt int
	// Document is set for a document deposit.
	Document *DocumentDelivery
	// Report is set for one output of an activity report.
	Report *ReportDelivery
}

// ReportKind names an output of an activity report.
type ReportKind string

// Report outputs.
const (
	// ReportTDDUIBundle is one chunk of TDDUI transaction bundles.
	ReportTDDUIBundle ReportKind = "tddui_bundle"
	// ReportIndicators is the establishment's indicator report.
	ReportIndicators ReportKind = "indicators"
	// ReportPSUDeclaration is a crèche's PSU declaration to the CAF.
	ReportPSUDeclaration ReportKind = "psu_declaration"
)

// ReportDelivery is one output of an activity report, already in the
// destination's schema (the mapping engine produced it from the upload).
type ReportDelivery struct {
	Kind ReportKind
	// ReportID is Relais's report id, stable across versions.
	ReportID string
	// FINESS and Period say whose activity and when.
	FINESS string
	Period mapping.Period
	// Version counts the uploads of the report, from 1; a higher version
	// replaces a lower one at destinations that support replacement.
	Version int
	// Chunk and Chunks number the chunks of a chunked output, from 1.
	Chunk, Chunks int
	// Replaces is the destination's id of what this version replaces
	// (the receipt's RemoteID of the previous version's same chunk), empty
	// for a first version.
	Replaces string
	// ContentType and Body are the payload (e.g. application/fhir+json).
	ContentType string
	Body        []byte
}

// DocumentDelivery is a document deposit with its content.
type DocumentDelivery struct {
	mapping.DocumentDeposit
	// Open streams the document content; each call starts from the beginning.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Receipt is the platform's acknowledgement of a delivery.
type Receipt struct {
	// RemoteID is the platform's identifier of what it stored.
	RemoteID string `json:"remote_id"`
	// At is when the platform acknowledged it (the platform's time when it
	// gives one, ours otherwise).
	At time.Time `json:"at"`
}

// Connector delivers payloads to one platform.
type Connector interface {
	// Name is the destination name clients use in submissions.
	Name() string
	// Deliver sends one delivery. Errors are classified: see Classify.
	Deliver(ctx context.Context, d *Delivery) (Receipt, error)
	// Status reports the connector's health for operators.
	Status() Status
}

// Status is what an operator sees of a connector.
type Status struct {
	Name string `json:"name"`
	// Breaker is "closed", "half-open" or "open".
	Breaker     string          `json:"breaker"`
	RateLimit   RateLimitStatus `json:"rate_limit"`
	LastSuccess *time.Time      `json:"last_success,omitempty"`
	LastFailure *time.Time      `json:"last_failure,omitempty"`
	// LastError is the class and status of the last failure, never a body.
	LastError string `json:"last_error,omitempty"`
}

// RateLimitStatus describes a token bucket and its use.
type RateLimitStatus struct {
	RequestsPerSecond float64 `json:"requests_per_second"`
	Burst             int     `json:"burst"`
	// Available is the number of tokens in the bucket now.
	Available float64 `json:"available"`
	// Waits counts requests that had to wait for a token.
	Waits uint64 `json:"waits"`
}
