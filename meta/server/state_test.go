package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/pack"
)

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func testOptions(t *testing.T, fs vfs.FS) Options {
	return Options{FS: fs, Logger: slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

func openMem(t *testing.T) *State {
	t.Helper()
	st, err := Open("state", testOptions(t, vfs.NewMem()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func mustEncode(t testing.TB, c *Command) []byte {
	t.Helper()
	b, err := EncodeCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *State) applyCmd(t testing.TB, c *Command) Result {
	t.Helper()
	return s.Apply(s.AppliedIndex()+1, mustEncode(t, c))
}

// digest hashes every key and value of the state.
func digest(t *testing.T, s *State) [32]byte {
	t.Helper()
	h := sha256.New()
	err := s.view(func(r pebble.Reader) error {
		it, err := r.NewIter(nil)
		if err != nil {
			return err
		}
		defer it.Close()
		for it.First(); it.Valid(); it.Next() {
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(len(it.Key())))
			h.Write(n[:])
			h.Write(it.Key())
			binary.BigEndian.PutUint64(n[:], uint64(len(it.Value())))
			h.Write(n[:])
			h.Write(it.Value())
		}
		return it.Error()
	})
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// checkInvariants recomputes refcounts, pack live bytes and every counter
// from the records and compares them with what the state keeps.
func checkInvariants(t *testing.T, s *State) {
	t.Helper()
	refs := map[chunk.Addr]int64{}
	var want meta.Stats
	chunks := map[chunk.Addr]chunkRec{}
	live := map[pack.ID]int64{}
	packs := map[pack.ID]meta.Pack{}
	tombs := map[string]bool{}
	err := s.view(func(r pebble.Reader) error {
		it, err := r.NewIter(nil)
		if err != nil {
			return err
		}
		defer it.Close()
		for it.First(); it.Valid(); it.Next() {
			k, v := it.Key(), it.Value()
			switch {
			case bytes.HasPrefix(k, []byte(pfxBucket)):
				want.Buckets++
			case bytes.HasPrefix(k, []byte(pfxObject)), bytes.HasPrefix(k, []byte(pfxVersion)):
				o, err := DecodeObject(v)
				if err != nil {
					return err
				}
				if o.DeleteMarker {
					continue
				}
				want.Objects++
				want.LogicalBytes += o.Size
				for _, c := range o.Chunks {
					refs[c.Addr]++
				}
			case bytes.HasPrefix(k, []byte(pfxUpload)):
				if _, _, ok := splitUploadKey(k[bytes.IndexByte(k[2:], '/')+3:]); ok {
					want.Uploads++
					continue
				}
				p, err := decodePart(v)
				if err != nil {
					return err
				}
				for _, c := range p.Chunks {
					refs[c.Addr]++
				}
			case bytes.HasPrefix(k, []byte(pfxChunk)):
				c, err := decodeChunk(v)
				if err != nil {
					return err
				}
				chunks[chunk.Addr(k[2:])] = c
				live[c.Pack] += int64(c.Length)
			case bytes.HasPrefix(k, []byte(pfxPack)):
				p, err := decodePack(v)
				if err != nil {
					return err
				}
				packs[p.ID] = p
				want.Packs++
				want.StoredBytes += p.Length
				want.RawBytes += p.ShardSize * int64(p.K+p.M)
			case bytes.HasPrefix(k, []byte(pfxTombstone)):
				tombs[string(k)] = true
			}
		}
		return it.Error()
	})
	if err != nil {
		t.Fatal(err)
	}
	for a, c := range chunks {
		if refs[a] != c.Refs {
			t.Fatalf("chunk %v: %d refs recorded, %d held by manifests", a, c.Refs, refs[a])
		}
		want.Chunks += c.Refs
		if c.Refs > 0 {
			want.UniqueChunks++
		} else if !tombs[string(tombstoneKey(c.Dead, a))] {
			t.Fatalf("chunk %v at zero refs without tombstone at %d", a, c.Dead)
		}
		if _, ok := packs[c.Pack]; !ok {
			t.Fatalf("chunk %v in unknown pack %v", a, c.Pack)
		}
	}
	for a, n := range refs {
		if _, ok := chunks[a]; !ok {
			t.Fatalf("manifests hold %d refs to unindexed chunk %v", n, a)
		}
	}
	for id, p := range packs {
		if p.LiveBytes != live[id] {
			t.Fatalf("pack %v: LiveBytes %d, chunks hold %d", id, p.LiveBytes, live[id])
		}
	}
	got, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("stats:\n got %+v\nwant %+v", got, want)
	}
}

// gen makes random but plausible commands over a small name space, so that
// they collide: dedup hits, overwrites, refcount drops, GC, multipart.
type gen struct {
	rng   *rand.Rand
	t     int64
	n     int
	packs int
}

func chunkSize(n int) uint32 { return uint32(100 + n*7) }

func (g *gen) content(count int) ([]meta.ChunkRef, []meta.Pack, []meta.ChunkInfo, int64) {
	g.packs++
	id := pack.ID{0xAA}
	binary.BigEndian.PutUint64(id[8:], uint64(g.packs))
	var refs []meta.ChunkRef
	var infos []meta.ChunkInfo
	var size, off int64
	seen := map[int]bool{}
	for i := 0; i < count; i++ {
		n := g.rng.IntN(40)
		a := chunk.Addr(sha256.Sum256([]byte{byte(n)}))
		refs = append(refs, meta.ChunkRef{Addr: a, Size: chunkSize(n)})
		size += int64(chunkSize(n))
		if !seen[n] && g.rng.IntN(10) > 0 { // sometimes forget one: missing chunks
			seen[n] = true
			infos = append(infos, meta.ChunkInfo{Addr: a, Pack: id, Offset: off, Length: int32(chunkSize(n) / 2), Size: chunkSize(n)})
			off += int64(chunkSize(n) / 2)
		}
	}
	if g.rng.IntN(8) == 0 { // an unreferenced new chunk
		n := 40 + g.rng.IntN(5)
		a := chunk.Addr(sha256.Sum256([]byte{byte(n)}))
		infos = append(infos, meta.ChunkInfo{Addr: a, Pack: id, Offset: off, Length: 10, Size: chunkSize(n)})
		off += 10
	}
	p := meta.Pack{ID: id, Pool: "p", K: 2, M: 1, Length: off, ShardSize: (off + 1) / 2, Nodes: []string{"a", "b", "c"}}
	return refs, []meta.Pack{p}, infos, size
}

func (g *gen) next() *Command {
	g.t += int64(g.rng.IntN(100))
	g.n++
	c := &Command{ReqID: fmt.Sprintf("r%d", g.n), Time: g.t}
	if g.rng.IntN(20) == 0 {
		c.ReqID = fmt.Sprintf("r%d", g.rng.IntN(g.n)+1) // a retry, maybe of another command
	}
	buckets := []string{"aaa", "bbb"}
	bucket := buckets[g.rng.IntN(2)]
	key := fmt.Sprintf("k%d", g.rng.IntN(6))
	upload := fmt.Sprintf("u%d", g.rng.IntN(3))
	switch r := g.rng.IntN(100); {
	case r < 5:
		c.Op, c.BucketInfo = OpCreateBucket, meta.Bucket{Name: bucket, Owner: "o"}
	case r < 7:
		c.Op, c.Bucket = OpDeleteBucket, bucket
	case r < 40:
		refs, packs, infos, size := g.content(g.rng.IntN(5))
		c.Op = OpPutObject
		c.Put = &meta.PutObjectRequest{Object: meta.Object{Bucket: bucket, Key: key, Size: size, ETag: "e", Chunks: refs}, NewPacks: packs, NewChunks: infos}
	case r < 52:
		c.Op, c.Bucket, c.Key = OpDeleteObject, bucket, key
	case r < 55:
		c.Op, c.Bucket, c.Key, c.Tags = OpPutObjectTags, bucket, key, map[string]string{"t": key}
	case r < 60:
		c.Op = OpCreateUpload
		c.Upload = &meta.Upload{Bucket: bucket, Key: key, UploadID: upload}
	case r < 72:
		refs, packs, infos, size := g.content(1 + g.rng.IntN(3))
		c.Op = OpPutPart
		c.PutPart = &meta.PutPartRequest{Bucket: bucket, Key: key, UploadID: upload,
			Part:     meta.Part{Number: 1 + g.rng.IntN(3), Size: size, ETag: "d41d8cd98f00b204e9800998ecf8427e", Chunks: refs},
			NewPacks: packs, NewChunks: infos}
	case r < 78:
		c.Op = OpCompleteUpload
		c.Complete = &meta.CompleteUploadRequest{Bucket: bucket, Key: key, UploadID: upload,
			Parts: []meta.CompletedPart{{Number: 1 + g.rng.IntN(3), ETag: "d41d8cd98f00b204e9800998ecf8427e"}}}
	case r < 82:
		c.Op, c.Bucket, c.Key, c.UploadID = OpAbortUpload, bucket, key, upload
	case r < 92:
		c.Op, c.Grace, c.Limit = OpCollectGarbage, int64(g.rng.IntN(300)), g.rng.IntN(5)
	case r < 96:
		c.Op = OpForgetPacks
		for i := 0; i < 3; i++ {
			id := pack.ID{0xAA}
			binary.BigEndian.PutUint64(id[8:], uint64(g.rng.IntN(g.packs+1)))
			c.PackIDs = append(c.PackIDs, id)
		}
	case r < 98:
		c.Op, c.Node = OpRegisterNode, meta.Node{ID: key, LastSeen: g.t}
	default:
		c.Op, c.User = OpPutUser, meta.User{Name: key, AccessKey: "AK" + key}
	}
	return c
}

// TestDeterminism applies one random command sequence to two states, one
// command at a time and in groups, and to a third restored from a snapshot
// of the first half way, and compares their full contents.
func TestDeterminism(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			g := &gen{rng: rand.New(rand.NewPCG(seed, 99))}
			var cmds [][]byte
			for i := 0; i < 500; i++ {
				cmds = append(cmds, mustEncode(t, g.next()))
			}
			a, b, c := openMem(t), openMem(t), openMem(t)
			var ra []Result
			for i, cmd := range cmds {
				ra = append(ra, a.Apply(uint64(i+1), cmd))
				if i == len(cmds)/2 {
					checkInvariants(t, a)
					var buf bytes.Buffer
					snap, err := a.Snapshot()
					if err != nil {
						t.Fatal(err)
					}
					if _, err := snap.WriteTo(&buf); err != nil {
						t.Fatal(err)
					}
					snap.Release()
					if err := c.Restore(&buf); err != nil {
						t.Fatal(err)
					}
					if c.AppliedIndex() != uint64(i+1) || digest(t, c) != digest(t, a) {
						t.Fatalf("restored state differs at index %d", i+1)
					}
				}
				if i > len(cmds)/2 {
					c.Apply(uint64(i+1), cmd)
				}
			}
			for i := 0; i < len(cmds); i += 37 {
				end := min(i+37, len(cmds))
				rb := b.ApplyBatch(uint64(i+1), cmds[i:end])
				for j, r := range rb {
					if (r.Err == nil) != (ra[i+j].Err == nil) || !reflect.DeepEqual(r.Value, ra[i+j].Value) {
						t.Fatalf("command %d: result %+v vs %+v", i+j+1, r, ra[i+j])
					}
				}
			}
			checkInvariants(t, a)
			da := digest(t, a)
			if da != digest(t, b) || da != digest(t, c) {
				t.Fatal("states differ after the same commands")
			}
			var ok, failed int
			for _, r := range ra {
				if r.Err == nil {
					ok++
				} else {
					failed++
				}
			}
			st, _ := a.Stats()
			t.Logf("%d applied, %d failed; %+v", ok, failed, st)
			if ok < len(cmds)/4 {
				t.Fatalf("only %d commands succeeded: the generator is off", ok)
			}
		})
	}
}

func FuzzDecodeCommand(f *testing.F) {
	g := &gen{rng: rand.New(rand.NewPCG(5, 5))}
	for i := 0; i < 40; i++ {
		f.Add(mustEncode(f, g.next()))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		re, err := EncodeCommand(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("encode(decode(x)) != x:\n%x\n%x", re, b)
		}
	})
}

func TestApplyGarbage(t *testing.T) {
	st := openMem(t)
	for i, cmd := range [][]byte{nil, {1}, {9, 9, 9}, {1, 200, 0, 0}} {
		r := st.Apply(uint64(i+1), cmd)
		if !errors.Is(r.Err, meta.ErrInvalidArgument) {
			t.Fatalf("Apply(%x) = %+v", cmd, r)
		}
	}
	if st.AppliedIndex() != 4 {
		t.Fatalf("AppliedIndex = %d", st.AppliedIndex())
	}
	// A replayed index is skipped.
	if r := st.Apply(2, mustEncode(t, &Command{Op: OpCreateBucket, BucketInfo: meta.Bucket{Name: "abc"}})); r.Err != nil || r.Value != nil {
		t.Fatalf("replay = %+v", r)
	}
	if _, err := st.GetBucket("abc"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("replayed command was applied: %v", err)
	}
}

func TestTooManyChunkRefs(t *testing.T) {
	// Checked on the manifest directly: a 2,000,001-ref command takes
	// seconds to encode and decode under -race.
	refs := make([]meta.ChunkRef, maxChunkRefs+1)
	for i := range refs {
		refs[i].Size = 1
	}
	if err := validManifest(int64(len(refs)), refs, nil); !errors.Is(err, meta.ErrInvalidArgument) {
		t.Fatalf("manifest with %d refs: %v", len(refs), err)
	}
	if err := validManifest(int64(len(refs)-1), refs[1:], nil); err != nil {
		t.Fatalf("manifest with %d refs: %v", len(refs)-1, err)
	}
}

func TestReopen(t *testing.T) {
	fs := vfs.NewMem()
	st, err := Open("d", testOptions(t, fs))
	if err != nil {
		t.Fatal(err)
	}
	g := &gen{rng: rand.New(rand.NewPCG(7, 7))}
	for i := 0; i < 200; i++ {
		st.applyCmd(t, g.next())
	}
	want, idx := digest(t, st), st.AppliedIndex()
	wantStats, _ := st.Stats()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stats(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Stats after Close = %v", err)
	}
	if r := st.applyCmd(t, g.next()); !errors.Is(r.Err, ErrClosed) {
		t.Fatalf("Apply after Close = %v", r.Err)
	}
	st, err = Open("d", testOptions(t, fs))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gotStats, _ := st.Stats()
	if st.AppliedIndex() != idx || digest(t, st) != want || gotStats != wantStats || st.stats != wantStats {
		t.Fatal("reopened state differs")
	}
	checkInvariants(t, st)
}

func TestRestoreRejectsCorruption(t *testing.T) {
	a := openMem(t)
	g := &gen{rng: rand.New(rand.NewPCG(3, 3))}
	for i := 0; i < 100; i++ {
		a.applyCmd(t, g.next())
	}
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	good := buf.Bytes()
	b := openMem(t)
	b.applyCmd(t, &Command{Op: OpCreateBucket, BucketInfo: meta.Bucket{Name: "keep"}})
	before := digest(t, b)
	for _, bad := range [][]byte{
		nil,
		good[:len(good)/2],
		good[:len(good)-1],
		append(append([]byte(nil), good[:40]...), append([]byte{good[40] ^ 1}, good[41:]...)...),
	} {
		if err := b.Restore(bytes.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Restore(corrupt %d bytes) = %v", len(bad), err)
		}
		if digest(t, b) != before {
			t.Fatal("failed restore changed the state")
		}
	}
	if err := b.Restore(bytes.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	if digest(t, b) != digest(t, a) {
		t.Fatal("restore differs")
	}
	// A second restore replaces the first generation.
	if err := b.Restore(bytes.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, b)
}

func TestSnapshotOutlivesRestore(t *testing.T) {
	a := openMem(t)
	a.applyCmd(t, &Command{Op: OpCreateBucket, BucketInfo: meta.Bucket{Name: "one"}})
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var empty bytes.Buffer
	b := openMem(t)
	s2, _ := b.Snapshot()
	s2.WriteTo(&empty)
	s2.Release()
	if err := a.Restore(&empty); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatalf("snapshot taken before Restore: %v", err)
	}
	snap.Release()
	if err := b.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetBucket("one"); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotencyPruning(t *testing.T) {
	st := openMem(t)
	st.idemKeep = 3
	for i := 0; i < 6; i++ {
		r := st.applyCmd(t, &Command{Op: OpCreateBucket, ReqID: fmt.Sprintf("id%d", i), Time: int64(i), BucketInfo: meta.Bucket{Name: fmt.Sprintf("bkt%d", i)}})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if st.idem != 3 {
		t.Fatalf("%d records kept", st.idem)
	}
	// The oldest records are gone: a retry runs again and fails; the newest
	// still answer with the first result.
	if r := st.applyCmd(t, &Command{Op: OpCreateBucket, ReqID: "id0", Time: 9, BucketInfo: meta.Bucket{Name: "bkt0"}}); !errors.Is(r.Err, meta.ErrBucketOwnedByYou) {
		t.Fatalf("retry of a pruned request = %v", r.Err)
	}
	if r := st.applyCmd(t, &Command{Op: OpCreateBucket, ReqID: "id5", Time: 9, BucketInfo: meta.Bucket{Name: "bkt5"}}); r.Err != nil {
		t.Fatalf("retry of a kept request = %v", r.Err)
	}
}

func TestCommandRoundTrip(t *testing.T) {
	g := &gen{rng: rand.New(rand.NewPCG(11, 11))}
	for i := 0; i < 300; i++ {
		c := g.next()
		b := mustEncode(t, c)
		d, err := DecodeCommand(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mustEncode(t, d), b) {
			t.Fatalf("command %v does not round-trip", c.Op)
		}
	}
	if _, err := EncodeCommand(&Command{Op: OpPutObject}); !errors.Is(err, meta.ErrInvalidArgument) {
		t.Fatalf("nil request: %v", err)
	}
	if _, err := EncodeCommand(&Command{Op: 200}); !errors.Is(err, meta.ErrInvalidArgument) {
		t.Fatalf("unknown op: %v", err)
	}
}
