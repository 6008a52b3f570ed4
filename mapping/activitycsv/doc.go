// Package activitycsv reads the activity of an establishment (ESMS) from the
// CSV files its business software or a spreadsheet exports, checks it, and
// hands it on row by row in the canonical model ([mapping.ReportPerson],
// [mapping.Stay], [mapping.Event], [mapping.PresenceAbsence]), so that the
// report API and `relais report validate` can turn an upload into the
// authorities' formats without holding the files in memory.
//
// # Files
//
// An upload is one file per kind, or a zip of them: the persons
// ("usagers"), their stays ("séjours"), the stays' events ("évènements")
// and the presences and absences. A file's kind is told by its header line
// (the kind whose columns it names most), or by its name when the headers
// do not tell ("usagers.csv", "Séjours 2024.csv", "presences.csv"). [Read]
// takes the files in any order and reads them persons first, then stays,
// then events and presences, so that every reference is checked as the
// rows stream by; [Validator.ReadCSV] reads one stream and leaves the order
// to its caller.
//
// A zip is read within [Limits]: at most 16 files, 1 GiB uncompressed, a
// compression ratio of at most 200 (a zip bomb is refused before anything
// is decompressed); a path that is absolute or climbs with ".." refuses the
// whole archive; a zip inside a zip, an encrypted file or a file that is
// not .csv or .txt is not read; macOS and Windows litter (__MACOSX/, ._*,
// .DS_Store, Thumbs.db) is skipped. An Excel or OpenDocument workbook sent
// instead of a CSV is recognised and the staff told how to export it.
//
// # Dialect
//
// What French spreadsheet software writes:
//
//   - the separator is ";", or "," or a tab when the header line holds more
//     of those outside quotes (the header line only is looked at); an Excel
//     "sep=;" first line is honoured;
//   - numbers take a decimal comma (7,5), or a dot; durations may also be
//     written 7:30 or 7h30;
//   - dates are jj/mm/aaaa (or j/m/aaaa, with "-" or "." instead of "/", or
//     ISO aaaa-mm-jj), date-times add hh:mm, hh:mm:ss or 14h30 after a
//     space; a date-time is local time, Europe/Paris by default
//     ([Options.Location]); a date alone is the start of the day, or its
//     last second for an end;
//   - UTF-8 with or without a byte order mark, or Windows-1252: a file is
//     UTF-8 when its first byte above 127 starts a valid UTF-8 sequence,
//     Windows-1252 otherwise; UTF-16 ("texte Unicode") is refused with the
//     way to export it;
//   - quoted cells may hold the separator, quotes doubled ("") and new
//     lines; encoding/csv reads them, with LazyQuotes off, the number of
//     cells of every line checked against the header line, and records
//     reused.
//
// Headers are compared without case, accents, spaces, underscores, dashes,
// apostrophes or brackets, and without the words d', de, du, des, l', la,
// le, les, en and à: "Date d'entrée", "date_entree" and "DATE ENTREE" are
// one header. Cells are trimmed; free text (names, modes, reasons, types) is
// put on one line, its new lines and runs of spaces made single spaces;
// codes (sex, COG, INS) lose their spaces. A row whose cells are all empty
// is skipped, as spreadsheets export trailing rows.
//
// # Columns
//
// README.md in this folder lists every column with the other spellings
// accepted, its format and the canonical field it fills; [Headers] gives
// the documented headers and [WriteTemplate] writes them. In short (* marks
// a required column):
//
//   - usagers: Identifiant usager*, Nom de naissance*, Nom d'usage,
//     Prénoms*, Sexe*, Date de naissance*, Commune de naissance (code COG),
//     Pays de naissance (code COG), INS.
//   - séjours: Identifiant séjour*, Identifiant usager, Date d'entrée*,
//     Date de sortie, Date d'admission, Mode d'entrée, Mode de sortie,
//     Modalité d'accueil.
//   - évènements: Identifiant évènement*, Identifiant séjour*, Statut*,
//     Début*, Fin*, Type d'évènement.
//   - présences: Identifiant présence*, Identifiant séjour*, Nature*, Motif
//     d'absence (required for an absence), Début*, Fin or Durée (heures)
//     (one of the two), Absence prévue, Facturée.
//
// The TDDUI identifiers of persons, stays and presences are written whole,
// "3<FINESS>/U0042-SEJOUR-1", or without the "3<FINESS>/" that starts
// them, "U0042-SEJOUR-1", which the report's FINESS completes. A whole one
// must carry the report's FINESS, with a valid key.
//
// # Checks
//
// Every cell is checked as it is read (characters, formulas, format,
// allowed values), then the row through the canonical model's own Validate
// (so every row handed on is valid canonical data), then across rows:
//
//   - a stay overlaps the report's period (it is not entered after the
//     period's end nor left before its start: a resident of many years is
//     in the period); events and presences lie inside the period;
//   - an absence has a reason;
//   - identifiers have the TDDUI forms; the FINESS they carry has a valid
//     key and is the report's; the options' FINESS and SIRET keys are
//     checked by [Options.Validate];
//   - no identifier appears twice (persons, stays, events, presences each
//     apart; a short and a whole form are the same identifier);
//   - a stay refers to a person of the persons file, events and presences
//     to a stay of the stays file; a reference to a row in error is
//     reported as such (invalid_reference), not as unknown.
//
// Identifiers are remembered as 64-bit hashes with a per-upload random
// seed, so memory stays at a few tens of bytes per row whatever the size:
// a million rows are validated in well under 200 MiB.
//
// A cell that starts with =, +, -, @, a tab or a carriage return is refused
// (formula_injection) in every column: a spreadsheet would run it as a
// formula when the file, or the list of errors, is opened again.
//
// # Problems
//
// Every problem of an upload is reported at once, up to Limits.MaxProblems
// (1,000 by default) and then one too_many_errors entry that counts the
// rest. A [Problem] has the file, the line as a text editor counts it (a
// cell holding new lines spans several: the line is encoding/csv's
// FieldPos), the column as a spreadsheet counts it (A is 1), the header as
// the file writes it, a stable English code and a French message that
// starts with its place: « Ligne 42, colonne « Date d'entrée » :
// « 31/02/2024 » n'est pas une date valide. »
//
// A message quotes a value only where the value says nothing about a
// person on its own and helps to find the mistake: the dates and times of
// stays, events and presences, durations, statuses, natures, oui/non
// answers, and the headers of a header line that has known ones. It never
// quotes names, given names, sex, a birth date or place, the INS, an
// identifier, or free text (reasons, modes, types): those are personal
// data, and the line and column are enough to find them. A header line
// with no known header is likely a row of data, so its cells are not
// quoted either. Messages are meant to be shown, logged and stored.
//
// Structural problems (a quote left open, a line of more than
// Limits.MaxColumns columns or Limits.MaxRecordBytes bytes) end the
// reading of their file, since what follows cannot be cut into cells
// reliably; the guard that finds them works before encoding/csv buffers or
// splits the line, so a 10,000-column line costs no more than a short one.
// A missing required column ends its file before the rows. Every other
// problem is per cell or per row, and reading goes on.
//
// # Rows
//
// Valid rows go to the [Handler] as they are read. Without
// [Options.Partial] an invalid upload delivers nothing: no row is handed on
// after the first problem, and since a problem may come after valid rows,
// the caller stages what it receives (a transaction, a temporary table)
// and keeps it only when [Result.Valid]. With Partial, every valid row is
// handed on and the invalid ones are listed in the Result.
package activitycsv
