package server

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tessera-store/tessera/meta"
)

// configCommand returns a random PutBucketConfig over the generator's
// buckets: puts, replacements and deletes (empty documents).
func (g *gen) configCommand() *Command {
	g.t += int64(g.rng.IntN(100))
	g.n++
	buckets := []string{"aaa", "bbb", "ccc"}
	names := []string{"policy", "cors", "tagging"}
	c := &Command{Op: OpPutBucketConfig, ReqID: fmt.Sprintf("g%d", g.n), Time: g.t,
		Bucket: buckets[g.rng.IntN(len(buckets))], Name: names[g.rng.IntN(len(names))]}
	if g.rng.IntN(4) > 0 {
		c.Doc = []byte(fmt.Sprintf("doc-%d", g.n))
	}
	return c
}

// TestConfigDeterminism interleaves configuration commands with the random
// workload (bucket creates and deletes included) and checks that one-by-one
// application, batched application and a snapshot restore agree, the g/
// range included.
func TestConfigDeterminism(t *testing.T) {
	g := &gen{rng: rand.New(rand.NewPCG(7, 7))}
	var cmds [][]byte
	for i := 0; i < 400; i++ {
		c := g.next()
		if g.rng.IntN(3) == 0 {
			c = g.configCommand()
		}
		cmds = append(cmds, mustEncode(t, c))
	}
	a, b, c := openMem(t), openMem(t), openMem(t)
	var stored int
	for i, cmd := range cmds {
		if r := a.Apply(uint64(i+1), cmd); r.Err == nil {
			if d, _ := DecodeCommand(cmd); d.Op == OpPutBucketConfig {
				stored++
			}
		}
	}
	for i := 0; i < len(cmds); i += 29 {
		b.ApplyBatch(uint64(i+1), cmds[i:min(i+29, len(cmds))])
	}
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
	da := digest(t, a)
	if da != digest(t, b) || da != digest(t, c) {
		t.Fatal("states differ after the same commands")
	}
	if stored < 20 {
		t.Fatalf("only %d configuration commands applied: the generator is off", stored)
	}
	checkInvariants(t, a)
}

func TestConfigDeleteBucket(t *testing.T) {
	st := openMem(t)
	for _, c := range []*Command{
		{Op: OpCreateBucket, BucketInfo: meta.Bucket{Name: "aa1", Owner: "o"}},
		{Op: OpCreateBucket, BucketInfo: meta.Bucket{Name: "aa10", Owner: "o"}},
		{Op: OpPutBucketConfig, Bucket: "aa1", Name: "policy", Doc: []byte("p1")},
		{Op: OpPutBucketConfig, Bucket: "aa1", Name: "cors", Doc: []byte("c1")},
		{Op: OpPutBucketConfig, Bucket: "aa10", Name: "policy", Doc: []byte("p10")},
		{Op: OpDeleteBucket, Bucket: "aa1"},
		{Op: OpCreateBucket, BucketInfo: meta.Bucket{Name: "aa1", Owner: "o"}},
	} {
		if r := st.applyCmd(t, c); r.Err != nil {
			t.Fatalf("%v: %v", c.Op, r.Err)
		}
	}
	for _, name := range []string{"policy", "cors"} {
		if _, err := st.GetBucketConfig("aa1", name); !errors.Is(err, meta.ErrNoSuchConfig) {
			t.Fatalf("%s survived DeleteBucket: %v", name, err)
		}
	}
	// A bucket whose name extends the deleted one's keeps its documents.
	if doc, err := st.GetBucketConfig("aa10", "policy"); err != nil || string(doc) != "p10" {
		t.Fatalf("neighbour: %q, %v", doc, err)
	}
}

func TestConfigCommandRoundTrip(t *testing.T) {
	for _, c := range []*Command{
		{Op: OpPutBucketConfig, ReqID: "r", Time: 5, Bucket: "bkt", Name: "policy", Doc: []byte(`{"a":1}`)},
		{Op: OpPutBucketConfig, Bucket: "bkt", Name: "cors"},
		{Op: OpPutBucketConfig, Bucket: "bkt", Name: "tagging", Doc: make([]byte, 70<<10)},
	} {
		b := mustEncode(t, c)
		d, err := DecodeCommand(b)
		if err != nil {
			t.Fatal(err)
		}
		if d.Bucket != c.Bucket || d.Name != c.Name || !bytes.Equal(d.Doc, c.Doc) || !bytes.Equal(mustEncode(t, d), b) {
			t.Fatalf("%+v does not round-trip: %+v", c, d)
		}
		for n := 0; n < len(b); n++ {
			if _, err := DecodeCommand(b[:n]); err == nil {
				t.Fatalf("truncated at %d of %d: no error", n, len(b))
			}
		}
	}
}
