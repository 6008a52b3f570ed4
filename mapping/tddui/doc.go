// Package tddui turns an establishment's activity report into the TDDUI
// transaction Bundles an authority's receiver takes (the ANS "transfert de
// données DUI" guide, PLATFORMS.md §8), in chunks of at most
// Options.MaxEntries entries, and checks every Bundle against the guide's
// constraints that Relais encodes ([Check]).
//
// [Chunk] packs the report person by person: each chunk holds the
// establishment's Organization, then persons with their stays, the stays'
// events and presences or absences. A chunk is self-contained: when a
// person's stays (or a stay's events and slots) do not fit in one chunk,
// the next chunk starts again with the Patient and the stay they refer to
// (the receiver keeps resources by business identifier, so a resource sent
// in two chunks is updated, not duplicated). Each chunk is mapped by the
// TDDUI spec (mapping/specs/tddui/activity.outbound.yaml), with the
// Bundle's identifier, stable per report and chunk
// ("<report id>-<chunk>" in [BundleIdentifierSystem]), and the report's
// version as Bundle.meta.versionId: the receiver takes a higher version of
// a Bundle it holds as its replacement (contracts/tddui).
package tddui
