package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/remote"
)

// TestMain lets the test binary act as metad: TestProcesses runs it with
// METAD_TEST_MAIN=1 instead of building the command.
func TestMain(m *testing.M) {
	if os.Getenv("METAD_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestRunUsage(t *testing.T) {
	err := run(context.Background(), config{})
	if !errors.Is(err, errUsage) {
		t.Fatalf("run without --data: %v", err)
	}
	err = run(context.Background(), config{Data: t.TempDir(), Bootstrap: true, Join: "x:1"})
	if !errors.Is(err, errUsage) {
		t.Fatalf("run with --bootstrap and --join: %v", err)
	}
}

// TestProcesses runs three metad processes, SIGKILLs the leader and checks
// that a new leader accepts commits.
func TestProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	began := time.Now()
	dir := t.TempDir()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	type proc struct {
		id, api string
		cmd     *exec.Cmd
		log     bytes.Buffer
	}
	var procs []*proc
	start := func(id string, extra ...string) *proc {
		p := &proc{id: id, api: freeAddr(t)}
		args := append([]string{"--id", id, "--data", filepath.Join(dir, id), "--raft-addr", freeAddr(t), "--listen", p.api, "--log-level", "warn"}, extra...)
		p.cmd = exec.Command(bin, args...)
		p.cmd.Env = append(os.Environ(), "METAD_TEST_MAIN=1")
		p.cmd.Stderr = &p.log
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			p.cmd.Process.Kill()
			p.cmd.Wait()
			if t.Failed() {
				t.Logf("%s log:\n%s", p.id, p.log.String())
			}
		})
		procs = append(procs, p)
		return p
	}
	first := start("p1")
	start("p2", "--join", first.api)
	start("p3", "--join", first.api)
	var apis []string
	for _, p := range procs {
		apis = append(apis, p.api)
	}
	cl, err := remote.Dial(apis, remote.Options{RetryFor: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Wait for a 3-member group whose leader knows every API address.
	var st remote.Status
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err = cl.Status(ctx)
		if err == nil && st.State == "Leader" && len(st.Members) == 3 && st.Members[2].APIAddr != "" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group never formed: %+v, %v", st, err)
		case <-tick.C:
		}
	}
	for i := range 20 {
		name := fmt.Sprintf("before-%d", i)
		if err := cl.CreateBucket(ctx, name, int64(i), meta.Bucket{Name: name, Owner: "u"}); err != nil {
			t.Fatal(err)
		}
	}
	var leader *proc
	for _, p := range procs {
		if p.id == st.LeaderID {
			leader = p
		}
	}
	if leader == nil {
		t.Fatalf("leader %q is not one of ours", st.LeaderID)
	}
	t.Logf("group of 3 formed %v after start", time.Since(began))
	killed := time.Now()
	if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cl.CreateBucket(ctx, "after", 100, meta.Bucket{Name: "after", Owner: "u"}); err != nil {
		t.Fatalf("commit after killing the leader: %v", err)
	}
	t.Logf("first commit after SIGKILL of leader %s: %v", leader.id, time.Since(killed))
	bs, err := cl.ListBuckets(ctx)
	if err != nil || len(bs) != 21 {
		t.Fatalf("ListBuckets = %d buckets, %v; want 21", len(bs), err)
	}
}
