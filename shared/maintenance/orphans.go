package maintenance

import (
	"context"
	"errors"
	"time"
)

// OrphanAge is how old an object must be before the orphan sweep may
// remove it. Every object is named by a file row or an upload session from
// the moment it exists, except briefly: a streamed upload's object until
// its row is written, a purged file's cold copy that a sync job put after
// the purge until the job removes it. The window is far longer than any of
// these (a streamed upload's object can be dated from the start of its
// transfer), so that the sweep never races them.
const OrphanAge = 48 * time.Hour

// Task names of the orphan sweep in a Report.
const (
	TaskOrphansHot  = "orphans_hot"
	TaskOrphansCold = "orphans_cold"
)

const (
	// userPrefix is where every object of the product lives:
	// user-{id}/{uuid}-{name} (core.ObjectKey).
	userPrefix = "user-"
	// orphanPage is how many keys are listed, and looked up in one query,
	// at a time; orphanPages bounds the pages of one tier per run (100 000
	// keys, 100 list requests). A larger tier is swept over several runs,
	// resuming where the last one stopped.
	orphanPage  = 1000
	orphanPages = 100
)

// ObjectStore is what the orphan sweep needs of the database.
type ObjectStore interface {
	ReferencedKeys(ctx context.Context, keys []string) (map[string]bool, error)
	MaintenanceCursor(ctx context.Context, name string) (string, error)
	SetMaintenanceCursor(ctx context.Context, name, after string) error
}

// SweepHotOrphans sweeps the hot tier (SweepOrphans).
func (s *Service) SweepHotOrphans(ctx context.Context) (int, error) {
	return s.SweepOrphans(ctx, TaskOrphansHot, s.Hot)
}

// SweepColdOrphans sweeps the cold tier (SweepOrphans).
func (s *Service) SweepColdOrphans(ctx context.Context) (int, error) {
	return s.SweepOrphans(ctx, TaskOrphansCold, s.Cold)
}

// SweepOrphans lists tier under the user prefixes (user-{id}/...), up to
// orphanPages pages of orphanPage keys from where the task name stopped
// last, and removes every object older than OrphanAge that no file row and
// no upload session names. It returns how many such orphans it found (each
// is also removed, unless the first error says otherwise); there should be
// none. On a versioned bucket (the cold tier of the CDK app and SAM) a
// removal leaves a noncurrent version, which the bucket's lifecycle rule
// expires, and the listing no longer shows the key.
func (s *Service) SweepOrphans(ctx context.Context, name string, tier Tier) (int, error) {
	after, err := s.Objects.MaintenanceCursor(ctx, name)
	if err != nil {
		return 0, err
	}
	page, pages := s.orphanPage, s.orphanPages
	if page == 0 {
		page, pages = orphanPage, orphanPages
	}
	found := 0
	var first error
	for range pages {
		objs, err := tier.List(ctx, userPrefix, after, page)
		if err != nil {
			return found, errors.Join(first, err)
		}
		keys := make([]string, len(objs))
		for i, o := range objs {
			keys[i] = o.Key
		}
		refs, err := s.Objects.ReferencedKeys(ctx, keys)
		if err != nil {
			return found, errors.Join(first, err)
		}
		for _, o := range objs {
			if refs[o.Key] || s.Now().Sub(o.LastModified) < OrphanAge {
				continue
			}
			found++
			s.Logger.WarnContext(ctx, "orphan object: no file row or upload session names it", "task", name, "key", o.Key,
				"bytes", o.Size, "last_modified", o.LastModified)
			if err := tier.Delete(ctx, o.Key); err != nil && first == nil {
				first = err
			}
		}
		if len(objs) < page {
			after = "" // the end: the next run starts over
			break
		}
		after = objs[len(objs)-1].Key
		if ctx.Err() != nil {
			break
		}
	}
	if err := s.Objects.SetMaintenanceCursor(ctx, name, after); err != nil {
		return found, errors.Join(first, err)
	}
	return found, first
}
