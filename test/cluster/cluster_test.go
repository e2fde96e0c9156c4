package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tessera-store/tessera/chunk"
	"github.com/tessera-store/tessera/meta/remote"
	"github.com/tessera-store/tessera/pack"
)

const (
	accessKey = "tessera-test-root"
	secretKey = "tessera-test-root-secret-key-0123456789"
	bucket    = "cluster-test"
)

// proc is one cluster process; restart reuses its command line, ports and
// data directory. Its output is appended to a log file.
type proc struct {
	name string
	args []string
	log  string

	// mu guards cmd and done.
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// harness owns the processes of one cluster.
type harness struct {
	t     *testing.T
	dir   string
	objd  string
	metad string

	metas    []*proc // m1..m3
	metaAPI  []string
	nodes    []*proc // n1..n6
	gateways []*proc // g1, g2
	gwAddr   []string
}

func (h *harness) start(p *proc) {
	h.t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	fmt.Fprintf(f, "=== %s start %s\n", time.Now().UTC().Format(time.RFC3339Nano), strings.Join(p.args, " "))
	bin := h.objd
	if strings.HasPrefix(p.name, "metad") {
		bin = h.metad
	}
	cmd := exec.Command(bin, p.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "TESSERA_ACCESS_KEY="+accessKey, "TESSERA_SECRET_KEY="+secretKey)
	if err := cmd.Start(); err != nil {
		f.Close()
		h.t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// kill SIGKILLs p and waits for it to exit.
func (h *harness) kill(p *proc) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	h.forget(p, cmd)
}

// forget marks p as stopped on purpose, so exited does not report it.
func (h *harness) forget(p *proc, cmd *exec.Cmd) {
	p.mu.Lock()
	if p.cmd == cmd {
		p.cmd, p.done = nil, nil
	}
	p.mu.Unlock()
}

// stop sends SIGTERM and waits up to 10 s for a graceful exit.
func (h *harness) stop(p *proc) {
	h.t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		h.forget(p, cmd)
	case <-time.After(10 * time.Second):
		h.kill(p)
		h.t.Errorf("%s did not stop within 10 s of SIGTERM", p.name)
	}
}

func (h *harness) all() []*proc {
	return slices.Concat(h.metas, h.nodes, h.gateways)
}

// exited reports processes that died on their own.
func (h *harness) exited() []string {
	var out []string
	for _, p := range h.all() {
		p.mu.Lock()
		done := p.done
		p.mu.Unlock()
		if done == nil {
			continue
		}
		select {
		case <-done:
			out = append(out, p.name)
		default:
		}
	}
	return out
}

// dumpLogs prints the tail of every log.
func (h *harness) dumpLogs() {
	for _, p := range h.all() {
		b, err := os.ReadFile(p.log)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		h.t.Logf("---- %s (%s), last %d lines:\n%s", p.name, p.log, len(lines), strings.Join(lines, "\n"))
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// buildBinaries builds metad and objd into dir.
func buildBinaries(t *testing.T, dir string) (objd, metad string) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	objd, metad = filepath.Join(dir, "objd"), filepath.Join(dir, "metad")
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/objd", "./cmd/metad")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return objd, metad
}

// newHarness starts 3 metad voters, 6 nodes in 3 zones and 2 gateways.
func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	t0 := time.Now()
	var objd, metad string
	if bin := os.Getenv("TESSERA_CLUSTER_BIN"); bin != "" {
		objd, metad = filepath.Join(bin, "objd"), filepath.Join(bin, "metad")
	} else {
		objd, metad = buildBinaries(t, dir)
		t.Logf("built objd and metad in %v", time.Since(t0).Round(time.Millisecond))
	}
	h := &harness{t: t, dir: dir, objd: objd, metad: metad}
	t.Cleanup(func() {
		for _, p := range h.all() {
			h.kill(p)
		}
		if t.Failed() {
			h.dumpLogs()
		}
	})

	var raft []string
	for i := range 3 {
		raft = append(raft, freePort(t))
		h.metaAPI = append(h.metaAPI, freePort(t))
		id := fmt.Sprintf("m%d", i+1)
		args := []string{"--id", id, "--data", filepath.Join(dir, id), "--raft-addr", raft[i], "--listen", h.metaAPI[i]}
		if i == 0 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", h.metaAPI[0])
		}
		h.metas = append(h.metas, &proc{name: "metad-" + id, args: args, log: filepath.Join(dir, id+".log")})
	}
	metaList := strings.Join(h.metaAPI, ",")
	zones := []string{"za", "za", "zb", "zb", "zc", "zc"}
	for i, z := range zones {
		id := fmt.Sprintf("n%d", i+1)
		args := []string{"node", "--id", id, "--drive", filepath.Join(dir, id), "--meta", metaList,
			"--listen", freePort(t), "--zone", z, "--rack", "r" + id, "--heartbeat", "1s"}
		h.nodes = append(h.nodes, &proc{name: "node-" + id, args: args, log: filepath.Join(dir, id+".log")})
	}
	for i := range 2 {
		addr := freePort(t)
		h.gwAddr = append(h.gwAddr, addr)
		id := fmt.Sprintf("g%d", i+1)
		args := []string{"gateway", "--meta", metaList, "--listen", addr, "--k", "4", "--m", "2",
			"--failure-domain", "zone", "--heartbeat-timeout", "3s"}
		h.gateways = append(h.gateways, &proc{name: "gateway-" + id, args: args, log: filepath.Join(dir, id+".log")})
	}
	for _, p := range h.all() {
		h.start(p)
	}
	return h
}

// eventually calls f until it succeeds, a process dies or the deadline passes.
func (h *harness) eventually(ctx context.Context, what string, d time.Duration, f func(context.Context) error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var err error
	for {
		if err = f(ctx); err == nil {
			return
		}
		if dead := h.exited(); len(dead) > 0 {
			h.t.Fatalf("%s: processes exited: %v (last error: %v)", what, dead, err)
		}
		select {
		case <-ctx.Done():
			h.t.Fatalf("%s: not within %v: %v", what, d, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ready checks both gateways' readiness and that want nodes are up.
func (h *harness) ready(ctx context.Context, want int) error {
	for _, a := range h.gwAddr {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+a+"/-/health/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("gateway %s: %s", a, resp.Status)
		}
	}
	ns, err := h.adminNodes(ctx)
	if err != nil {
		return err
	}
	up := 0
	for _, n := range ns {
		if n.State == "up" {
			up++
		}
	}
	if up != want {
		return fmt.Errorf("%d of %d registered nodes up, want %d: %+v", up, len(ns), want, ns)
	}
	return nil
}

type nodeRow struct {
	ID, Addr, Zone, State string
	Shards                int64
}

// adminNodes runs `objd admin nodes --json` against the first gateway.
func (h *harness) adminNodes(ctx context.Context) ([]nodeRow, error) {
	cmd := exec.CommandContext(ctx, h.objd, "admin", "--endpoint", "http://"+h.gwAddr[0], "nodes", "--json")
	cmd.Env = append(os.Environ(), "TESSERA_ACCESS_KEY="+accessKey, "TESSERA_SECRET_KEY="+secretKey)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("objd admin nodes: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var ns []nodeRow
	if err := json.Unmarshal(out, &ns); err != nil {
		return nil, fmt.Errorf("objd admin nodes --json: %v", err)
	}
	return ns, nil
}

// leader returns the index in h.metas of the Raft leader, asking a live member.
func (h *harness) leader(ctx context.Context) (int, error) {
	var errs []error
	for i, a := range h.metaAPI {
		cl, err := remote.Dial([]string{a}, remote.Options{RetryFor: time.Second})
		if err != nil {
			return -1, err
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := cl.Status(cctx)
		cancel()
		cl.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("m%d: %w", i+1, err))
			continue
		}
		if len(st.Members) != 3 {
			return -1, fmt.Errorf("m%d sees %d members, want 3", i+1, len(st.Members))
		}
		for j := range h.metas {
			if st.LeaderID == fmt.Sprintf("m%d", j+1) {
				return j, nil
			}
		}
		errs = append(errs, fmt.Errorf("m%d: no leader known (%q)", i+1, st.LeaderID))
	}
	return -1, errors.Join(errs...)
}

// checkMissing verifies through the metadata service that the packs of
// objs that were placed on the dead nodes record those shards as missing,
// and returns how many shards were recorded missing.
func (h *harness) checkMissing(ctx context.Context, objs []Object, dead map[string]bool) int {
	h.t.Helper()
	mc, err := remote.Dial(h.metaAPI, remote.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	defer mc.Close()
	packs := map[pack.ID]bool{}
	for _, o := range objs {
		mo, err := mc.GetObject(ctx, bucket, o.Key)
		if err != nil {
			h.t.Fatalf("meta get %s: %v", o.Key, err)
		}
		addrs := make([]chunk.Addr, 0, len(mo.Chunks))
		for _, c := range mo.Chunks {
			addrs = append(addrs, c.Addr)
		}
		if len(addrs) == 0 {
			continue // inline
		}
		infos, err := mc.LookupChunks(ctx, addrs)
		if err != nil {
			h.t.Fatalf("lookup chunks of %s: %v", o.Key, err)
		}
		for _, ci := range infos {
			packs[ci.Pack] = true
		}
	}
	ids := make([]pack.ID, 0, len(packs))
	for id := range packs {
		ids = append(ids, id)
	}
	ps, err := mc.GetPacks(ctx, ids)
	if err != nil {
		h.t.Fatalf("get packs: %v", err)
	}
	missing := 0
	for _, p := range ps {
		for i, n := range p.Nodes {
			if dead[n] && !slices.Contains(p.Missing, i) {
				h.t.Errorf("pack %v: shard %d on dead node %s not recorded missing (missing %v)", p.ID, i, n, p.Missing)
			}
		}
		missing += len(p.Missing)
	}
	h.t.Logf("%d packs written during the outage, %d shards recorded missing", len(ps), missing)
	return missing
}

// probe writes and removes a 64 KiB object (above the inline limit)
// through every client.
func probe(ctx context.Context, clients []*minio.Client, bucket string) error {
	for _, c := range clients {
		o := Object{Key: "probe/" + c.EndpointURL().Host, Size: 64 << 10, Seed: 99}
		if _, err := c.PutObject(ctx, bucket, o.Key, o.Open(), o.Size, minio.PutObjectOptions{}); err != nil {
			return fmt.Errorf("probe %s: %w", c.EndpointURL().Host, err)
		}
		if err := c.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("probe %s: %w", c.EndpointURL().Host, err)
		}
	}
	return nil
}

func TestClusterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 11 processes; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := newHarness(t)

	tStart := time.Now()
	h.eventually(ctx, "cluster ready", 60*time.Second, func(ctx context.Context) error { return h.ready(ctx, 6) })
	t.Logf("cluster ready (3 metad, 6 nodes, 2 gateways) in %v", time.Since(tStart).Round(time.Millisecond))

	var clients []*minio.Client
	for _, a := range h.gwAddr {
		c, err := minio.New(a, &minio.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, ""), Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	if err := clients[0].MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	// /-/health/ready answers before a gateway's first placement refresh
	// (every 2 s) has seen the nodes: probe a stored (not inline) write.
	h.eventually(ctx, "gateways place packs", 30*time.Second, func(ctx context.Context) error {
		return probe(ctx, clients, bucket)
	})
	par := max(2, runtime.GOMAXPROCS(0))
	before := NewObjects("before", 40, 1)
	t0 := time.Now()
	if err := Put(ctx, clients[0], bucket, before[:20], par); err != nil {
		t.Fatal(err)
	}
	if err := Put(ctx, clients[1], bucket, before[20:], par); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d objects, %d MiB, in %v", len(before), TotalBytes(before)>>20, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	for i := range clients {
		if err := Verify(ctx, clients[i:i+1], bucket, before, par); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("read them back through both gateways in %v", time.Since(t0).Round(time.Millisecond))
	if keys, err := List(ctx, clients[1], bucket, "before/"); err != nil || !slices.Equal(keys, Keys(before)) {
		t.Fatalf("list: %d keys, %v", len(keys), err)
	}

	// Gateways are stateless: a restart loses nothing, and it empties their
	// chunk caches so that the degraded reads below decode from shards.
	for _, p := range h.gateways {
		h.stop(p)
		h.start(p)
	}
	h.eventually(ctx, "gateways back", 30*time.Second, func(ctx context.Context) error {
		if err := h.ready(ctx, 6); err != nil {
			return err
		}
		return probe(ctx, clients, bucket)
	})

	// The outage: two nodes in different zones (m=2) and the metad leader.
	var li int
	h.eventually(ctx, "find metad leader", 10*time.Second, func(ctx context.Context) (err error) {
		li, err = h.leader(ctx)
		return err
	})
	killed := []*proc{h.nodes[0], h.nodes[2], h.metas[li]}
	dead := map[string]bool{"n1": true, "n3": true}
	tKill := time.Now()
	for _, p := range killed {
		h.kill(p)
	}
	t.Logf("SIGKILLed %s, %s and %s (the leader)", killed[0].name, killed[1].name, killed[2].name)

	during := NewObjects("during", 12, 2)
	// Writes go on: the first commit waits for a new metad leader.
	if err := Put(ctx, clients[1], bucket, during[:1], 1); err != nil {
		t.Fatal(err)
	}
	t.Logf("first write after the kill committed %v after it", time.Since(tKill).Round(time.Millisecond))
	t0 = time.Now()
	if err := Verify(ctx, clients, bucket, before, par); err != nil {
		t.Fatal(err)
	}
	t.Logf("degraded read of %d MiB in %v", TotalBytes(before)>>20, time.Since(t0).Round(time.Millisecond))
	if err := Put(ctx, clients[0], bucket, during[1:], par); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, clients, bucket, during, par); err != nil {
		t.Fatal(err)
	}
	if h.checkMissing(ctx, during, dead) == 0 {
		t.Error("no shard recorded missing for packs written with two nodes down")
	}
	h.eventually(ctx, "dead nodes reported down", 20*time.Second, func(ctx context.Context) error { return h.ready(ctx, 4) })

	// Recovery.
	tRestart := time.Now()
	for _, p := range killed {
		h.start(p)
	}
	h.eventually(ctx, "cluster ready after restart", 60*time.Second, func(ctx context.Context) error {
		if err := h.ready(ctx, 6); err != nil {
			return err
		}
		_, err := h.leader(ctx)
		return err
	})
	t.Logf("all 6 nodes up and 3 voters agree on a leader %v after the restart", time.Since(tRestart).Round(time.Millisecond))
	after := NewObjects("after", 6, 3)
	if err := Put(ctx, clients[1], bucket, after, par); err != nil {
		t.Fatal(err)
	}
	all := slices.Concat(before, during, after)
	t0 = time.Now()
	for i := range clients {
		if err := Verify(ctx, clients[i:i+1], bucket, all, par); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("final read of %d objects through both gateways in %v", len(all), time.Since(t0).Round(time.Millisecond))
	keys, err := List(ctx, clients[0], bucket, "")
	if err != nil || !slices.Equal(keys, Keys(all)) {
		t.Fatalf("list after restart: %d keys (want %d), %v", len(keys), len(all), err)
	}
	if dead := h.exited(); len(dead) > 0 {
		t.Fatalf("processes exited: %v", dead)
	}
}
