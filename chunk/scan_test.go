package chunk

import "testing"

var sinkHash uint64

// scanRef is the textbook one-byte gear recurrence that scan must match.
func scanRef(p []byte, h, mask uint64) (int, uint64) {
	for i, b := range p {
		h = h<<1 + gear[b]
		if h&mask == 0 {
			return i + 1, h
		}
	}
	return -1, h
}

func TestScanMatchesReference(t *testing.T) {
	data := seeded(1<<20, 21)
	for _, bits := range []int{1, 2, 4, 6, 8, 12} {
		mask := ^uint64(0) << (64 - bits)
		for _, start := range []uint64{0, 0x0123456789abcdef} {
			p, h := data, start
			for len(p) > 0 {
				// Vary the length so every tail length of the unrolled
				// loop is covered.
				n := min(len(p), 1+len(p)%37+int(h%4096))
				k1, h1 := scan(p[:n], h, mask)
				k2, h2 := scanRef(p[:n], h, mask)
				if k1 != k2 || h1 != h2 {
					t.Fatalf("bits %d: scan = (%d, %#x), reference = (%d, %#x)", bits, k1, h1, k2, h2)
				}
				if k1 < 0 {
					k1 = n
				}
				p, h = p[k1:], h1
			}
		}
	}
}

// BenchmarkScan compares the unrolled scan with the one-byte loop on input
// that never cuts.
func BenchmarkScan(b *testing.B) {
	data := seeded(1<<20, 8)
	for _, f := range []struct {
		name string
		fn   func([]byte, uint64, uint64) (int, uint64)
	}{{"unrolled", scan}, {"onebyte", scanRef}} {
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var sink uint64
			start, n := processCPU(), 0
			for b.Loop() {
				n++
				// An all-ones mask matches only h == 0: never, here.
				_, h := f.fn(data, 0, ^uint64(0))
				sink += h
			}
			sinkHash = sink
			if cpu := processCPU() - start; cpu > 0 {
				b.ReportMetric(float64(n*len(data))/cpu.Seconds()/1e6, "cpu-MB/s")
			}
		})
	}
}
