// Package local is the single-process meta.Service: a server.State whose
// commands are applied directly, in order, by one goroutine. Concurrent
// proposals are grouped: every proposal waiting when the applier becomes
// free goes into one ApplyBatch, so with Options.Sync one fsync covers the
// whole group (group commit).
package local

import (
	"context"
	"sync"

	"github.com/tessera-store/tessera/meta/server"
)

// maxGroup bounds how many commands share one fsync.
const maxGroup = 1024

// Service is a complete meta.Service for single-process use and tests.
// Safe for concurrent use. Close it when done.
type Service struct {
	*server.Service
	st    *server.State
	props chan *proposal
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

type proposal struct {
	cmd []byte
	res chan server.Result // buffered 1: the applier never blocks on it
}

// Open opens (or creates) the state in dir and starts the applier. Set
// opt.Sync for durability on disk; tests on vfs.NewMem may leave it off.
func Open(dir string, opt server.Options) (*Service, error) {
	st, err := server.Open(dir, opt)
	if err != nil {
		return nil, err
	}
	s := &Service{st: st, props: make(chan *proposal), stop: make(chan struct{})}
	s.Service = server.NewService(st, s)
	s.wg.Add(1)
	go s.apply()
	return s, nil
}

func (s *Service) apply() {
	defer s.wg.Done()
	batch := make([]*proposal, 0, maxGroup)
	cmds := make([][]byte, 0, maxGroup)
	for {
		select {
		case <-s.stop:
			return
		case p := <-s.props:
			batch = append(batch[:0], p)
		}
	drain:
		for len(batch) < maxGroup {
			select {
			case p := <-s.props:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		cmds = cmds[:0]
		for _, p := range batch {
			cmds = append(cmds, p.cmd)
		}
		rs := s.st.ApplyBatch(s.st.AppliedIndex()+1, cmds)
		for i, p := range batch {
			p.res <- rs[i]
			batch[i] = nil
		}
	}
}

// Propose applies cmd and returns its result. If ctx ends first the command
// may still be applied.
func (s *Service) Propose(ctx context.Context, cmd []byte) (server.Result, error) {
	p := &proposal{cmd: cmd, res: make(chan server.Result, 1)}
	select {
	case s.props <- p:
	case <-s.stop:
		return server.Result{}, server.ErrClosed
	case <-ctx.Done():
		return server.Result{}, ctx.Err()
	}
	select {
	case r := <-p.res:
		return r, nil
	case <-ctx.Done():
		return server.Result{}, ctx.Err()
	}
}

// ReadBarrier returns at once: a command is applied before its Propose
// returns, so every read sees every write that completed before it.
func (s *Service) ReadBarrier(ctx context.Context) error { return ctx.Err() }

// Close stops the applier and closes the state. Proposals after Close fail
// with server.ErrClosed.
func (s *Service) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		err = s.st.Close()
	})
	return err
}
