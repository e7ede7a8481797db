package compute

import "time"

// SkipDemandTime moves the clock of the warm pools' demand on by d, as if
// the manager had been idle that long.
func (m *Manager) SkipDemandTime(d time.Duration) {
	m.mu.Lock()
	m.demandSkew += d
	m.mu.Unlock()
	m.wakeRun()
}
