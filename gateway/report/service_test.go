package report_test

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"

	"github.com/relais-dev/relais/gateway/report"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

func upload(f *fixture, files []activitycsv.Input, key string, partial bool) report.Upload {
	h := sha256.New()
	for _, in := range files {
		h.Write([]byte(in.Name))
		buf := make([]byte, in.Size)
		_, _ = in.R.ReadAt(buf, 0)
		h.Write(buf)
	}
	return report.Upload{
		TenantID: f.tenant.ID, APIKeyID: "key_test", IdempotencyKey: key, RequestHash: h.Sum(nil),
		FINESS: finess, Period: year2024, Partial: partial, Files: files,
	}
}

// TestUploadCorrectAndReplay is the whole journey against each driver: an
// upload delivers every output once with receipts, a corrected one makes
// version 2 whose outputs replace version 1's, a retried one changes
// nothing, an invalid one keeps nothing.
func TestUploadCorrectAndReplay(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, driver, 3)
			f.startJob(t)

			out, err := f.svc.Accept(ctx, upload(f, sampleFiles(t, "valid", "comma"), "", false))
			if err != nil || !out.Accepted || out.Replayed {
				t.Fatalf("Accept v1 = %+v, %v; want accepted", out.Summary, err)
			}
			if out.Version.Version != 1 {
				t.Fatalf("version = %d, want 1", out.Version.Version)
			}
			rows := out.Summary.Rows.Total()
			chunks := (rows + 2) / 3
			v1 := waitDelivered(t, f.store, f.tenant.ID, out.Version.ReportID, 1)
			kinds := map[string]int{}
			for _, o := range v1.Outputs {
				if o.Delivery.Status != store.StatusDelivered || o.Delivery.Receipt == nil {
					t.Fatalf("output %s %s #%d: status %s, receipt %v", o.Destination, o.Kind, o.Chunk, o.Delivery.Status, o.Delivery.Receipt)
				}
				kinds[o.Kind]++
			}
			if kinds["tddui_bundle"] != chunks || kinds["indicators"] != 1 || kinds["psu_declaration"] != 1 {
				t.Fatalf("outputs by kind = %v, want %d TDDUI chunks, 1 indicators, 1 PSU (%d rows)", kinds, chunks, rows)
			}
			if _, got := f.tddui.snapshot(); len(got) != chunks {
				t.Fatalf("tddui received %d chunks, want %d", len(got), chunks)
			}
			if n := f.tddui.outOfOrder(); n != 0 {
				t.Fatalf("%d TDDUI chunks arrived before a chunk they refer to", n)
			}

			// A corrected upload (the same activity from the zip) is version 2.
			out2, err := f.svc.Accept(ctx, upload(f, sampleFiles(t, "valid", "rapport-2024.zip"), "", false))
			if err != nil || !out2.Accepted || out2.Version.Version != 2 || out2.Version.ReportID != out.Version.ReportID {
				t.Fatalf("Accept v2 = version %d of %s (%+v), %v; want version 2 of %s", out2.Version.Version, out2.Version.ReportID, out2.Summary, err, out.Version.ReportID)
			}
			v2 := waitDelivered(t, f.store, f.tenant.ID, out.Version.ReportID, 2)
			remote := map[string]string{}
			for _, o := range v1.Outputs {
				remote[o.Destination+"/"+o.Kind+"/"+string(rune('0'+o.Chunk))] = o.Delivery.Receipt.RemoteID
			}
			for _, c := range []*recordingConnector{f.tddui, f.ind, f.psu} {
				calls, got := c.snapshot()
				if calls != len(got) {
					t.Errorf("%s: %d calls for %d distinct deliveries: a duplicate was sent", c.name, calls, len(got))
				}
				for key, d := range got {
					want := ""
					if d.Version == 2 {
						want = remote[c.name+"/"+string(d.Kind)+"/"+string(rune('0'+d.Chunk))]
					}
					if d.Replaces != want {
						t.Errorf("%s %s: Replaces = %q, want %q", c.name, key, d.Replaces, want)
					}
					if d.FINESS != finess || d.Period != year2024 || len(d.Body) == 0 {
						t.Errorf("%s %s: FINESS %s, period %v, %d bytes", c.name, key, d.FINESS, d.Period, len(d.Body))
					}
				}
			}
			if n := f.tddui.outOfOrder(); n != 0 {
				t.Fatalf("%d TDDUI chunks of version 2 arrived before a chunk they refer to", n)
			}
			if len(v2.Outputs) != len(v1.Outputs) {
				t.Fatalf("v2 has %d outputs, v1 %d", len(v2.Outputs), len(v1.Outputs))
			}

			// The same bytes again: the same version, nothing enqueued.
			again, err := f.svc.Accept(ctx, upload(f, sampleFiles(t, "valid", "rapport-2024.zip"), "", false))
			if err != nil || !again.Replayed || again.Version.Version != 2 {
				t.Fatalf("Accept again = replayed %v version %d, %v; want the replay of version 2", again.Replayed, again.Version.Version, err)
			}
			// Another request under a used key is refused.
			if _, err := f.svc.Accept(ctx, upload(f, sampleFiles(t, "valid", "comma"), "k1", false)); err != nil {
				t.Fatalf("Accept with key k1: %v", err)
			}
			if _, err := f.svc.Accept(ctx, upload(f, sampleFiles(t, "valid", "rapport-2024.zip"), "k1", false)); err == nil || !strings.Contains(err.Error(), "idempotency") {
				t.Fatalf("Accept reusing k1 = %v, want ErrIdempotencyConflict", err)
			}

			// An invalid upload keeps nothing.
			bad, err := f.svc.Accept(ctx, upload(f, sampleFiles(t, "invalid", "cells"), "", false))
			if err != nil || bad.Accepted || bad.Summary.TotalProblems == 0 || len(bad.Summary.Problems) == 0 {
				t.Fatalf("Accept invalid = accepted %v, %d problems, %v", bad.Accepted, bad.Summary.TotalProblems, err)
			}
			for _, p := range bad.Summary.Problems {
				if p.Code == "" || p.Message == "" || p.Line == 0 {
					t.Errorf("problem without place, code or message: %+v", p)
				}
			}
			rep, err := f.store.GetReport(ctx, f.tenant.ID, out.Version.ReportID)
			if err != nil || len(rep.Versions) != 3 {
				t.Fatalf("report has %d versions (%v), want 3", len(rep.Versions), err)
			}
			if n, err := f.store.PurgeReportSegments(ctx, rep.CreatedAt.AddDate(1, 0, 0)); err != nil || n != 0 {
				t.Fatalf("orphan segments after a refused upload: %d (%v), want 0", n, err)
			}
		})
	}
}

// sampleReport reads the valid CSV sample as a canonical report.
func sampleReport(t *testing.T) *mapping.ActivityReport {
	t.Helper()
	r := &mapping.ActivityReport{FINESS: finess, Period: year2024}
	res, err := activitycsv.Read(context.Background(), activitycsv.Options{FINESS: finess, Period: year2024}, func(row activitycsv.Row) error {
		switch {
		case row.Person != nil:
			r.Persons = append(r.Persons, *row.Person)
		case row.Stay != nil:
			r.Stays = append(r.Stays, *row.Stay)
		case row.Event != nil:
			r.Events = append(r.Events, *row.Event)
		case row.Presence != nil:
			r.PresenceAbsences = append(r.PresenceAbsences, *row.Presence)
		}
		return nil
	}, sampleFiles(t, "valid", "comma")...)
	if err != nil || res.Total != 0 {
		t.Fatalf("reading the valid sample: %v (%d problems)", err, res.Total)
	}
	return r
}

// TestAcceptJSON checks JSON uploads: a valid report is kept whole, a row
// with a problem refuses the upload unless it is partial (then that row
// alone is left out), and a problem with the report itself refuses even a
// partial one.
func TestAcceptJSON(t *testing.T) {
	t.Parallel()
	base := sampleReport(t)
	total := len(base.Persons) + len(base.Stays) + len(base.Events) + len(base.PresenceAbsences)
	withDuplicate := func() *mapping.ActivityReport {
		r := *base
		r.Persons = append(slices.Clone(base.Persons), base.Persons[0])
		return &r
	}
	badFINESS := func() *mapping.ActivityReport {
		r := *base
		r.FINESS = "750000011"
		return &r
	}
	for _, tc := range []struct {
		name     string
		report   *mapping.ActivityReport
		partial  bool
		accepted bool
		rows     int
	}{
		{"valid", base, false, true, total},
		{"invalid row", withDuplicate(), false, false, 0},
		{"invalid row, partial", withDuplicate(), true, true, total},
		{"invalid report, partial", badFINESS(), true, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, "sqlite", 1000)
			out, err := f.svc.Accept(context.Background(), report.Upload{
				TenantID: f.tenant.ID, APIKeyID: "key_test", RequestHash: sha256.New().Sum([]byte(tc.name)),
				FINESS: finess, Period: year2024, Partial: tc.partial, Report: tc.report,
			})
			if err != nil {
				t.Fatalf("Accept: %v", err)
			}
			if out.Accepted != tc.accepted || out.Summary.Rows.Total() != tc.rows {
				t.Fatalf("Accept = accepted %v with %d rows (%d problems), want accepted %v with %d rows",
					out.Accepted, out.Summary.Rows.Total(), out.Summary.TotalProblems, tc.accepted, tc.rows)
			}
			if wantProblems := tc.report != base; (out.Summary.TotalProblems > 0) != wantProblems {
				t.Fatalf("%d problems, want some: %v", out.Summary.TotalProblems, wantProblems)
			}
		})
	}
}

// TestCalendar checks each item's status against what became of the
// deliveries: the indicators, delivered, are accepted; the PSU
// declaration of the same year, refused, is rejected with its reason; the
// year's other declarations, never uploaded, are due.
func TestCalendar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t, "sqlite", 1000)
	f.psu.reject = true
	f.startJob(t)
	out, err := f.svc.Accept(ctx, upload(f, sampleFiles(t, "valid", "comma"), "", false))
	if err != nil || !out.Accepted {
		t.Fatalf("Accept = %+v, %v", out.Summary, err)
	}
	waitDelivered(t, f.store, f.tenant.ID, out.Version.ReportID, 1)

	items, err := f.svc.Calendar(ctx, f.tenant.ID, finess, 2025)
	if err != nil {
		t.Fatalf("Calendar: %v", err)
	}
	want := map[string]string{
		"forecast": report.StatusDue, "actual": report.StatusRejected, "update_june": report.StatusDue,
		"update_september": report.StatusDue, "yearly": report.StatusAccepted,
	}
	if len(items) != len(want) {
		t.Fatalf("Calendar lists %d items, want %d: %+v", len(items), len(want), items)
	}
	for _, it := range items {
		if it.Status != want[it.Declaration] {
			t.Errorf("%s: status %s, want %s", it.Declaration, it.Status, want[it.Declaration])
		}
		switch it.Status {
		case report.StatusAccepted:
			if it.Overdue || it.ReportID != out.Version.ReportID || it.Version != 1 {
				t.Errorf("%s: overdue %v, version %d of %s; want version 1 of %s, not overdue", it.Declaration, it.Overdue, it.Version, it.ReportID, out.Version.ReportID)
			}
		case report.StatusRejected:
			if len(it.Reasons) == 0 || it.Reasons[0].Destination != "cafpsu" || it.Reasons[0].Code == "" {
				t.Errorf("%s: reasons %+v, want cafpsu's", it.Declaration, it.Reasons)
			}
		}
	}
}
