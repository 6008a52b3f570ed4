// Package delivery works the durable delivery jobs: one River job makes one
// attempt to deliver one submission to one destination through its
// connector, classifies the outcome once, and records it with its journal
// entry.
//
// Outcomes: success keeps the platform's receipt; a permanent failure keeps
// the platform's error body and stops (status failed); a retryable failure
// is tried again after an exponential backoff with jitter, never earlier
// than the platform's Retry-After (capped), until the attempt budget is
// spent (status dead). While a destination's circuit breaker is open, jobs
// are put back without using an attempt.
package delivery
