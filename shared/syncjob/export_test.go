package syncjob

import "time"

// What this package's tests may change in a job besides its Options: its
// fixed settings, its clock and the hooks at the steps of a file's move.

// Hooks are the job's step hooks (see hooks).
type Hooks = hooks

// Clock tells a job the time.
type Clock = clock

// Knobs change a job's fixed settings; zero fields leave them as they are.
type Knobs struct {
	Hooks       Hooks
	Clock       Clock
	Concurrency int           // files one worker moves at once
	Lease       time.Duration // how long a claim holds a file
	BackoffBase time.Duration // the first retry delay
	FlipDelay   time.Duration // how long a flip waits for others to join its statement
}

// With changes j as k says and returns j.
func (j *Job) With(k Knobs) *Job {
	j.hooks = k.Hooks
	if k.Clock != nil {
		j.clock = k.Clock
	}
	if k.Concurrency > 0 {
		j.concurrency = k.Concurrency
	}
	if k.Lease > 0 {
		j.lease = k.Lease
	}
	if k.BackoffBase > 0 {
		j.backoffBase = k.BackoffBase
	}
	if k.FlipDelay > 0 {
		j.flipDelay = k.FlipDelay
	}
	return j
}
