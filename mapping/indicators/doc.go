// Package indicators computes, from the canonical rows of one activity
// report, the establishment's activity indicators and, for a crèche, the
// figures of its PSU declaration to the CAF.
//
// An [Accumulator] is fed row by row ([Accumulator.Row] is an
// activitycsv.Handler; [Accumulator.AddReport] takes a whole canonical
// report) and holds a few bytes per person, never the rows: a million rows
// are summed in a few tens of MiB. [Accumulator.Report] gives the
// [Report], whose JSON form is described by indicators.schema.json (see
// [Schema]) and whose CSV form, for the establishment's spreadsheet, is
// written by [Report.WriteCSV]. [Report.PSUDeclaration] gives the body of
// the declaration the CAF declaration API takes (contracts/cafpsu).
//
// # Rules
//
// The facts are from PLATFORMS.md §8 and §10; the rules are Relais' own
// design, written here so that an establishment can check every figure by
// hand. Days are calendar days in Options.Location (Europe/Paris by
// default); the period's both ends are included.
//
//   - Stay days ("journées de séjour"): each stay counts the days from its
//     entry (or the period's start, if later) up to its exit, the exit day
//     excluded, or up to the period's end included when the stay is still
//     open or leaves after the period. A stay that enters and leaves the
//     same day counts one day.
//   - Absence days: each absence counts the whole calendar days it covers
//     (from 00:00 to 24:00, an end at 23:59 or later closing its day),
//     inside the period; an absence of a few hours counts none. Overlapping
//     absences are not merged.
//   - Days of presence ("journées de présence") = stay days − absence days
//     (never below zero).
//   - Occupancy rate = days of presence / (capacity × days in the period),
//     4 decimals; absent when Options.Capacity is 0 (unknown).
//   - Persons accompanied: the persons with at least one stay in the
//     report (the report's stays all overlap its period), by sex and by age
//     band; the age is in whole years at the period's end. A birth date
//     without its month counts as of 1 July, without its day as of the
//     15th. A stay whose person is not in the report counts its person in
//     sex "U" and band "inconnu".
//   - Entries: stays entered within the period; exits: stays left within
//     the period. Average length of stay: over the exits, the mean of exit
//     date − entry date in days (at least 1), 2 decimals; absent with no
//     exit.
//   - Absences by reason: the number of absences and their absence days by
//     reason (the code when the reason is coded, else the text without case
//     or surrounding spaces); beyond MaxReasons distinct reasons, the rest
//     are counted under "autre".
//   - Events: counted by status.
//
// PSU figures (crèches), per month of the period, from the presences and
// absences (slots), each slot in the month of its start:
//
//   - hours attended: the durations of the presences;
//   - hours billed to families: the durations of the slots marked invoiced,
//     presences and absences alike (an absence the crèche may bill, e.g.
//     one without a medical certificate, is billed);
//   - hours covered by the PSU: the hours billed, capped at hours attended ×
//     Options.PSUBillingCap (1.07 by default: the CAF does not fund billed
//     hours beyond that billing rate; the cap is our reading, the CAF's
//     exact rules are not in our reference);
//   - children: the persons with at least one presence in the month;
//   - opening days: the days with at least one presence.
//
// Hours are summed in seconds and rounded to 2 decimals at the end.
package indicators
