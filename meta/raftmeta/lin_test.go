package raftmeta

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/tessera-store/tessera/meta"
)

// A KV model of objects over a few keys: put, get, delete and list.

const linKeys = 3

var linKeyNames = [linKeys]string{"a", "b", "c"}

type kvOp int

const (
	opPut kvOp = iota
	opGet
	opDelete
	opList
)

type kvInput struct {
	op  kvOp
	key int
	val string // put
}

type kvOutput struct {
	val     string        // get: "" for a missing key
	present [linKeys]bool // list
	unknown bool          // a write whose outcome is unknown
}

// kvState is comparable, so porcupine's default equality works; "" means
// the key is absent.
type kvState [linKeys]string

var kvModel = porcupine.Model{
	Init: func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		s := state.(kvState)
		in := input.(kvInput)
		out := output.(kvOutput)
		switch in.op {
		case opPut:
			s[in.key] = in.val
			return true, s
		case opDelete:
			s[in.key] = ""
			return true, s
		case opGet:
			return out.val == s[in.key], s
		default:
			for i := range s {
				if out.present[i] != (s[i] != "") {
					return false, s
				}
			}
			return true, s
		}
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		return fmt.Sprintf("op%d(%s,%q) -> %+v", in.op, linKeyNames[in.key], in.val, out)
	},
}

func TestLinearizableAcrossFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := newCluster(t, 3, nil)
	cl := c.client(t)
	if err := cl.CreateBucket(ctx, "mk", 1, meta.Bucket{Name: "lin", Owner: "u"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	var mu sync.Mutex
	var history []porcupine.Operation
	var wg sync.WaitGroup
	const clients, opsPer = 6, 50
	var progress sync.WaitGroup
	progress.Add(clients)
	for cid := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range opsPer {
				if i == opsPer/3 {
					progress.Done()
				}
				in := kvInput{op: kvOp((cid + i*7) % 4), key: (cid*3 + i) % linKeys}
				key := linKeyNames[in.key]
				reqID := fmt.Sprintf("c%d-%d", cid, i)
				var out kvOutput
				call := now()
				var err error
				switch in.op {
				case opPut:
					in.val = reqID
					err = cl.PutObject(ctx, &meta.PutObjectRequest{ReqID: reqID, Time: int64(i + 10),
						Object: meta.Object{Bucket: "lin", Key: key, Size: int64(len(reqID)), Inline: []byte(reqID)}})
				case opDelete:
					err = cl.DeleteObject(ctx, &meta.DeleteObjectRequest{ReqID: reqID, Time: int64(i + 10), Bucket: "lin", Key: key})
				case opGet:
					var o *meta.Object
					o, err = cl.GetObject(ctx, "lin", key)
					if errors.Is(err, meta.ErrNoSuchKey) {
						err = nil
					} else if err == nil {
						out.val = string(o.Inline)
					}
				case opList:
					var res *meta.ListResult
					res, err = cl.ListObjects(ctx, &meta.ListRequest{Bucket: "lin"})
					if err == nil {
						for _, o := range res.Objects {
							for k, name := range linKeyNames {
								if o.Key == name {
									out.present[k] = true
								}
							}
						}
					}
				}
				ret := now()
				if err != nil {
					if in.op == opGet || in.op == opList {
						continue // a failed read has no effect
					}
					out.unknown, ret = true, math.MaxInt64
				}
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: cid, Input: in, Call: call, Output: out, Return: ret})
				mu.Unlock()
			}
		}()
	}
	progress.Wait()
	l, err := c.leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.stop()
	wg.Wait()
	res := porcupine.CheckOperationsTimeout(kvModel, history, 30*time.Second)
	if res == porcupine.Illegal {
		t.Fatalf("history of %d operations is not linearizable", len(history))
	}
	t.Logf("%d operations, check result %v", len(history), res)
}
