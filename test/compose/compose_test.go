//go:build docker

package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tessera-store/tessera/internal/admincmd"
	"github.com/tessera-store/tessera/meta/remote"
	"github.com/tessera-store/tessera/test/cluster"
)

const (
	accessKey = "tessera-compose-root"
	secretKey = "tessera-compose-root-secret-0123456789"
	bucket    = "compose-test"
	// subnet is the first three octets of the test network; compose.yaml
	// gives metadN the address subnet.1N.
	subnet = "172.29.71"
)

// env is one compose project under test.
type env struct {
	t       *testing.T
	root    string   // repository root
	compose []string // "docker compose" or "docker-compose", with -f and -p
	vars    []string // environment of compose commands
	s3      []string // published gateway addresses
}

// run runs a command with a deadline and returns its stdout.
func (e *env) run(ctx context.Context, d time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), e.vars...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func (e *env) dc(ctx context.Context, d time.Duration, args ...string) (string, error) {
	return e.run(ctx, d, e.compose[0], append(slices.Clone(e.compose[1:]), args...)...)
}

func (e *env) must(out string, err error) string {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) must2(v []string, err error) []string {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// container returns the container ID of a service.
func (e *env) container(ctx context.Context, service string) string {
	e.t.Helper()
	id := e.must(e.dc(ctx, 30*time.Second, "ps", "-q", service))
	if id == "" {
		e.t.Fatalf("no container for %s", service)
	}
	return id
}

// metaAddrs returns the published loopback addresses of the metad APIs.
// A restarted container gets a new ephemeral port: ask again after one.
func (e *env) metaAddrs(ctx context.Context) ([]string, error) {
	var out []string
	for i := 1; i <= 3; i++ {
		a, err := e.dc(ctx, 30*time.Second, "port", fmt.Sprintf("metad%d", i), "7001")
		if err != nil {
			return nil, err
		}
		if a == "" || strings.HasSuffix(a, ":0") {
			return nil, fmt.Errorf("metad%d: no published port yet", i)
		}
		out = append(out, a)
	}
	return out, nil
}

// leader returns the service name of the metad leader, as a reachable
// member reports it, once all three members are in the configuration.
func leader(ctx context.Context, addrs []string) (string, error) {
	var last error
	for _, a := range addrs {
		cl, err := remote.Dial([]string{a}, remote.Options{RetryFor: time.Second})
		if err != nil {
			return "", err
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := cl.Status(cctx)
		cancel()
		cl.Close()
		if err != nil {
			last = err
			continue
		}
		if len(st.Members) != 3 || st.LeaderID == "" {
			last = fmt.Errorf("%s: %d members, leader %q", a, len(st.Members), st.LeaderID)
			continue
		}
		return st.LeaderID, nil
	}
	return "", last
}

// ready checks both gateways and that want nodes are up.
func (e *env) ready(ctx context.Context, want int) error {
	for _, a := range e.s3 {
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
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		switch k {
		case "TESSERA_ACCESS_KEY":
			return accessKey
		case "TESSERA_SECRET_KEY":
			return secretKey
		}
		return ""
	}
	if err := admincmd.Run(ctx, []string{"--endpoint", "http://" + e.s3[0], "nodes", "--json"}, &out, &errOut, getenv); err != nil {
		return fmt.Errorf("objd admin nodes: %w", err)
	}
	var ns []struct{ ID, State string }
	if err := json.Unmarshal(out.Bytes(), &ns); err != nil {
		return err
	}
	up := 0
	for _, n := range ns {
		if n.State == "up" {
			up++
		}
	}
	if up != want {
		return fmt.Errorf("%d of %d nodes up, want %d: %+v", up, len(ns), want, ns)
	}
	return nil
}

func eventually(ctx context.Context, t *testing.T, what string, d time.Duration, f func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		err := f(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v: %v", what, d, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// composeCommand returns the Compose CLI that works here.
func composeCommand() ([]string, error) {
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}, nil
	}
	if exec.Command("docker-compose", "version").Run() == nil {
		return []string{"docker-compose"}, nil
	}
	return nil, fmt.Errorf("neither `docker compose` nor `docker-compose` works")
}

// probe writes and removes a 64 KiB object through every client.
func probe(ctx context.Context, clients []*minio.Client) error {
	for _, c := range clients {
		o := cluster.Object{Key: "probe/" + c.EndpointURL().Host, Size: 64 << 10, Seed: 99}
		if _, err := c.PutObject(ctx, bucket, o.Key, o.Open(), o.Size, minio.PutObjectOptions{}); err != nil {
			return fmt.Errorf("probe %s: %w", c.EndpointURL().Host, err)
		}
		if err := c.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("probe %s: %w", c.EndpointURL().Host, err)
		}
	}
	return nil
}

func TestCompose(t *testing.T) {
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Fatalf("docker info: %v (this test needs a Docker engine)", err)
	}
	dc, err := composeCommand()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, root: filepath.Dir(strings.TrimSpace(string(gomod)))}
	project := fmt.Sprintf("tesseratest%d", os.Getpid())
	e.compose = append(dc, "-f", filepath.Join(e.root, "deploy", "compose.yaml"), "-p", project)
	p1, p2 := freePort(t), freePort(t)
	e.s3 = []string{"127.0.0.1:" + p1, "127.0.0.1:" + p2}
	e.vars = []string{"TESSERA_S3_PORT=" + p1, "TESSERA_S3_PORT2=" + p2, "TESSERA_NET=" + subnet,
		"TESSERA_ACCESS_KEY=" + accessKey, "TESSERA_SECRET_KEY=" + secretKey}

	t0 := time.Now()
	if os.Getenv("TESSERA_IMAGE_BUILT") == "1" {
		e.must(e.run(ctx, 30*time.Second, "docker", "image", "inspect", "tessera:dev"))
	} else {
		e.must(e.run(ctx, 4*time.Minute, filepath.Join(e.root, "deploy", "build-image")))
		t.Logf("built tessera:dev in %v", time.Since(t0).Round(time.Millisecond))
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if t.Failed() {
			logs, _ := e.dc(ctx, 30*time.Second, "logs", "--no-color", "--tail", "30")
			t.Logf("compose logs (tail):\n%s", logs)
		}
		if _, err := e.dc(ctx, 2*time.Minute, "down", "-v", "--remove-orphans", "-t", "5"); err != nil {
			t.Errorf("compose down: %v", err)
		}
	})
	tUp := time.Now()
	e.must(e.dc(ctx, 2*time.Minute, "up", "-d"))
	eventually(ctx, t, "cluster ready", 90*time.Second, func(ctx context.Context) error { return e.ready(ctx, 6) })
	metaAddrs := e.must2(e.metaAddrs(ctx))
	eventually(ctx, t, "metad group formed", 30*time.Second, func(ctx context.Context) error {
		_, err := leader(ctx, metaAddrs)
		return err
	})
	t.Logf("cluster up (3 metad, 6 nodes, 2 gateways) in %v", time.Since(tUp).Round(time.Millisecond))

	var clients []*minio.Client
	for _, a := range e.s3 {
		c, err := minio.New(a, &minio.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, ""), Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	if err := clients[0].MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	eventually(ctx, t, "gateways place packs", 30*time.Second, func(ctx context.Context) error { return probe(ctx, clients) })

	par := 4
	before := cluster.NewObjects("before", 40, 11)
	t0 = time.Now()
	if err := cluster.Put(ctx, clients[0], bucket, before[:20], par); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Put(ctx, clients[1], bucket, before[20:], par); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d objects, %d MiB, in %v", len(before), cluster.TotalBytes(before)>>20, time.Since(t0).Round(time.Millisecond))
	if err := cluster.Verify(ctx, clients, bucket, before, par); err != nil {
		t.Fatal(err)
	}
	// Gateways keep a chunk cache: restart them so that the reads during the
	// outage decode from the surviving shards.
	e.must(e.dc(ctx, time.Minute, "restart", "-t", "5", "gateway1", "gateway2"))
	eventually(ctx, t, "gateways back", 60*time.Second, func(ctx context.Context) error {
		if err := e.ready(ctx, 6); err != nil {
			return err
		}
		return probe(ctx, clients)
	})

	// The outage: stop two nodes (m=2) and cut the metad leader off the network.
	var lead string
	eventually(ctx, t, "find metad leader", 20*time.Second, func(ctx context.Context) (err error) {
		lead, err = leader(ctx, metaAddrs)
		return err
	})
	leadID := e.container(ctx, lead)
	netName := e.must(e.run(ctx, 30*time.Second, "docker", "inspect", "-f",
		"{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", leadID))
	leadIP := subnet + ".1" + strings.TrimPrefix(lead, "metad")
	// The leader is cut off the network (docker network disconnect): its
	// peers' TCP connections then hang rather than reset, the harder case.
	// TESSERA_COMPOSE_PARTITION=0 kills its container instead.
	partition := os.Getenv("TESSERA_COMPOSE_PARTITION") != "0"
	tCut := time.Now()
	e.must(e.dc(ctx, time.Minute, "stop", "-t", "5", "node1", "node3"))
	if partition {
		e.must(e.run(ctx, 30*time.Second, "docker", "network", "disconnect", netName, leadID))
		t.Logf("stopped node1 and node3, disconnected %s (the leader) from %s", lead, netName)
	} else {
		e.must(e.run(ctx, 30*time.Second, "docker", "kill", leadID))
		t.Logf("stopped node1 and node3, killed %s (the leader)", lead)
	}

	during := cluster.NewObjects("during", 12, 12)
	// The first write waits for the two connected voters to elect a leader
	// and for the gateways' metadata clients to give up on the cut one.
	eventually(ctx, t, "first write after the cut", 60*time.Second, func(ctx context.Context) error {
		return cluster.Put(ctx, clients[1], bucket, during[:1], 1)
	})
	t.Logf("first write after the cut committed %v after it", time.Since(tCut).Round(time.Millisecond))
	t0 = time.Now()
	if err := cluster.Verify(ctx, clients, bucket, before, par); err != nil {
		t.Fatal(err)
	}
	t.Logf("degraded read of %d MiB in %v", cluster.TotalBytes(before)>>20, time.Since(t0).Round(time.Millisecond))
	if err := cluster.Put(ctx, clients[0], bucket, during[1:], par); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Verify(ctx, clients, bucket, during, par); err != nil {
		t.Fatal(err)
	}

	// Heal: restart or reconnect the old leader (at its fixed address), start
	// the nodes.
	tHeal := time.Now()
	if partition {
		e.must(e.run(ctx, 30*time.Second, "docker", "network", "connect", "--ip", leadIP, "--alias", lead, netName, leadID))
	} else {
		e.must(e.run(ctx, 30*time.Second, "docker", "start", leadID))
	}
	e.must(e.dc(ctx, time.Minute, "start", "node1", "node3"))
	eventually(ctx, t, "cluster healed", 90*time.Second, func(ctx context.Context) error {
		if err := e.ready(ctx, 6); err != nil {
			return err
		}
		// Every member, the restarted one included, must see the group.
		addrs, err := e.metaAddrs(ctx)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if _, err := leader(ctx, []string{a}); err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("healed (6 nodes up, 3 voters agree) %v after restarting the old leader and the nodes", time.Since(tHeal).Round(time.Millisecond))
	after := cluster.NewObjects("after", 6, 13)
	if err := cluster.Put(ctx, clients[1], bucket, after, par); err != nil {
		t.Fatal(err)
	}
	all := slices.Concat(before, during, after)
	if err := cluster.Verify(ctx, []*minio.Client{clients[1], clients[0]}, bucket, all, par); err != nil {
		t.Fatal(err)
	}
	keys, err := cluster.List(ctx, clients[0], bucket, "")
	if err != nil || !slices.Equal(keys, cluster.Keys(all)) {
		t.Fatalf("list: %d keys (want %d), %v", len(keys), len(all), err)
	}
}
