package placement

// Adapt picks an erasure code for one server with the given number of
// drives, each drive a node of a LevelNode pool (objd server on N drive
// folders). The rule, which keeps every drive in the stripe up to 20 drives:
//
//	drives  1     2     3     4..11      12..19      20 and more
//	code    1+0   1+1   2+1   (N-2)+2    (N-4)+4     16+4
//
// so 4 -> 2+2, 5 -> 3+2, 6 -> 4+2, 8 -> 6+2, 12 -> 8+4, 16 -> 12+4. Two
// parity shards from four drives on survive two drive failures, and four from
// twelve on, where rebuilding a large drive takes long enough for more to
// fail. Mirroring (1+1) is the only redundancy two drives allow; a single
// drive has none (such a pool needs BestEffort). Stripes stop widening at
// 16+4 (overhead 1.25): wider stripes cost more per repair and per small
// read than they save. drives < 1 returns 0, 0.
func Adapt(drives int) (k, m int) {
	switch {
	case drives < 1:
		return 0, 0
	case drives == 1:
		return 1, 0
	case drives == 2:
		return 1, 1
	case drives == 3:
		return 2, 1
	case drives < 12:
		return drives - 2, 2
	case drives < 20:
		return drives - 4, 4
	}
	return 16, 4
}
