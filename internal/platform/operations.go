package platform

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/metastore"
)

// errLocked is Neon's answer while a project has operations in flight;
// clients match the message to retry.
var errLocked = newErr(KindLocked, "project already has running conflicting operations, scheduling of new ones is prohibited")

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
// does: it refuses with 423 while the project has operations in flight,
// records ops as running, and runs work. When work ends within the budget
// the answer carries the finished (or failed) operations and work's error;
// otherwise it carries them running and work finishes them later, which
// clients see by polling. A crash midway leaves them running for
// reconciliation to fail.
func (p *Platform) mutate(ctx context.Context, projectID string, ops []metastore.Operation, work func(ctx context.Context) error) ([]metastore.Operation, error) {
	if err := p.store.BeginOperations(ctx, projectID, ops...); err != nil {
		if errors.Is(err, metastore.ErrLocked) {
			return nil, errLocked
		}
		return nil, wrapStore("project", err)
	}
	done := make(chan error, 1)
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opWorkTimeout)
		defer cancel()
		err := work(wctx)
		p.finishOps(wctx, ops, err)
		done <- err
	}()
	budget := p.cfg.OpBudget
	if budget == 0 {
		budget = DefaultOpBudget
	}
	t := time.NewTimer(budget)
	defer t.Stop()
	select {
	case err := <-done:
		out := make([]metastore.Operation, len(ops))
		for i, op := range ops {
			out[i] = finished(op, err)
		}
		return out, err
	case <-t.C:
		return ops, nil
	case <-ctx.Done():
		return ops, nil
	}
}

// finished is op after work ended with err.
func finished(op metastore.Operation, err error) metastore.Operation {
	op.Status, op.Error = "finished", ""
	if err != nil {
		op.Status, op.Error = "failed", Message(err)
	}
	op.UpdatedAt = now()
	op.TotalDurationMS = int(op.UpdatedAt.Sub(op.CreatedAt) / time.Millisecond)
	return op
}

func (p *Platform) finishOps(ctx context.Context, ops []metastore.Operation, err error) {
	for _, op := range ops {
		f := finished(op, err)
		if ferr := p.store.FinishOperation(ctx, f.ID, f.Status, f.Error, f.UpdatedAt); ferr != nil {
			p.log.Error("finish operation", "operation", op.ID, "action", op.Action, "err", ferr)
		}
	}
}

// Wait waits for mutations still running in the background.
func (p *Platform) Wait() { p.bg.Wait() }
