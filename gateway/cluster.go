package gateway

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/tessera-store/tessera/internal/keyring"
	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/remote"
	"github.com/tessera-store/tessera/object"
	"github.com/tessera-store/tessera/pack"
	"github.com/tessera-store/tessera/placement"
	"github.com/tessera-store/tessera/store"
	storeremote "github.com/tessera-store/tessera/store/remote"
)

// GatewayConfig configures `objd gateway`.
type GatewayConfig struct {
	Listen      string
	Meta        []string // metad API addresses
	Region      string
	Domains     []string
	AdminListen string
	TLSCert     string
	TLSKey      string
	// The pool new packs go to, created with these settings if missing.
	Pool          string
	K, M          int
	FailureDomain string // host, rack, zone, region
	PGs           int
	// KeyringFile holds the 32-byte key that seals user secrets; every
	// gateway of a cluster needs the same. Empty: derived from the root
	// secret key (HKDF), so gateways that share root credentials agree.
	KeyringFile string
	// HeartbeatTimeout after which a silent node counts as down (15 s).
	HeartbeatTimeout time.Duration
	GCGrace, GCEvery time.Duration
	// ChunkCacheBytes bounds the decoded-chunk cache (0 = 256 MiB, < 0 = off).
	ChunkCacheBytes int64
	Logger          *slog.Logger
	Stdout          io.Writer
	Getenv          func(string) string
	Ready           func(addr string)
}

// RunGateway runs a cluster S3 gateway until ctx is done.
func RunGateway(ctx context.Context, cfg GatewayConfig) error {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:9000"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Pool == "" {
		cfg.Pool = "default"
	}
	if cfg.K == 0 {
		cfg.K, cfg.M = 4, 2
	}
	if cfg.FailureDomain == "" {
		cfg.FailureDomain = "host"
	}
	if cfg.PGs == 0 {
		cfg.PGs = 256
	}
	if cfg.HeartbeatTimeout == 0 {
		cfg.HeartbeatTimeout = 15 * time.Second
	}
	if cfg.GCGrace == 0 {
		cfg.GCGrace = time.Hour
	}
	if cfg.GCEvery == 0 {
		cfg.GCEvery = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if len(cfg.Meta) == 0 {
		return errors.New("gateway: --meta is required (metad API addresses)")
	}
	log := cfg.Logger
	ak, sk := cfg.Getenv("TESSERA_ACCESS_KEY"), cfg.Getenv("TESSERA_SECRET_KEY")
	if ak == "" || sk == "" {
		return errors.New("gateway: set TESSERA_ACCESS_KEY and TESSERA_SECRET_KEY (the cluster's root credentials)")
	}
	root := Credentials{AccessKey: ak, SecretKey: sk}
	var kr *keyring.Keyring
	var err error
	if cfg.KeyringFile != "" {
		kr, _, err = keyring.LoadOrCreate(cfg.KeyringFile)
	} else {
		var key []byte
		key, err = hkdf.Key(sha256.New, []byte(sk), nil, "tessera keyring v1", keyring.KeySize)
		if err == nil {
			kr, err = keyring.New(key)
		}
	}
	if err != nil {
		return err
	}
	mc, err := remote.Dial(cfg.Meta, remote.Options{Logger: log})
	if err != nil {
		return err
	}
	defer mc.Close()

	pool := meta.Pool{Name: cfg.Pool, K: cfg.K, M: cfg.M, Codec: "zstd-fastest", Domain: cfg.FailureDomain, PGs: cfg.PGs}
	if err := ensurePool(ctx, mc, &pool); err != nil {
		return err
	}
	topo := &topology{meta: mc, pool: pool, timeout: cfg.HeartbeatTimeout, log: log}
	if err := topo.refresh(ctx); err != nil {
		log.Warn("no placement yet; retrying in the background", "err", err)
	}
	go topo.run(ctx, 2*time.Second)

	stores := &storeMap{stores: make(map[string]store.Store), dial: func(node string) (store.Store, error) {
		addr, ok := topo.addr(node)
		if !ok {
			return nil, fmt.Errorf("gateway: node %q not registered: %w", node, store.ErrUnavailable)
		}
		return storeremote.New(addr, storeremote.Options{})
	}}
	layer, err := object.New(object.Options{
		Meta: mc, Stores: stores, Placement: topo, Pool: pool.Name, Codec: pool.Codec, Keyring: kr, Logger: log,
		CacheBytes: cfg.ChunkCacheBytes,
	})
	if err != nil {
		return err
	}
	gc := &collector{meta: mc, nodes: topo.nodeIDs, store: stores.Store, grace: cfg.GCGrace, now: time.Now, log: log,
		repair: &repairer{meta: mc, store: stores.Store, targets: topo.repairTargets, log: log}}
	go gc.run(ctx, cfg.GCEvery)

	fmt.Fprintf(cfg.Stdout, "Tessera gateway\n  metadata:     %v\n  pool:         %s %d+%d, failure domain %s\n", cfg.Meta, pool.Name, pool.K, pool.M, pool.Domain)
	return serve(ctx, serveConfig{
		listen: cfg.Listen, adminListen: cfg.AdminListen, tlsCert: cfg.TLSCert, tlsKey: cfg.TLSKey,
		region: cfg.Region, domains: cfg.Domains, log: log, stdout: cfg.Stdout, ready: cfg.Ready,
		backend: &backend{Layer: layer, root: root}, meta: mc, keyring: kr, root: root,
		nodes: topo.report, mode: "cluster", pools: mc.ListPools, readyCheck: topo.ready,
	})
}

// ensurePool creates the pool unless it exists; an existing pool wins.
func ensurePool(ctx context.Context, m meta.Service, p *meta.Pool) error {
	var lastErr error
	for attempt := 0; attempt < 60; attempt++ {
		pools, err := m.ListPools(ctx)
		if err == nil {
			for _, q := range pools {
				if q.Name == p.Name {
					*p = q
					return nil
				}
			}
			if err = m.PutPool(ctx, newReqID(), *p); err == nil {
				return nil
			}
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("gateway: create pool %s: %w", p.Name, lastErr)
}

// topology keeps the node list and the placement map fresh.
type topology struct {
	meta    meta.Service
	pool    meta.Pool
	timeout time.Duration
	log     *slog.Logger

	// mu guards the fields below, replaced whole on each refresh.
	mu     sync.RWMutex
	nodes  []meta.Node
	strict *placement.Map // placement over live nodes
	any    *placement.Map // placement over all nodes: writes while nodes are down
}

func (t *topology) run(ctx context.Context, every time.Duration) {
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			if err := t.refresh(ctx); err != nil && ctx.Err() == nil {
				t.log.Warn("topology refresh failed", "err", err)
			}
		}
	}
}

func (t *topology) refresh(ctx context.Context) error {
	ns, err := t.meta.ListNodes(ctx)
	if err != nil {
		return err
	}
	pool, err := placement.FromMetaPool(t.pool)
	if err != nil {
		return err
	}
	now := time.Now()
	var live, all []placement.Node
	for _, n := range ns {
		live = append(live, placement.FromMetaNode(n, now, t.timeout))
		a := placement.FromMetaNode(n, now, 0)
		if a.State == placement.StateFailed {
			a.State = placement.StateUp // a failed drive still may take shards elsewhere; its writes fail and are recorded
		}
		all = append(all, a)
	}
	strict, serr := placement.New(live, pool)
	bestEffort := pool
	bestEffort.BestEffort = true
	anyMap, aerr := placement.New(all, bestEffort)
	t.mu.Lock()
	t.nodes = ns
	if serr == nil {
		t.strict = strict
	} else {
		t.strict = nil
	}
	if aerr == nil {
		t.any = anyMap
	}
	t.mu.Unlock()
	if serr != nil && aerr != nil {
		return fmt.Errorf("gateway: cannot place pool %s on %d nodes: %w", t.pool.Name, len(ns), serr)
	}
	return nil
}

// Place puts a pack on live nodes when the topology allows it; otherwise
// (more nodes down than spare) on all registered nodes, so the writes to
// down nodes fail and are recorded as missing shards for repair: writes go
// on while at most m nodes are down.
func (t *topology) Place(ctx context.Context, id pack.ID) (int, int, []string, error) {
	t.mu.RLock()
	strict, anyMap := t.strict, t.any
	t.mu.RUnlock()
	if strict != nil {
		return strict.Place(ctx, id)
	}
	if anyMap != nil {
		return anyMap.Place(ctx, id)
	}
	return 0, 0, nil, fmt.Errorf("gateway: no placement for pool %s (no storage nodes registered?): %w", t.pool.Name, store.ErrUnavailable)
}

// ready reports whether a pack can be placed.
func (t *topology) ready() error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.strict == nil && t.any == nil {
		return fmt.Errorf("no placement for pool %s yet (%d nodes registered)", t.pool.Name, len(t.nodes))
	}
	return nil
}

func (t *topology) addr(node string) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, n := range t.nodes {
		if n.ID == node {
			return n.Addr, true
		}
	}
	return "", false
}

func (t *topology) nodeIDs(context.Context) ([]string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	ids := make([]string, 0, len(t.nodes))
	for _, n := range t.nodes {
		ids = append(ids, n.ID)
	}
	return ids, nil
}

func (t *topology) report(ctx context.Context) ([]NodeReport, error) {
	ns, err := t.meta.ListNodes(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]NodeReport, 0, len(ns))
	for _, n := range ns {
		st := "up"
		switch {
		case n.Failed:
			st = "failed"
		case now.UnixNano()-n.LastSeen > int64(t.timeout):
			st = "down"
		}
		out = append(out, NodeReport{ID: n.ID, Addr: n.Addr, Zone: n.Zone, Rack: n.Rack, State: st,
			Capacity: n.Capacity, Used: n.Used, Free: n.Free, Shards: n.Shards})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// repairTargets plans where a damaged pack's missing shards are rebuilt.
func (t *topology) repairTargets(p meta.Pack) ([]placement.Target, error) {
	t.mu.RLock()
	m := t.strict
	if m == nil {
		m = t.any
	}
	t.mu.RUnlock()
	if m == nil {
		return nil, errors.New("gateway: no placement map yet")
	}
	rs := m.PlanRepair([]placement.Damaged{{Pack: p.ID, K: p.K, M: p.M, Nodes: p.Nodes, Missing: p.Missing}})
	if rs[0].Err != nil {
		return nil, rs[0].Err
	}
	return rs[0].Targets, nil
}
