package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// quotaArgs are the arguments of -set-quota EMAIL MB.
type quotaArgs struct {
	email string
	bytes *int64 // nil: the default (USER_QUOTA_MB)
}

func (q quotaArgs) String() string {
	if q.bytes == nil {
		return "the default (USER_QUOTA_MB)"
	}
	return fmt.Sprintf("%d MiB", *q.bytes>>20)
}

// parseQuotaArgs reads EMAIL MB: MB a whole number of MiB from 0, or
// "default" to clear the user's own quota.
func parseQuotaArgs(args []string) (quotaArgs, error) {
	if len(args) != 2 {
		return quotaArgs{}, fmt.Errorf("-set-quota wants EMAIL MB, got %d arguments", len(args))
	}
	email, err := core.NormalizeEmail(args[0])
	if err != nil {
		return quotaArgs{}, fmt.Errorf("-set-quota: %q is not an email address", args[0])
	}
	q := quotaArgs{email: email}
	if args[1] == "default" {
		return q, nil
	}
	mb, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || mb < 0 || mb > 1<<30 {
		return quotaArgs{}, fmt.Errorf("-set-quota: MB must be a whole number from 0 to %d or \"default\", not %q", 1<<30, args[1])
	}
	b := mb << 20
	q.bytes = &b
	return q, nil
}

// runSetQuota is -set-quota: one UPDATE on the database of databaseURL.
func runSetQuota(ctx context.Context, databaseURL string, q quotaArgs) error {
	db, err := postgres.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetUserQuota(ctx, q.email, q.bytes); err != nil {
		return fmt.Errorf("set quota of %s: %w", q.email, err)
	}
	fmt.Fprintf(os.Stderr, "local: quota of %s set to %s\n", q.email, q)
	return nil
}
