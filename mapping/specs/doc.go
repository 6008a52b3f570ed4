// Package specs holds Relais's mapping specs, one folder per platform: the
// YAML specs the mapping engine (mapping/engine) compiles at start-up, the
// platform schemas they validate against, and, under each folder's testdata/<spec>,
// golden cases (<case>.input.json mapped to <case>.golden.json).
//
// The format is described in README.md. Check a spec with
// `relais mapping lint`, try it with `relais mapping run SPEC INPUT.json`.
package specs

import "embed"

// FS holds the specs and their schema files (not the testdata).
//
//go:embed */*.yaml */*.json
var FS embed.FS
