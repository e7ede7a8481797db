package compute

import "time"

// RestartPolicy decides what happens after a compute crashes: restart after
// a back-off that doubles with each recent crash, or give up when it crashed
// too often within Window. It is pure: the manager keeps the crash times.
type RestartPolicy struct {
	Initial    time.Duration // back-off after the first crash in Window
	Max        time.Duration // back-off ceiling
	Window     time.Duration // crashes older than this are forgotten
	MaxCrashes int           // give up at this many crashes within Window
}

// DefaultRestartPolicy restarts after 100 ms, doubling to 30 s, and gives up
// at the 5th crash within a minute.
func DefaultRestartPolicy() RestartPolicy {
	return RestartPolicy{Initial: 100 * time.Millisecond, Max: 30 * time.Second, Window: time.Minute, MaxCrashes: 5}
}

func (p RestartPolicy) withDefaults() RestartPolicy {
	d := DefaultRestartPolicy()
	if p.Initial <= 0 {
		p.Initial = d.Initial
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	if p.Window <= 0 {
		p.Window = d.Window
	}
	if p.MaxCrashes <= 0 {
		p.MaxCrashes = d.MaxCrashes
	}
	return p
}

// Next records a crash at now. Given the earlier crash times (oldest first),
// it returns the crash times to remember (those within Window, now included),
// the delay before the restart, and whether to give up instead.
func (p RestartPolicy) Next(crashes []time.Time, now time.Time) (keep []time.Time, delay time.Duration, giveUp bool) {
	p = p.withDefaults()
	for _, c := range crashes {
		if now.Sub(c) < p.Window {
			keep = append(keep, c)
		}
	}
	keep = append(keep, now)
	n := len(keep)
	if n >= p.MaxCrashes {
		return keep, 0, true
	}
	delay = p.Initial
	for i := 1; i < n && delay < p.Max; i++ {
		delay *= 2
	}
	return keep, min(delay, p.Max), false
}
