package object

import "github.com/tessera-store/tessera/erasure"

// packSlack is spare capacity after a pack's frames so that erasure.Encode
// can pad the pack to k equal shards in place (k*ShardAlign bytes at most).
const packSlack = 8 << 10

// encodePack codes frames into k+m shards. Data shards alias frames'
// backing array when its capacity allows (the usual case: writers allocate
// packSlack spare), so only parity is new memory.
func encodePack(code *erasure.Code, frames []byte) ([][]byte, error) {
	if need := code.PaddedLen(int64(len(frames))); int64(cap(frames)) < need {
		grown := make([]byte, len(frames), need)
		copy(grown, frames)
		frames = grown
	}
	shards := make([][]byte, code.N())
	if err := code.Encode(frames, shards); err != nil {
		return nil, err
	}
	return shards, nil
}
