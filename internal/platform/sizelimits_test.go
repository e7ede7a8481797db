package platform

import (
	"testing"
	"time"
)

func TestNextSample(t *testing.T) {
	const every = 30 * time.Second
	for _, tc := range []struct {
		name        string
		limit, size int64
		want        time.Duration
	}{
		{"no limit", 0, 1 << 40, every},
		{"far from the limit", 512 << 20, 10 << 20, limitedSampleInterval},
		{"past half", 512 << 20, 300 << 20, nearLimitInterval},
		{"over", 512 << 20, 600 << 20, nearLimitInterval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextSample(tc.limit, tc.size, every); got != tc.want {
				t.Fatalf("nextSample = %v, want %v", got, tc.want)
			}
		})
	}
	if got := nextSample(512<<20, 600<<20, time.Second); got != time.Second {
		t.Fatalf("a shorter sampling interval wins: %v", got)
	}
}
