package erasure

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/reedsolomon"
	"github.com/tessera-store/tessera/store"
)

func TestNewCode(t *testing.T) {
	tests := []struct {
		k, m    int
		wantErr error
	}{
		{1, 0, nil},
		{1, 2, nil},
		{4, 2, nil},
		{10, 4, nil},
		{16, 0, nil},
		{256, 0, nil},
		{0, 2, ErrInvalidScheme},
		{-1, 2, ErrInvalidScheme},
		{4, -1, ErrInvalidScheme},
		{200, 57, ErrInvalidScheme},
	}
	for _, tt := range tests {
		c, err := NewCode(tt.k, tt.m)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("NewCode(%d, %d): err %v, want %v", tt.k, tt.m, err, tt.wantErr)
			continue
		}
		if err == nil && (c.K() != tt.k || c.M() != tt.m || c.N() != tt.k+tt.m) {
			t.Errorf("NewCode(%d, %d) = %v", tt.k, tt.m, c)
		}
	}
}

func TestShardSize(t *testing.T) {
	tests := []struct {
		k       int
		packLen int64
		want    int64
	}{
		{4, 0, 0},
		{4, -5, 0},
		{4, 1, 64},
		{4, 256, 64},
		{4, 257, 128},
		{1, 100, 128},
		{10, 8 << 20, 838912}, // ceil(8388608/10) = 838861 -> 838912
		{4, 16 << 20, 4 << 20},
		{1, MaxPackLen, MaxPackLen},
		{1, MaxPackLen + 1, 0},
		{1, 1<<63 - 1, 0},
	}
	for _, tt := range tests {
		c, _ := NewCode(tt.k, 2)
		if got := c.ShardSize(tt.packLen); got != tt.want {
			t.Errorf("%d+2 ShardSize(%d) = %d, want %d", tt.k, tt.packLen, got, tt.want)
		}
		if s := c.ShardSize(tt.packLen); s%ShardAlign != 0 || s > 0 && int64(tt.k)*s < tt.packLen {
			t.Errorf("%d+2 ShardSize(%d) = %d does not cover the pack", tt.k, tt.packLen, s)
		}
	}
}

func randBytes(r *rand.Rand, n int) []byte {
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(r.Uint32())
	}
	b := make([]byte, n)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// encode returns pack's k+m shards, built in a buffer with spare capacity.
func encode(t testing.TB, c *Code, pack []byte) [][]byte {
	t.Helper()
	buf := make([]byte, len(pack), c.PaddedLen(int64(len(pack))))
	copy(buf, pack)
	shards := make([][]byte, c.N())
	if err := c.Encode(buf, shards); err != nil {
		t.Fatal(err)
	}
	return shards
}

func TestEncode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ k, m, n int }{{4, 2, 1000}, {10, 4, 100_000}, {1, 2, 77}, {3, 0, 5000}, {16, 4, 1}} {
		c, err := NewCode(tc.k, tc.m)
		if err != nil {
			t.Fatal(err)
		}
		pack := randBytes(r, tc.n)
		s := c.ShardSize(int64(tc.n))

		// In place: the data shards alias the pack buffer; stale bytes in
		// the padding are zeroed.
		buf := make([]byte, tc.n, c.PaddedLen(int64(tc.n)))
		for i := range buf[:cap(buf)] {
			buf[:cap(buf)][i] = 0xEE
		}
		copy(buf, pack)
		inPlace := make([][]byte, c.N())
		if err := c.Encode(buf, inPlace); err != nil {
			t.Fatal(err)
		}
		if &inPlace[0][0] != &buf[0] {
			t.Errorf("%s: data shard 0 was copied although the pack buffer had capacity", c)
		}
		// Copy path: tight pack buffer, caller-supplied shard buffers.
		copied := make([][]byte, c.N())
		for i := range copied {
			copied[i] = make([]byte, 3, s)
		}
		caps := make([]*byte, c.N())
		for i := range copied {
			caps[i] = &copied[i][:1][0]
		}
		if err := c.Encode(slices.Clip(slices.Clone(pack)), copied); err != nil {
			t.Fatal(err)
		}
		for i := range copied {
			if &copied[i][0] != caps[i] {
				t.Errorf("%s: shard %d buffer not reused", c, i)
			}
		}

		// Reference: split by hand and encode with reedsolomon directly.
		want := make([][]byte, c.N())
		for i := range want {
			want[i] = make([]byte, s)
			if i < tc.k {
				lo := min(int64(i)*s, int64(tc.n))
				hi := min(int64(i+1)*s, int64(tc.n))
				copy(want[i], pack[lo:hi])
			}
		}
		if tc.m > 0 {
			rs, _ := reedsolomon.New(tc.k, tc.m)
			if err := rs.Encode(want); err != nil {
				t.Fatal(err)
			}
		}
		for i := range want {
			if !bytes.Equal(inPlace[i], want[i]) || !bytes.Equal(copied[i], want[i]) {
				t.Errorf("%s: shard %d differs from the reference", c, i)
			}
		}
	}
}

// TestReplication checks that k = 1 is n-way replication: every parity
// shard is a copy of the (padded) pack.
func TestReplication(t *testing.T) {
	c, _ := NewCode(1, 3)
	pack := randBytes(rand.New(rand.NewPCG(16, 17)), 1000)
	shards := encode(t, c, pack)
	for i, s := range shards {
		if !bytes.Equal(s[:len(pack)], pack) || len(s) != 1024 {
			t.Fatalf("shard %d is not a copy of the pack", i)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	c, _ := NewCode(4, 2)
	if err := c.Encode(make([]byte, 10), make([][]byte, 5)); !errors.Is(err, ErrShardCount) {
		t.Errorf("5 shard buffers for 4+2: %v", err)
	}
	shards := make([][]byte, 6)
	if err := c.Encode(nil, shards); err != nil {
		t.Fatalf("empty pack: %v", err)
	}
	for i, s := range shards {
		if len(s) != 0 {
			t.Errorf("empty pack: shard %d has %d bytes", i, len(s))
		}
	}
}

func TestPlan(t *testing.T) {
	c, _ := NewCode(4, 2) // 1000-byte pack: S = 256
	tests := []struct {
		name       string
		off, n     int64
		want       []Span
		wantErrors bool
	}{
		{"empty", 10, 0, nil, false},
		{"inside", 10, 20, []Span{{0, 10, 20, 0}}, false},
		{"boundary", 250, 10, []Span{{0, 250, 6, 0}, {1, 0, 4, 6}}, false},
		{"three", 200, 400, []Span{{0, 200, 56, 0}, {1, 0, 256, 56}, {2, 0, 88, 312}}, false},
		{"tail", 990, 10, []Span{{3, 222, 10, 0}}, false},
		{"whole", 0, 1000, []Span{{0, 0, 256, 0}, {1, 0, 256, 256}, {2, 0, 256, 512}, {3, 0, 232, 768}}, false},
		{"past end", 990, 11, nil, true},
		{"negative off", -1, 5, nil, true},
		{"negative n", 5, -1, nil, true},
		{"overflow", 1, 1<<63 - 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Plan(1000, tt.off, tt.n)
			if (err != nil) != tt.wantErrors || err != nil && !errors.Is(err, ErrRange) {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := c.Plan(MaxPackLen+1, 0, 1); !errors.Is(err, ErrRange) {
		t.Fatalf("pack over MaxPackLen: %v", err)
	}
}

// naivePlan computes the spans byte by byte.
func naivePlan(s, off, n int64) []Span {
	var out []Span
	for b := off; b < off+n; b++ {
		sh, so := int(b/s), b%s
		if l := len(out); l > 0 && out[l-1].Shard == sh && out[l-1].Off+out[l-1].Len == so {
			out[l-1].Len++
			continue
		}
		out = append(out, Span{Shard: sh, Off: so, Len: 1, Pos: b - off})
	}
	return out
}

func FuzzPlan(f *testing.F) {
	f.Add(uint8(4), uint32(1000), uint32(250), uint16(10))
	f.Add(uint8(1), uint32(1), uint32(0), uint16(1))
	f.Add(uint8(16), uint32(100000), uint32(6200), uint16(4000))
	f.Fuzz(func(t *testing.T, k uint8, packLen, off uint32, n uint16) {
		c, err := NewCode(int(k), 1)
		if err != nil {
			return
		}
		pl, o, nn := int64(packLen%(4<<20)), int64(off), int64(n)
		got, err := c.Plan(pl, o, nn)
		if o+nn > pl {
			if !errors.Is(err, ErrRange) {
				t.Fatalf("Plan(%d, %d, %d): err %v, want ErrRange", pl, o, nn, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Plan(%d, %d, %d): %v", pl, o, nn, err)
		}
		if want := naivePlan(c.ShardSize(pl), o, nn); !slices.Equal(got, want) {
			t.Fatalf("Plan(%d, %d, %d) on %s = %v, want %v", pl, o, nn, c, got, want)
		}
		for _, sp := range got {
			if sp.Shard >= c.K() || sp.Off+sp.Len > c.ShardSize(pl) {
				t.Fatalf("span %v outside the stripe", sp)
			}
		}
	})
}

// randomFault returns a fault (not blocked) for a shard of s bytes.
func randomFault(r *rand.Rand, s int64) fault {
	switch r.IntN(3) {
	case 0:
		return fault{kind: missing}
	case 1:
		lo := r.Int64N(s)
		return fault{kind: corrupt, lo: lo, hi: lo + 1 + r.Int64N(min(s-lo, 4096))}
	default:
		return fault{kind: errAfter, after: r.Int64N(s + 1)}
	}
}

// randHedge returns no hedge, one that fires at once (direct read and
// rebuild race each other), or one that never fires in a test.
func randHedge(r *rand.Rand) time.Duration {
	return []time.Duration{0, time.Nanosecond, time.Hour}[r.IntN(3)]
}

// randLen returns a length in [1, max] spread over orders of magnitude.
func randLen(r *rand.Rand, max int64) int64 {
	return 1 + r.Int64N(min(max, int64(1)<<r.IntN(23)))
}

func TestReadRangeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	ctx := context.Background()
	iters := 120
	if testing.Short() {
		iters = 30
	}
	for it := range iters {
		k, m := 1+r.IntN(16), r.IntN(5)
		c, err := NewCode(k, m)
		if err != nil {
			t.Fatal(err)
		}
		c = c.WithExtraReads(r.IntN(3) - 1).WithHedge(randHedge(r))
		packLen := randLen(r, 3<<20)
		pack := randBytes(r, int(packLen))
		shards := encode(t, c, pack)
		s := c.ShardSize(packLen)

		fr := newFakeReader(shards)
		lost := r.IntN(m + 1)
		for _, i := range r.Perm(c.N())[:lost] {
			fr.faults[i] = randomFault(r, s)
		}
		for range 6 {
			off := r.Int64N(packLen)
			n := randLen(r, packLen-off)
			p := make([]byte, n)
			if err := c.ReadRange(ctx, fr, packLen, p, off); err != nil {
				t.Fatalf("iter %d %s pack %d faults %v: ReadRange(%d, +%d): %v", it, c, packLen, fr.faults, off, n, err)
			}
			if !bytes.Equal(p, pack[off:off+n]) {
				t.Fatalf("iter %d %s pack %d faults %v: ReadRange(%d, +%d): wrong bytes", it, c, packLen, fr.faults, off, n)
			}
		}
	}
}

func TestReadRangeTooFewShards(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	for it := range 60 {
		k, m := 1+r.IntN(16), r.IntN(5)
		c, _ := NewCode(k, m)
		c = c.WithHedge(randHedge(r))
		packLen := int64(k)*64 + randLen(r, 1<<20)
		pack := randBytes(r, int(packLen))
		fr := newFakeReader(encode(t, c, pack))

		off := r.Int64N(packLen)
		n := randLen(r, packLen-off)
		spans, _ := c.Plan(packLen, off, n)
		// Lose m+1 shards, one of them a data shard the range needs.
		lost := []int{spans[r.IntN(len(spans))].Shard}
		for _, i := range r.Perm(c.N()) {
			if len(lost) == m+1 {
				break
			}
			if i != lost[0] {
				lost = append(lost, i)
			}
		}
		slices.Sort(lost)
		for _, i := range lost {
			fr.faults[i] = fault{kind: missing}
		}
		err := c.ReadRange(ctx, fr, packLen, make([]byte, n), off)
		var tf *TooFewShardsError
		if !errors.Is(err, ErrTooFewShards) || !errors.As(err, &tf) || !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("iter %d %s lost %v: err %v, want a TooFewShardsError", it, c, lost, err)
		}
		if !slices.Equal(tf.Failed, lost) || len(tf.Errs) != len(lost) || tf.Need != k {
			t.Fatalf("iter %d %s: error names %v (need %d), lost %v", it, c, tf.Failed, tf.Need, lost)
		}
		var se *ShardError
		if !errors.As(tf.Errs[0], &se) || se.Index != lost[0] {
			t.Fatalf("iter %d: first error %v is not shard %d's", it, tf.Errs[0], lost[0])
		}
	}
}

// TestReadRangeTouches checks that a 64 KiB read asks for exactly the bytes
// it needs: one data shard when healthy, the same offsets of k shards when
// that shard is lost.
func TestReadRangeTouches(t *testing.T) {
	const packLen, off, n = 8 << 20, 3<<20 + 12345, 64 << 10
	c, _ := NewCode(4, 2) // S = 2 MiB: the range is inside data shard 1
	r := rand.New(rand.NewPCG(5, 6))
	pack := randBytes(r, packLen)
	shards := encode(t, c, pack)
	so := int64(off - 2<<20)
	want := []request{{so, n}}

	fr := newFakeReader(shards)
	p := make([]byte, n)
	if err := c.ReadRange(context.Background(), fr, packLen, p, off); err != nil {
		t.Fatal(err)
	}
	if got := fr.requests(); len(got) != 1 || !slices.Equal(got[1], want) {
		t.Fatalf("healthy read requested %v, want only shard 1 %v", got, want)
	}

	for _, lostParity := range []bool{false, true} {
		fr = newFakeReader(shards)
		fr.faults[1] = fault{kind: missing}
		if lostParity {
			fr.faults[4] = fault{kind: corrupt, lo: so + 100, hi: so + 200}
		}
		clear(p)
		if err := c.ReadRange(context.Background(), fr, packLen, p, off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p, pack[off:off+n]) {
			t.Fatal("degraded read returned wrong bytes")
		}
		got := fr.requests()
		answered := 0
		for i, reqs := range got {
			if !slices.Equal(reqs, want) {
				t.Errorf("shard %d requests %v, want %v", i, reqs, want)
			}
			if fr.faults[i].kind == healthy {
				answered++
			}
		}
		wantShards := 1 + c.K() // the lost shard, then k others
		if lostParity {
			wantShards++ // the corrupt parity shard was replaced
		}
		if len(got) != wantShards || answered != c.K() {
			t.Errorf("lost parity %v: %d shards asked (%d answered), want %d (%d)", lostParity, len(got), answered, wantShards, c.K())
		}
	}
}

func TestReadRangeBlocked(t *testing.T) {
	c, _ := NewCode(4, 2)
	pack := randBytes(rand.New(rand.NewPCG(8, 9)), 100_000)
	shards := encode(t, c, pack)
	for _, tc := range []struct {
		name   string
		faults map[int]fault
	}{
		{"data shard blocks", map[int]fault{0: {kind: blocked}}},
		{"rebuild source blocks", map[int]fault{0: {kind: missing}, 2: {kind: blocked}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFakeReader(shards)
			fr.faults = tc.faults
			fr.entered = make(chan int, 1)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.ReadRange(ctx, fr, int64(len(pack)), make([]byte, 1000), 100) }()
			<-fr.entered
			cancel()
			err := <-done
			if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTooFewShards) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		})
	}
}

func TestReadRangeMultiSpanFailure(t *testing.T) {
	// A range over three data shards, two of them lost, with m = 2: each span
	// rebuilds from the remaining shards, and the failures are shared.
	c, _ := NewCode(4, 2)
	pack := randBytes(rand.New(rand.NewPCG(10, 11)), 1000) // S = 256
	fr := newFakeReader(encode(t, c, pack))
	fr.faults[1] = fault{kind: missing}
	fr.faults[2] = fault{kind: missing}
	p := make([]byte, 400)
	if err := c.ReadRange(context.Background(), fr, 1000, p, 200); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p, pack[200:600]) {
		t.Fatal("wrong bytes")
	}
	fr.faults[5] = fault{kind: missing}
	err := c.ReadRange(context.Background(), fr, 1000, p, 200)
	var tf *TooFewShardsError
	if !errors.As(err, &tf) || !slices.Equal(tf.Failed, []int{1, 2, 5}) {
		t.Fatalf("3 lost of 4+2: %v", err)
	}
}

func TestReadRangeBadInput(t *testing.T) {
	c, _ := NewCode(4, 2)
	fr := newFakeReader(encode(t, c, make([]byte, 1000)))
	for _, tc := range []struct {
		packLen, off int64
		n            int
	}{{1000, 990, 11}, {1000, -1, 1}, {1000, 1001, 0}, {-1, 0, 0}} {
		if err := c.ReadRange(context.Background(), fr, tc.packLen, make([]byte, tc.n), tc.off); !errors.Is(err, ErrRange) {
			t.Errorf("ReadRange(%d, %d, +%d): %v, want ErrRange", tc.packLen, tc.off, tc.n, err)
		}
	}
	if err := c.ReadRange(context.Background(), fr, 1000, nil, 1000); err != nil {
		t.Errorf("empty read at the end: %v", err)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestReconstruct(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	ctx := context.Background()
	for _, tc := range []struct{ k, m, packLen int }{{4, 2, 3 << 20}, {10, 4, 1 << 20}, {1, 2, 5000}, {3, 1, 1}} {
		c, _ := NewCode(tc.k, tc.m)
		shards := encode(t, c, randBytes(r, tc.packLen))
		for target := range c.N() {
			fr := newFakeReader(shards)
			// Up to m-1 other shards fail (the target is the m-th loss).
			others := slices.DeleteFunc(r.Perm(c.N()), func(i int) bool { return i == target })
			for _, i := range others[:r.IntN(tc.m)] {
				fr.faults[i] = randomFault(r, c.ShardSize(int64(tc.packLen)))
			}
			fr.faults[target] = fault{kind: missing}
			var out bytes.Buffer
			if err := c.Reconstruct(ctx, fr, int64(tc.packLen), target, &out); err != nil {
				t.Fatalf("%s shard %d faults %v: %v", c, target, fr.faults, err)
			}
			if !bytes.Equal(out.Bytes(), shards[target]) {
				t.Fatalf("%s shard %d: rebuilt bytes differ", c, target)
			}
			if len(fr.requests()[target]) != 0 {
				t.Fatalf("%s: Reconstruct read the shard it rebuilds", c)
			}
			for _, reqs := range fr.requests() {
				for _, q := range reqs {
					if q.n > RepairPiece {
						t.Fatalf("%s: request of %d bytes exceeds RepairPiece", c, q.n)
					}
				}
			}
		}
		// m more losses: too few.
		fr := newFakeReader(shards)
		for i := 1; i <= tc.m; i++ {
			fr.faults[i] = fault{kind: missing}
		}
		err := c.Reconstruct(ctx, fr, int64(tc.packLen), 0, &bytes.Buffer{})
		var tf *TooFewShardsError
		if !errors.As(err, &tf) || len(tf.Failed) != tc.m {
			t.Fatalf("%s with %d more losses: %v", c, tc.m, err)
		}
		if err := c.Reconstruct(ctx, newFakeReader(shards), int64(tc.packLen), 0, &failWriter{n: 10}); err == nil {
			t.Fatalf("%s: write error not returned", c)
		}
	}
	c, _ := NewCode(4, 2)
	for _, shard := range []int{-1, 6} {
		if err := c.Reconstruct(ctx, newFakeReader(nil), 100, shard, &bytes.Buffer{}); !errors.Is(err, ErrShardCount) {
			t.Errorf("shard %d: %v", shard, err)
		}
	}
}

func TestReadRangeExtraReads(t *testing.T) {
	// Data shard 0 is lost and shard 2, a rebuild source, hangs. With one extra read the rebuild asks shards 1-5, uses
	// the four that answer, cancels shard 2 and returns without waiting for ctx.
	base, _ := NewCode(4, 2)
	c := base.WithExtraReads(1)
	if base.extra != 0 {
		t.Fatal("WithExtraReads changed its receiver")
	}
	pack := randBytes(rand.New(rand.NewPCG(14, 15)), 100_000)
	fr := newFakeReader(encode(t, c, pack))
	fr.faults[0] = fault{kind: missing}
	fr.faults[2] = fault{kind: blocked}
	p := make([]byte, 1000)
	if err := c.ReadRange(context.Background(), fr, int64(len(pack)), p, 100); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p, pack[100:1100]) {
		t.Fatal("wrong bytes")
	}
	got := fr.requests()
	for i := range c.N() {
		if len(got[i]) != 1 {
			t.Fatalf("asked %v; want every shard once (0 direct, 5 = k+1 rebuild sources)", got)
		}
	}
}

func TestReadRangeHedge(t *testing.T) {
	// Data shard 0 hangs: after the hedge delay the span is rebuilt from
	// shards 1-4, and the hung read is cancelled and waited for.
	c, _ := NewCode(4, 2)
	c = c.WithHedge(time.Microsecond)
	pack := randBytes(rand.New(rand.NewPCG(18, 19)), 100_000)
	fr := newFakeReader(encode(t, c, pack))
	fr.faults[0] = fault{kind: blocked}
	p := make([]byte, 1000)
	if err := c.ReadRange(context.Background(), fr, int64(len(pack)), p, 100); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p, pack[100:1100]) {
		t.Fatal("wrong bytes")
	}
	got := fr.requests()
	if len(got) != 5 || len(got[5]) != 0 {
		t.Fatalf("asked %v; want shard 0 then shards 1-4", got)
	}

	// Hung data shard and too few others: the caller's ctx ends the call.
	fr.faults[1] = fault{kind: missing}
	fr.faults[2] = fault{kind: missing}
	fr.entered = make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.ReadRange(ctx, fr, int64(len(pack)), p, 100) }()
	<-fr.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}

	// Without parity there is nothing to hedge with: the direct read decides.
	c0, _ := NewCode(4, 0)
	c0 = c0.WithHedge(time.Nanosecond)
	fr = newFakeReader(encode(t, c0, pack))
	if err := c0.ReadRange(context.Background(), fr, int64(len(pack)), p, 100); err != nil || !bytes.Equal(p, pack[100:1100]) {
		t.Fatalf("4+0 with hedge: %v", err)
	}
}
