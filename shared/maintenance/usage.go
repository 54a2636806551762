package maintenance

import (
	"context"
	"fmt"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// TaskUsage is the task that checks the usage counters against the rows;
// its Done is the number of users whose counters had drifted (should be 0:
// the triggers keep them, so a drift means a path that bypassed them).
const TaskUsage = "usage_drift"

// UsageStore is what the counters' check needs of the database.
type UsageStore interface {
	ReconcileUsage(ctx context.Context) ([]postgres.UsageDrift, error)
}

// UsageCheckEvery is how often the check runs: it reads every file row,
// so the local server's five-minute runs do it once a day (the nightly
// run on AWS, every night).
const UsageCheckEvery = 23 * time.Hour

// ReconcileUsage recomputes every user's usage from the rows, repairs the
// counters that differ and logs each repair, unless the last check is
// less than UsageCheckEvery old.
func (s *Service) ReconcileUsage(ctx context.Context) (int, error) {
	st, ok := s.Quotas.(UsageStore)
	if !ok || s.Objects == nil {
		return 0, nil
	}
	last, err := s.Objects.MaintenanceCursor(ctx, TaskUsage)
	if err != nil {
		return 0, err
	}
	if t, err := time.Parse(time.RFC3339, last); err == nil && s.Now().Sub(t) < UsageCheckEvery {
		return 0, nil
	}
	drifts, err := st.ReconcileUsage(ctx)
	if err == nil {
		if err := s.Objects.SetMaintenanceCursor(ctx, TaskUsage, s.Now().UTC().Format(time.RFC3339)); err != nil {
			return len(drifts), fmt.Errorf("record the usage check: %w", err)
		}
	}
	for _, d := range drifts {
		s.Logger.WarnContext(ctx, "usage counters drifted: repaired", "user_id", d.UserID,
			"had", d.Had[:], "actual", d.Actual[:], "order", "hot,cold,trash,files,upload,reserved")
	}
	return len(drifts), err
}
