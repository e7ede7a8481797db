package platform

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
)

// errLocked is Neon's answer while a project has operations in flight;
// clients match the message to retry.
var errLocked = newErr(errkind.Locked, "project already has running conflicting operations, scheduling of new ones is prohibited")

// DefaultOpBudget is how long a mutation waits for its work before it
// answers with operations still running.
const DefaultOpBudget = 2 * time.Second

// opWorkTimeout bounds the work of one mutation.
const opWorkTimeout = 10 * time.Minute

// newOp returns a running operation of a project.
func newOp(projectID, branchID, endpointID, action string) metastore.Operation {
	t := now()
	return metastore.Operation{ID: uuid.New(), ProjectID: projectID, BranchID: branchID, EndpointID: endpointID,
		Action: action, Status: "running", CreatedAt: t, UpdatedAt: t}
}

func (p *Platform) operation(e metastore.Endpoint, action string) metastore.Operation {
	return newOp(e.ProjectID, e.BranchID, e.ID, action)
}

// mutate runs work under a project's operations, as Neon's control plane
// does: it records ops as running, runs work, and answers. While the
// project has operations in flight it waits for them up to the budget and
// then refuses with Neon's 423: clients that issue calls back to back (a
// branch, then a role on it) meet no 423 for an operation about to end,
// and clients that retry on 423 still work. When work ends within the
// budget the answer carries the finished (or failed) operations and work's
// error; otherwise it carries them running and work finishes them later,
// which clients see by polling. Work may answer sooner with release. A
// crash midway leaves operations running for reconciliation to fail.
func (p *Platform) mutate(ctx context.Context, projectID string, ops []metastore.Operation, work func(ctx context.Context) error) ([]metastore.Operation, error) {
	budget := p.cfg.OpBudget
	if budget == 0 {
		budget = DefaultOpBudget
	}
	if err := p.beginOperations(ctx, projectID, ops, time.Now().Add(budget)); err != nil {
		return nil, err
	}
	type result struct {
		ops []metastore.Operation
		err error
	}
	done := make(chan result, 1)
	r := &releaser{ch: make(chan struct{}), ops: ops}
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opWorkTimeout)
		defer cancel()
		wctx = context.WithValue(wctx, releaserKey{}, r)
		err := work(wctx)
		// r.n is only written by release, inside work on this goroutine.
		done <- result{append(r.done[:r.n:r.n], p.finishOps(wctx, ops[r.n:], err)...), err}
	}()
	t := time.NewTimer(budget)
	defer t.Stop()
	select {
	case res := <-done:
		return res.ops, res.err
	case <-r.ch:
		return append(r.done[:r.n:r.n], ops[r.n:]...), nil
	case <-t.C:
		return ops, nil
	case <-ctx.Done():
		return ops, nil
	}
}

// beginOperations records ops as running once the project has no other
// operation in flight, waiting until deadline for those that are.
func (p *Platform) beginOperations(ctx context.Context, projectID string, ops []metastore.Operation, deadline time.Time) error {
	wait := 5 * time.Millisecond
	for {
		err := p.store.BeginOperations(ctx, projectID, ops...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, metastore.ErrLocked) {
			return wrapStore("project", err)
		}
		if time.Now().Add(wait).After(deadline) {
			return errLocked
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errLocked
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

type releaserKey struct{}

// releaser lets a mutation's work answer before it ends.
type releaser struct {
	ch   chan struct{}
	ops  []metastore.Operation
	n    int
	done []metastore.Operation
}

// release, called by a mutation's work, finishes the mutation's first n
// operations and lets the call answer now, with the others running, as
// Neon answers a branch create before its compute has started. Later calls
// do nothing.
func (p *Platform) release(ctx context.Context, n int) {
	r, ok := ctx.Value(releaserKey{}).(*releaser)
	if !ok || r.n > 0 || n <= 0 || n > len(r.ops) {
		return
	}
	r.done = p.finishOps(ctx, r.ops[:n], nil)
	r.n = n
	close(r.ch)
}

// finished is op after work ended with err.
func finished(op metastore.Operation, err error) metastore.Operation {
	op.Status, op.Error = "finished", ""
	if err != nil {
		op.Status, op.Error = "failed", errkind.Message(err)
	}
	op.UpdatedAt = now()
	op.TotalDurationMS = int(op.UpdatedAt.Sub(op.CreatedAt) / time.Millisecond)
	return op
}

// finishOps records ops as ended with err and returns them so.
func (p *Platform) finishOps(ctx context.Context, ops []metastore.Operation, err error) []metastore.Operation {
	out := make([]metastore.Operation, len(ops))
	for i, op := range ops {
		f := finished(op, err)
		out[i] = f
		if ferr := p.store.FinishOperation(ctx, f.ID, f.Status, f.Error, f.UpdatedAt); ferr != nil {
			p.log.Error("finish operation", "operation", op.ID, "action", op.Action, "err", ferr)
		}
	}
	return out
}

// Wait waits for mutations still running in the background.
func (p *Platform) Wait() { p.bg.Wait() }
