package tddui

import (
	"embed"
	"time"
)

// The sandbox submissions, received at reset so that a Task can be read
// without submitting first: fixtures/accepted.json is what Relais' mapper
// produces (mapping/specs/tddui), accepted with warnings;
// fixtures/rejected.json has an absence without reason.
//
//go:embed fixtures/*.json
var fixtureFiles embed.FS

// The sandbox Tasks.
const (
	SandboxAcceptedTask = "sandbox-accepted"
	SandboxRejectedTask = "sandbox-rejected"
)

// sandboxReceived is when the sandbox submissions were received.
var sandboxReceived = time.Date(2024, 4, 1, 8, 0, 0, 0, time.UTC)

var sandboxFixtures = []struct{ file, task string }{
	{"fixtures/accepted.json", SandboxAcceptedTask},
	{"fixtures/rejected.json", SandboxRejectedTask},
}
