// Package osid hands out the OS identities that computes run under: uids
// of a reserved range, one per project, with no /etc/passwd entry (a
// credential needs none to exec with). A volume's owner is its identity:
// branches and snapshots of a volume keep it, so a project's computes share
// one, and no other project's can enter its volumes, sockets or archives.
//
// The next free uid is kept in a file, written before any uid below it is
// handed out, so that no uid is ever given twice, across restarts and
// crashes. Uids are reserved in blocks, so that most allocations write
// nothing (a restart skips what was left of its block).
package osid

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// The reserved range: far above the ranges Debian gives system users,
// regular users and subordinate ids of user namespaces (100000 and up).
const (
	DefaultFirst = 1 << 30
	DefaultCount = 1 << 29
)

// Allocator hands out uids of [First, First+Count).
type Allocator struct {
	path         string
	first, count uint32

	mu         sync.Mutex
	next       uint32 // the next uid to hand out
	reservedTo uint32 // the file's value: uids below it may have been handed out
}

// block is how many uids one write of the file reserves.
const block = 64

// Open returns an allocator persisting its state in path (created when missing).
func Open(path string, first, count uint32) (*Allocator, error) {
	if count == 0 || uint64(first)+uint64(count) > 1<<32-1 || first < 1<<16 {
		return nil, fmt.Errorf("osid: invalid range %d+%d", first, count)
	}
	a := &Allocator{path: path, first: first, count: count, next: first}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("osid: %w", err)
	default:
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		if err != nil || !a.Contains(uint32(n)) && uint64(n) != uint64(first)+uint64(count) {
			return nil, fmt.Errorf("osid: %s: invalid next uid %q", path, strings.TrimSpace(string(b)))
		}
		a.next = uint32(n)
	}
	a.reservedTo = a.next
	return a, nil
}

// Contains reports whether uid is one of the allocator's.
func (a *Allocator) Contains(uid uint32) bool {
	return uid >= a.first && uint64(uid) < uint64(a.first)+uint64(a.count)
}

// Next returns a uid never handed out before.
func (a *Allocator) Next() (uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.Contains(a.next) {
		return 0, fmt.Errorf("osid: all %d uids from %d are used", a.count, a.first)
	}
	uid := a.next
	if uid >= a.reservedTo {
		end := uint32(min(uint64(uid)+block, uint64(a.first)+uint64(a.count)))
		if err := a.save(end); err != nil {
			return 0, err
		}
		a.reservedTo = end
	}
	a.next = uid + 1
	return uid, nil
}

func (a *Allocator) save(next uint32) error {
	tmp := a.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("osid: %w", err)
	}
	_, err = f.WriteString(strconv.FormatUint(uint64(next), 10) + "\n")
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, a.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(a.path))
	}
	if err != nil {
		return fmt.Errorf("osid: save %s: %w", a.path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
