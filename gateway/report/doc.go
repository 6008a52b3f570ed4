// Package report is the activity report service behind POST /v1/reports:
// an establishment uploads its activity over a period once (CSV files as
// spreadsheets export them, a zip of them, or JSON in the canonical model),
// and Relais delivers every authority's format, durably, with a receipt
// for each output.
//
// The path of one upload:
//
//	Service.Accept
//	  -> mapping/activitycsv.Read (or ActivityReport.Validate for JSON):
//	     every problem at once, valid rows streamed to the handler
//	  -> segmentWriter: the canonical rows, sealed, staged in the store in
//	     segments of Config.ChunkEntries rows (one per TDDUI chunk), and the
//	     Mapper's accumulator fed the same rows (indicators, PSU figures)
//	  -> store.CreateReportVersion: in one transaction, version n+1 of the
//	     report, one delivery per output, destination and chunk, and their
//	     River jobs; only then does the API answer 202.
//
// Bodies: the indicator report and the PSU declaration are small and are
// produced when the upload is accepted, then sealed with their delivery. A
// TDDUI chunk is produced at delivery time from its sealed segment
// (Service.BuildBody, called by gateway/delivery): a FHIR bundle is several
// times larger than the canonical rows it comes from, so building a
// million rows' bundles at acceptance would hold the answer for minutes and
// store the activity twice; the segment is already there, and one chunk is
// all a delivery holds in memory.
//
// Corrections: uploading again for the same establishment and period makes
// version n+1. Each of its outputs waits for the same output of version n
// to end at that destination, then carries Replaces, the receipt's remote
// id of the latest earlier version delivered there. Idempotency keys are
// per report, version, destination, output and chunk, so a retry or a
// replay is never a duplicate; an upload retried with the same
// Idempotency-Key (or, without one, the same bytes) is the same version.
//
// The calendar (Calendar) lists the CAF's four PSU deadlines of a year
// (PLATFORMS.md §10) and the yearly indicator report, each with the status
// of the latest version that answers it.
package report
