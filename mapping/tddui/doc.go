// Package tddui turns an establishment's activity report into the TDDUI
// transaction Bundles an authority's receiver takes (the ANS "transfert de
// données DUI" guide, PLATFORMS.md §8), one Bundle per chunk of the
// report, and checks every Bundle against the guide's constraints that
// Relais encodes ([Check]).
//
// [Map] maps one chunk: the rows of one segment of the report, in the
// order they were read (persons, then stays, events, presences and
// absences), after the establishment's Organization. A chunk is not
// self-contained: a stay refers to its person, an event or a slot to its
// stay, by business identifier, and the resource referred to may have
// been sent in an earlier chunk. The receiver keeps resources by business
// identifier and resolves such references against what it holds, so the
// chunks of a report are delivered in order where one refers to an
// earlier one (gateway/report and gateway/delivery see to it). Each chunk
// is mapped by the TDDUI spec (mapping/specs/tddui/activity.outbound.yaml),
// with the Bundle's identifier, stable per report and chunk
// ("<report id>-<chunk>" in [BundleIdentifierSystem]), and the report's
// version as Bundle.meta.versionId: the receiver takes a higher version of
// a Bundle it holds as its replacement (contracts/tddui).
package tddui
