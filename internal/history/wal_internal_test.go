package history

import "testing"

func TestSegmentNames(t *testing.T) {
	for _, c := range []struct {
		name    string
		segSize int64
		prev    string
	}{
		{"000000010000000000000022", 1 << 20, "000000010000000000000021"},
		{"000000020000000100000000", 1 << 20, "000000020000000000000FFF"},
		{"000000010000000100000000", 16 << 20, "0000000100000000000000FF"},
	} {
		got, err := prevSegment(c.name, c.segSize)
		if err != nil || got != c.prev {
			t.Errorf("prevSegment(%s, %d) = %q, %v; want %q", c.name, c.segSize, got, err, c.prev)
		}
	}
	if _, err := prevSegment("000000010000000000000000", 1<<20); err == nil {
		t.Error("prevSegment of the first segment succeeded")
	}
	tli, start, ok := segmentStart("000000030000000200000004", 16<<20)
	if !ok || tli != 3 || start != LSN(2<<32|4*16<<20) {
		t.Errorf("segmentStart = %d, %s, %v", tli, start, ok)
	}
}
