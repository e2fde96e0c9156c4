package raftmeta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/tessera-store/tessera/meta"
	"github.com/tessera-store/tessera/meta/remote"
	"github.com/tessera-store/tessera/meta/server"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("raftmeta: invalid config")

// EmbeddedAddr is the Raft address of an embedded member (Config.Embedded).
// It is fixed, not a listener's, because the address is stored in the Raft
// configuration: one that changed on every restart would leave the member
// without a vote in its own group.
const EmbeddedAddr = "embedded"

// Config configures a Node. Zero durations and counts take the defaults
// documented on each field, tuned for a LAN.
type Config struct {
	ID       string // unique, stable server ID
	Dir      string // data directory (created if missing)
	RaftAddr string // host:port for Raft traffic; port 0 picks one (tests); "" when Embedded
	APIAddr  string // the gRPC API address clients reach this member at
	// Bootstrap makes a brand-new member form a single-voter group. It is
	// ignored when Dir already holds Raft state. When Dir/state already
	// holds applied commands but there is no Raft state (a State moved from
	// meta/local), the group starts from a snapshot of that State, so the
	// log continues above its applied index.
	Bootstrap bool
	// Embedded runs a lone voter inside another process: no listener, an
	// in-memory transport at EmbeddedAddr that nothing connects to. It
	// needs Bootstrap and an empty RaftAddr, and the member can never gain
	// peers (Join and AddVoter fail with meta.ErrInvalidArgument).
	Embedded bool
	Logger   *slog.Logger // nil: slog.Default()

	HeartbeatTimeout   time.Duration // default 500ms
	ElectionTimeout    time.Duration // default 500ms
	LeaderLeaseTimeout time.Duration // default 250ms
	CommitTimeout      time.Duration // default 5ms
	ApplyTimeout       time.Duration // Propose without a ctx deadline; default 10s
	MaxAppendEntries   int           // default 256 (raft's cap is 1024)
	SnapshotThreshold  uint64        // entries between snapshots; default 8192
	SnapshotInterval   time.Duration // how often to check; default 30s
	TrailingLogs       uint64        // entries kept after a snapshot; default 10240
	// NoSync skips fsync of the Raft log. Benchmarks of other layers only.
	NoSync bool
}

// Validate checks the config and fills in defaults.
func (c *Config) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: empty ID", ErrConfig)
	case c.Dir == "":
		return fmt.Errorf("%w: empty Dir", ErrConfig)
	case c.Embedded && c.RaftAddr != "":
		return fmt.Errorf("%w: RaftAddr %q set on an embedded member (it has no network transport)", ErrConfig, c.RaftAddr)
	case c.Embedded && !c.Bootstrap:
		return fmt.Errorf("%w: an embedded member needs Bootstrap (it cannot join a group)", ErrConfig)
	case !c.Embedded && c.RaftAddr == "":
		return fmt.Errorf("%w: empty RaftAddr (set Embedded for a member without a network transport)", ErrConfig)
	case c.MaxAppendEntries < 0 || c.MaxAppendEntries > 1024:
		return fmt.Errorf("%w: MaxAppendEntries %d not in 0..1024", ErrConfig, c.MaxAppendEntries)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.HeartbeatTimeout, 500*time.Millisecond)
	def(&c.ElectionTimeout, 500*time.Millisecond)
	def(&c.LeaderLeaseTimeout, 250*time.Millisecond)
	def(&c.CommitTimeout, 5*time.Millisecond)
	def(&c.ApplyTimeout, 10*time.Second)
	def(&c.SnapshotInterval, 30*time.Second)
	if c.MaxAppendEntries == 0 {
		c.MaxAppendEntries = 256
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		return fmt.Errorf("%w: LeaderLeaseTimeout above HeartbeatTimeout", ErrConfig)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Node is one member of the metadata Raft group. It implements
// server.Proposer and remote.AdminHooks. Safe for concurrent use.
type Node struct {
	cfg   Config
	log   *slog.Logger
	raft  *raft.Raft
	trans transport
	store *Store
	st    *server.State
	fsm   *fsm
	svc   *server.Service

	// barrierMu serializes Barriers; barrierTerm is the last term whose
	// Barrier has been applied (ReadBarrier).
	barrierMu   sync.Mutex
	barrierTerm atomic.Uint64

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var (
	_ server.Proposer   = (*Node)(nil)
	_ remote.AdminHooks = (*Node)(nil)
)

// transport is what a Node needs of its Raft transport: *raft.NetworkTransport
// or, for an embedded member, *raft.InmemTransport.
type transport interface {
	raft.Transport
	raft.WithClose
}

// Open starts a member from cfg.Dir.
func Open(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.ID), stop: make(chan struct{})}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("raftmeta: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			n.closeStores()
		}
	}()
	var err error
	if n.store, err = OpenStore(filepath.Join(cfg.Dir, "raft"), StoreOptions{NoSync: cfg.NoSync}); err != nil {
		return nil, err
	}
	if n.st, err = server.Open(filepath.Join(cfg.Dir, "state"), server.Options{Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("raftmeta: %w", err)
	}
	n.fsm = newFSM(n.st)
	hl := newHCLogger(n.log)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(cfg.Dir, "snapshots"), 2, hl)
	if err != nil {
		return nil, fmt.Errorf("raftmeta: snapshot store: %w", err)
	}
	if n.trans, err = newTransport(cfg, hl); err != nil {
		return nil, err
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.MaxAppendEntries = cfg.MaxAppendEntries
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.BatchApplyCh = true
	rc.Logger = hl
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(n.store, n.store, snaps)
		if err != nil {
			return nil, fmt.Errorf("raftmeta: %w", err)
		}
		if !has {
			c := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: n.trans.LocalAddr()}}}
			if err := n.bootstrap(rc, snaps, c); err != nil {
				return nil, fmt.Errorf("raftmeta: bootstrap: %w", err)
			}
		}
	}
	if n.raft, err = raft.NewRaft(rc, n.fsm, n.store, n.store, snaps, n.trans); err != nil {
		return nil, fmt.Errorf("raftmeta: start raft: %w", err)
	}
	n.svc = server.NewService(n.st, n)
	n.wg.Add(1)
	go n.watchLeadership()
	ok = true
	n.log.Info("meta raft member started", "raft_addr", n.trans.LocalAddr(), "api_addr", cfg.APIAddr)
	return n, nil
}

// newTransport opens cfg's Raft transport: TCP on RaftAddr, or an
// in-memory one at EmbeddedAddr for an embedded member.
func newTransport(cfg Config, hl hclog.Logger) (transport, error) {
	if cfg.Embedded {
		_, t := raft.NewInmemTransport(EmbeddedAddr)
		return t, nil
	}
	advertise, err := net.ResolveTCPAddr("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: raft address %q: %v", ErrConfig, cfg.RaftAddr, err)
	}
	var adv net.Addr = advertise
	if advertise.Port == 0 {
		adv = nil // the listener's address
	}
	t, err := raft.NewTCPTransportWithLogger(cfg.RaftAddr, adv, 3, 10*time.Second, hl)
	if err != nil {
		return nil, fmt.Errorf("raftmeta: raft transport on %s: %w", cfg.RaftAddr, err)
	}
	return t, nil
}

// bootstrap forms a single-voter group with configuration c. Over an empty
// State that is raft.BootstrapCluster: c at log index 1. A State that
// already applied commands (one moved from meta/local, which numbers its
// commands 1, 2, ...) would skip every entry of a fresh log up to its
// applied index, taking them for replays (State.Apply). So the group
// starts instead from a snapshot of that State at its applied index, term
// 1, as if the log up to there had been compacted: Raft restores it on
// start (fsm.Restore keeps the local State, which is as new), and the
// first entry it appends is applied index + 1.
func (n *Node) bootstrap(rc *raft.Config, snaps raft.SnapshotStore, c raft.Configuration) error {
	if n.st.AppliedIndex() == 0 {
		return raft.BootstrapCluster(rc, n.store, n.store, snaps, n.trans, c)
	}
	sn, err := n.st.Snapshot()
	if err != nil {
		return err
	}
	snap := &fsmSnapshot{sn: sn, dir: n.fsm.directory()}
	defer snap.Release()
	// A crash before Persist closes the sink leaves a temporary snapshot
	// that the store ignores: the next start bootstraps again.
	sink, err := snaps.Create(raft.SnapshotVersionMax, sn.Index(), 1, c, sn.Index(), n.trans)
	if err != nil {
		return err
	}
	if err := snap.Persist(sink); err != nil {
		return err
	}
	n.log.Info("meta raft: bootstrapped over existing state", "index", sn.Index())
	return nil
}

func (n *Node) closeStores() {
	if n.trans != nil {
		n.trans.Close()
	}
	if n.st != nil {
		n.st.Close()
	}
	if n.store != nil {
		n.store.Close()
	}
}

// Close shuts the member down (without leaving the group).
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		close(n.stop)
		err := n.raft.Shutdown().Error()
		n.wg.Wait()
		errs := []error{err, n.trans.Close(), n.st.Close(), n.store.Close()}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// Service returns the meta.Service of this member. Writes and reads work
// on the leader; on a follower they fail with meta.ErrNotLeader.
func (n *Node) Service() meta.Service { return n.svc }

// ID returns the member's server ID.
func (n *Node) ID() string { return n.cfg.ID }

// RaftAddr returns the address the Raft transport listens on.
func (n *Node) RaftAddr() string { return string(n.trans.LocalAddr()) }

// IsLeader reports whether this member currently leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// watchLeadership runs leader duties on every election won: a Barrier (so
// reads are ready at once) and publishing this member's API address.
func (n *Node) watchLeadership() {
	defer n.wg.Done()
	ch := n.raft.LeaderCh()
	for {
		select {
		case <-n.stop:
			return
		case lead := <-ch:
			if !lead {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ApplyTimeout)
			if err := n.barrier(ctx); err != nil {
				n.log.Warn("meta raft: barrier after election", "err", err)
			}
			if n.cfg.APIAddr != "" && n.fsm.apiAddr(n.cfg.ID) != n.cfg.APIAddr {
				if err := n.publish(ctx, n.cfg.ID, n.cfg.APIAddr); err != nil {
					n.log.Warn("meta raft: publish API address", "err", err)
				}
			}
			cancel()
		}
	}
}

func timeout(ctx context.Context, def time.Duration) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return def
}

// wait waits for f, or for ctx to end.
func wait(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// raftErr maps Raft's errors to meta's.
func raftErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrNotVoter):
		return fmt.Errorf("raftmeta: %s: %w", op, meta.ErrNotLeader)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	// ErrLeadershipLost, ErrEnqueueTimeout, ErrRaftShutdown, ...: the
	// outcome may be unknown; the client retries with the same ReqID.
	return fmt.Errorf("raftmeta: %s: %w: %v", op, meta.ErrUnavailable, err)
}

func (n *Node) barrier(ctx context.Context) error {
	n.barrierMu.Lock()
	defer n.barrierMu.Unlock()
	term := n.raft.CurrentTerm()
	if n.barrierTerm.Load() == term {
		return nil
	}
	if err := wait(ctx, n.raft.Barrier(timeout(ctx, n.cfg.ApplyTimeout))); err != nil {
		return raftErr("barrier", err)
	}
	n.barrierTerm.Store(term)
	return nil
}

// Propose replicates cmd and returns the State's result (server.Proposer).
func (n *Node) Propose(ctx context.Context, cmd []byte) (server.Result, error) {
	if n.raft.State() != raft.Leader {
		return server.Result{}, fmt.Errorf("raftmeta: propose: %w", meta.ErrNotLeader)
	}
	f := n.raft.Apply(cmd, timeout(ctx, n.cfg.ApplyTimeout))
	if err := wait(ctx, f); err != nil {
		return server.Result{}, raftErr("propose", err)
	}
	r, ok := f.Response().(server.Result)
	if !ok {
		return server.Result{}, fmt.Errorf("raftmeta: propose: unexpected FSM response %T", f.Response())
	}
	return r, nil
}

// ReadBarrier makes the next local read linearizable (server.Proposer): the
// Barrier of the current term is applied, and this member still leads
// (checked with a heartbeat round, except on an embedded member).
func (n *Node) ReadBarrier(ctx context.Context) error {
	if n.raft.State() != raft.Leader {
		return fmt.Errorf("raftmeta: read: %w", meta.ErrNotLeader)
	}
	if n.barrierTerm.Load() != n.raft.CurrentTerm() {
		if err := n.barrier(ctx); err != nil {
			return err
		}
	}
	if n.cfg.Embedded {
		// A lone voter that can never gain peers cannot be deposed: no
		// other leader can commit behind its back. VerifyLeader would
		// prove nothing and costs a trip through Raft's leader loop,
		// queued behind its log fsyncs.
		return ctx.Err()
	}
	return raftErr("verify leader", wait(ctx, n.raft.VerifyLeader()))
}

func (n *Node) publish(ctx context.Context, id, apiAddr string) error {
	b, err := json.Marshal(dirEntry{ID: id, APIAddr: apiAddr})
	if err != nil {
		return err
	}
	f := n.raft.ApplyLog(raft.Log{Data: b, Extensions: dirExt}, timeout(ctx, n.cfg.ApplyTimeout))
	return raftErr("publish address", wait(ctx, f))
}

// Join adds a voter (leader only) and records its API address.
func (n *Node) Join(ctx context.Context, id, raftAddr, apiAddr string) error {
	if n.cfg.Embedded {
		// No peer could reach it, and a second voter would cost the quorum.
		return fmt.Errorf("raftmeta: join %s: %w: an embedded member cannot have peers", id, meta.ErrInvalidArgument)
	}
	if n.raft.State() != raft.Leader {
		return fmt.Errorf("raftmeta: join: %w", meta.ErrNotLeader)
	}
	f := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, timeout(ctx, n.cfg.ApplyTimeout))
	if err := raftErr("add voter", wait(ctx, f)); err != nil {
		return err
	}
	n.log.Info("meta raft: voter added", "op", "join", "id", id, "raft_addr", raftAddr)
	if apiAddr != "" {
		return n.publish(ctx, id, apiAddr)
	}
	return nil
}

// AddVoter adds a voter without an API address (leader only).
func (n *Node) AddVoter(ctx context.Context, id, raftAddr string) error {
	return n.Join(ctx, id, raftAddr, "")
}

// RemoveVoter removes a server from the group (leader only).
func (n *Node) RemoveVoter(ctx context.Context, id string) error {
	if n.raft.State() != raft.Leader {
		return fmt.Errorf("raftmeta: remove voter: %w", meta.ErrNotLeader)
	}
	f := n.raft.RemoveServer(raft.ServerID(id), 0, timeout(ctx, n.cfg.ApplyTimeout))
	if err := raftErr("remove voter", wait(ctx, f)); err != nil {
		return err
	}
	n.log.Info("meta raft: voter removed", "op", "remove", "id", id)
	if id == n.cfg.ID {
		return nil // no longer leader: the next leader keeps the stale entry
	}
	return n.publish(ctx, id, "")
}

// Leave removes this member from the group when it leads; otherwise it
// fails with meta.ErrNotLeader (ask the leader's RemoveVoter instead).
func (n *Node) Leave(ctx context.Context) error { return n.RemoveVoter(ctx, n.cfg.ID) }

// Leader returns the leader's ID, Raft address and API address ("" when
// unknown).
func (n *Node) Leader() (id, raftAddr, apiAddr string) {
	addr, sid := n.raft.LeaderWithID()
	return string(sid), string(addr), n.fsm.apiAddr(string(sid))
}

// LeaderAPI returns the leader's API address, "" if unknown.
func (n *Node) LeaderAPI() string {
	_, _, api := n.Leader()
	return api
}

// Servers returns the group's configuration.
func (n *Node) Servers(ctx context.Context) ([]remote.Member, error) {
	f := n.raft.GetConfiguration()
	if err := wait(ctx, f); err != nil {
		return nil, raftErr("configuration", err)
	}
	var out []remote.Member
	for _, s := range f.Configuration().Servers {
		out = append(out, remote.Member{
			ID: string(s.ID), RaftAddr: string(s.Address), APIAddr: n.fsm.apiAddr(string(s.ID)), Voter: s.Suffrage == raft.Voter,
		})
	}
	return out, nil
}

// Status reports this member's view of the group.
func (n *Node) Status(ctx context.Context) (remote.Status, error) {
	ms, err := n.Servers(ctx)
	if err != nil {
		return remote.Status{}, err
	}
	lid, _, lapi := n.Leader()
	return remote.Status{
		ID: n.cfg.ID, State: n.raft.State().String(), LeaderID: lid, LeaderAPI: lapi, Members: ms,
		Term: n.raft.CurrentTerm(), LastIndex: n.raft.LastIndex(), CommitIndex: n.raft.CommitIndex(),
		AppliedIndex: n.raft.AppliedIndex(),
	}, nil
}

// Stats returns Raft's counters plus the State's applied index.
func (n *Node) Stats() map[string]string {
	s := n.raft.Stats()
	s["state_applied_index"] = fmt.Sprint(n.st.AppliedIndex())
	return s
}

// Snapshot takes a snapshot now (and lets Raft compact the log).
func (n *Node) Snapshot(ctx context.Context) error {
	return raftErr("snapshot", wait(ctx, n.raft.Snapshot()))
}

// WaitLeader blocks until some member is known to lead.
func (n *Node) WaitLeader(ctx context.Context) error {
	obs := make(chan raft.Observation, 16)
	o := raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	n.raft.RegisterObserver(o)
	defer n.raft.DeregisterObserver(o)
	for {
		if id, _, _ := n.Leader(); id != "" {
			return nil
		}
		select {
		case <-obs:
		case <-ctx.Done():
			return fmt.Errorf("raftmeta: no leader: %w", ctx.Err())
		}
	}
}

// hclogWriter forwards raft's hclog lines to slog.
type hclogWriter struct{ log *slog.Logger }

func (w hclogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	lvl := slog.LevelInfo
	switch {
	case strings.Contains(line, "[ERROR]"):
		lvl = slog.LevelError
	case strings.Contains(line, "[WARN]"):
		lvl = slog.LevelWarn
	case strings.Contains(line, "[DEBUG]"), strings.Contains(line, "[TRACE]"):
		lvl = slog.LevelDebug
	}
	if i := strings.Index(line, "] "); i >= 0 && strings.HasPrefix(line, "[") {
		line = strings.TrimSpace(line[i+2:]) // the level is the record's own
	}
	w.log.Log(context.Background(), lvl, "raft", "line", line)
	return len(p), nil
}

func newHCLogger(l *slog.Logger) hclog.Logger {
	lvl := hclog.Warn
	if l.Enabled(context.Background(), slog.LevelInfo) {
		lvl = hclog.Info
	}
	if l.Enabled(context.Background(), slog.LevelDebug) {
		lvl = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{Name: "raft", Level: lvl, Output: hclogWriter{l}, DisableTime: true})
}

var _ io.Writer = hclogWriter{}
