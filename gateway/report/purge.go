package report

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// SegmentPurger deletes the staged rows of uploads that no version took.
type SegmentPurger interface {
	PurgeReportSegments(ctx context.Context, before time.Time) (int64, error)
}

// PurgeSegmentsArgs is the periodic job that deletes the staged rows of
// interrupted uploads.
type PurgeSegmentsArgs struct{}

// Kind implements river.JobArgs.
func (PurgeSegmentsArgs) Kind() string { return "relais.purge_report_segments" }

// PeriodicPurgeJob returns the River periodic job that deletes, every
// cfg.PurgeInterval, the staged rows of uploads older than cfg.PurgeAfter
// that no version took, and its worker. now may be nil (time.Now).
func PeriodicPurgeJob(cfg Config, s SegmentPurger, logger *slog.Logger, now func() time.Time) (*river.PeriodicJob, river.Worker[PurgeSegmentsArgs]) {
	cfg = cfg.WithDefaults()
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	job := river.NewPeriodicJob(river.PeriodicInterval(cfg.PurgeInterval), func() (river.JobArgs, *river.InsertOpts) {
		return PurgeSegmentsArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: cfg.PurgeInterval}}
	}, &river.PeriodicJobOpts{RunOnStart: true})
	return job, &purgeWorker{s: s, after: cfg.PurgeAfter, logger: logger, now: now}
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeSegmentsArgs]
	s      SegmentPurger
	after  time.Duration
	logger *slog.Logger
	now    func() time.Time
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeSegmentsArgs]) error {
	n, err := w.s.PurgeReportSegments(ctx, w.now().Add(-w.after))
	if err != nil {
		return err
	}
	if n > 0 {
		w.logger.Info("purged staged report segments", slog.Int64("segments", n))
	}
	return nil
}
