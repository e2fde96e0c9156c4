package server

import (
	"encoding/binary"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/pack"
)

// Keyspaces. Every key starts with a one-letter prefix and a slash so that a
// later split into ranges needs no format change. docs/arch/meta-state.md
// documents each key and its value.
const (
	pfxBucket    = "b/" // b/<bucket>                      -> bucket record
	pfxObject    = "o/" // o/<bucket>/<key>                -> object record
	pfxChunk     = "c/" // c/<addr 32>                     -> chunk record
	pfxPack      = "p/" // p/<pack 16>                     -> pack record
	pfxDeadPack  = "d/" // d/<pack 16>                     -> empty: pack at LiveBytes 0
	pfxNode      = "n/" // n/<node>                        -> node record
	pfxPool      = "l/" // l/<pool>                        -> pool record
	pfxUpload    = "u/" // u/<bucket>/<E(key)><E(id)>[part] -> upload or part record
	pfxVersion   = "v/" // v/<bucket>/<E(key)><^seq 8><version id> -> object record (non-current or latest delete marker)
	pfxUserKey   = "i/k/"
	pfxUserName  = "i/n/"
	pfxReqID     = "r/k/" // r/k/<reqid>              -> result record
	pfxReqTime   = "r/t/" // r/t/<time 8><reqid>      -> empty (prune index)
	pfxTombstone = "t/"   // t/<time 8><addr 32>      -> empty
	pfxEmptyPack = "z/"   // z/<time 8><pack 16>      -> empty: pack registered with no live bytes
	keyStats     = "s/stats"
	keyIdemCount = "s/idem"
	keyApplied   = "a/applied"
)

func key2(pfx, a string) []byte {
	k := make([]byte, 0, len(pfx)+len(a))
	return append(append(k, pfx...), a...)
}

func bucketKey(name string) []byte { return key2(pfxBucket, name) }

func objectPrefix(bucket string) []byte {
	k := make([]byte, 0, len(pfxObject)+len(bucket)+1)
	return append(append(append(k, pfxObject...), bucket...), '/')
}

func objectKey(bucket, key string) []byte {
	return append(objectPrefix(bucket), key...)
}

func chunkKey(a chunk.Addr) []byte {
	k := make([]byte, 0, len(pfxChunk)+len(a))
	return append(append(k, pfxChunk...), a[:]...)
}

func packKey(id pack.ID) []byte {
	k := make([]byte, 0, len(pfxPack)+len(id))
	return append(append(k, pfxPack...), id[:]...)
}

func deadPackKey(id pack.ID) []byte {
	k := make([]byte, 0, len(pfxDeadPack)+len(id))
	return append(append(k, pfxDeadPack...), id[:]...)
}

// timeBytes maps an int64 to 8 bytes whose byte order is the numeric order.
func timeBytes(b []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t)^(1<<63))
}

func timeFromBytes(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
}

func tombstoneKey(t int64, a chunk.Addr) []byte {
	k := make([]byte, 0, len(pfxTombstone)+8+len(a))
	k = timeBytes(append(k, pfxTombstone...), t)
	return append(k, a[:]...)
}

// emptyPackKey indexes a pack registered at t with no live bytes: GC
// declares it dead after the grace period unless a later commit (another
// upload that shares it) added live bytes.
func emptyPackKey(t int64, id pack.ID) []byte {
	k := make([]byte, 0, len(pfxEmptyPack)+8+len(id))
	k = timeBytes(append(k, pfxEmptyPack...), t)
	return append(k, id[:]...)
}

func reqKey(id string) []byte { return key2(pfxReqID, id) }

func reqTimeKey(t int64, id string) []byte {
	k := make([]byte, 0, len(pfxReqTime)+8+len(id))
	k = timeBytes(append(k, pfxReqTime...), t)
	return append(k, id...)
}

// Upload keys embed two arbitrary strings (key and upload ID) in an order-
// preserving, self-delimiting form: each 0x00 byte becomes 0x00 0xFF and the
// string ends with 0x00 0x01. Keys therefore sort by (key, uploadID), and
// "everything after string s" is s's escaped bytes followed by 0x00 0x02.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xFF)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, 0, 1)
}

func uploadBucketPrefix(bucket string) []byte {
	k := make([]byte, 0, len(pfxUpload)+len(bucket)+1)
	return append(append(append(k, pfxUpload...), bucket...), '/')
}

func uploadKey(bucket, key, id string) []byte {
	return appendEscaped(appendEscaped(uploadBucketPrefix(bucket), key), id)
}

func partKey(bucket, key, id string, n int) []byte {
	return binary.BigEndian.AppendUint32(uploadKey(bucket, key, id), uint32(n))
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil if there is none (p is all 0xFF).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
