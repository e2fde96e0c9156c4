package erasure

import "testing"

func TestBufClass(t *testing.T) {
	tests := []struct{ n, want int }{
		{-1, -1}, {0, -1}, {1, 16}, {64 << 10, 16}, {64<<10 + 1, 17},
		{10 << 20, 24}, {256 << 20, 28}, {256<<20 + 1, -1},
	}
	for _, tt := range tests {
		if got := bufClass(tt.n); got != tt.want {
			t.Errorf("bufClass(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
	for _, n := range []int{0, 1, 64 << 10, 100 << 10} {
		tok, b := getBuf(n)
		if len(b) != n || (n > 0) != (tok != nil) || tok != nil && cap(*tok) != 1<<bufClass(n) {
			t.Fatalf("getBuf(%d): %d bytes, token %v", n, len(b), tok != nil)
		}
		putBuf(tok)
	}
}
