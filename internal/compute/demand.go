package compute

import (
	"context"
	"math"
	"os"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/pgconf"
)

// Warm pool sizing by demand.
//
// Projects are created in bursts (a class of students, a batch of agent
// runs): one warm server per major is taken by the first create of a burst,
// and the rest would start cold. So each major's pool is sized by its
// recent demand: the Takes (and creates that found the pool empty, which
// NewVolume counts) of the last minute or so, decayed exponentially, between
// Config.PoolSize (the floor, kept when idle) and Config.PoolMax (the
// ceiling, bounded by memory). A burst of N creates leaves about N warm
// servers behind for the next one; an idle minute gives back two thirds of
// what is above the floor, an idle five minutes nearly all of it.

// defaultDemandLife is the mean life of a Take in the demand level
// (Config.PoolDemandLife): the level is about the number of Takes in the
// last minute.
const defaultDemandLife = time.Minute

// warmServerBytes is the memory an idle warm server holds (PSS over its
// processes at 0.25 CU, measured by TestIdleMemory: 23.6 MiB), for the
// default ceiling.
const warmServerBytes = 24 << 20

// demand is the decayed count of one major's recent Takes.
type demand struct {
	level float64
	at    time.Time // when level was last decayed
}

// add counts one Take at now, each Take's weight falling by e every life.
func (d *demand) add(now time.Time, life time.Duration) {
	d.level = d.levelAt(now, life) + 1
	d.at = now
}

// levelAt is the level decayed to now.
func (d demand) levelAt(now time.Time, life time.Duration) float64 {
	if d.level == 0 || !now.After(d.at) {
		return d.level
	}
	return d.level * math.Exp(-float64(now.Sub(d.at))/float64(life))
}

// poolTarget is the number of warm servers to keep for a major whose recent
// demand is level: as many as its recent Takes, rounded so that a level
// decayed below half a Take gives the floor back, and never below floor nor
// above ceiling (the floor wins if the two cross).
func poolTarget(floor, ceiling int, level float64) int {
	want := int(math.Round(level))
	return max(floor, min(ceiling, want))
}

// poolKeep is the most warm servers a major keeps before stopping one: a
// quarter and one above its target. Creates at a steady pace move the
// level up by one at each Take and down by as much between two; without
// the margin the pool would stop a server and start another at every
// Take.
func poolKeep(floor, ceiling int, level float64) int {
	return poolTarget(floor, ceiling, 1.25*level+1)
}

// defaultPoolMax is the ceiling of warm servers per major when
// Config.PoolMax is 0: those of an idle pool fit in 1/32 of the host's
// memory (32 on 24 GiB, 5 on 4 GiB), and never below the floor.
func defaultPoolMax(memoryBytes int64, floor int) int {
	return max(floor, int(memoryBytes/32/warmServerBytes))
}

// poolTargetLocked is major's target now, and keep the most warm servers
// it keeps before stopping one (poolKeep). PoolMax is shared by every
// major, so one major alone in demand gets what the others' floors leave.
// Called with m.mu held.
func (m *Manager) poolTargetLocked(major int) (target, keep int) {
	ceiling := m.cfg.PoolMax - (len(m.installs)-1)*m.cfg.PoolSize
	level := m.fillBack[major].demand.levelAt(m.demandNowLocked(), m.cfg.PoolDemandLife)
	return poolTarget(m.cfg.PoolSize, ceiling, level), poolKeep(m.cfg.PoolSize, ceiling, level)
}

// countDemandLocked counts a Take of major, or a create that found its pool
// empty. Called with m.mu held.
func (m *Manager) countDemandLocked(major int) {
	fs := m.fillBack[major]
	fs.demand.add(m.demandNowLocked(), m.cfg.PoolDemandLife)
	m.fillBack[major] = fs
}

// demandNowLocked is the time demand is counted and decayed at: now, moved
// on by tests that skip an idle spell (export_test.go). Called with m.mu
// held.
func (m *Manager) demandNowLocked() time.Time { return time.Now().Add(m.demandSkew) }

// roomLocked reports whether one more warm instance fits: the warm
// instances of all majors (ready or starting) stay within PoolMax and,
// with the running computes, within MaxActive. Called with m.mu held.
func (m *Manager) roomLocked() bool {
	warm := 0
	for major, p := range m.pool {
		warm += len(p) + m.fillBack[major].filling
	}
	if warm >= m.cfg.PoolMax {
		return false
	}
	return m.cfg.MaxActive <= 0 || len(m.byID)+warm < m.cfg.MaxActive
}

// shrinkLocked stops one warm instance of major when its pool holds more
// than keep, preferring one not of the size Takes ask for, else the
// oldest. Not right after a Take: the Take may be the first of a burst the
// decayed demand does not show yet. Called with m.mu held.
func (m *Manager) shrinkLocked(ctx context.Context, wg *sync.WaitGroup, major, keep int, now time.Time) {
	pool := m.pool[major]
	fs := m.fillBack[major]
	if len(pool) <= keep || now.Before(fs.quietUntil) {
		return
	}
	pick := 0
	if fs.minCU > 0 {
		for i, in := range pool {
			want := m.size(Spec{Major: major, MinCU: fs.minCU, MaxCU: fs.maxCU, VolumeID: in.volumeID})
			if !pgconf.Equal(in.Settings(), want) {
				pick = i
				break
			}
		}
	}
	in := pool[pick]
	m.pool[major] = append(pool[:pick:pick], pool[pick+1:]...)
	m.warming[in] = true
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = m.stop(context.WithoutCancel(ctx), in, false)
		_ = os.RemoveAll(m.sockDir(in.ID()))
		m.dropVolume(ctx, in.volumeID)
		m.mu.Lock()
		delete(m.warming, in)
		m.mu.Unlock()
		m.log.Debug("warm instance stopped: demand fell", "version", major, "volume", in.volumeID, "keep", keep)
	}()
}
