package main

import (
	"context"
	"time"
)

// drainGrace bounds how long a stop waits for the listeners to drain and
// for mutations still running to record their operations; what does not
// end in time is failed by reconciliation at the next start.
const drainGrace = 10 * time.Second

// closer stops one component. Its ctx ends drainGrace after the stop
// began: a step that must finish whatever the time derives
// context.WithoutCancel(ctx) with a timeout of its own. leave is set by
// SIGTERM: what the next Grove adopts (computes, the metadata cluster and
// the file systems they use) stays running.
type closer func(ctx context.Context, leave bool)

// closers are the stops of what serve started, in order of start.
type closers []closer

func (c *closers) add(f closer) {
	if f != nil {
		*c = append(*c, f)
	}
}

// close runs the stops in reverse order of start, so that each component
// stops before those it uses.
func (c closers) close(leave bool) {
	ctx, cancel := context.WithTimeout(context.Background(), drainGrace)
	defer cancel()
	for i := len(c) - 1; i >= 0; i-- {
		c[i](ctx, leave)
	}
}

// goRun runs fn until ctx ends or its closer runs; the closer returns once
// fn has.
func goRun(ctx context.Context, fn func(context.Context)) closer {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return func(context.Context, bool) {
		cancel()
		<-done
	}
}
