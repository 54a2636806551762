package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
	"github.com/hybrid-storage/hybrid-storage/shared/procnet"
)

// Pool runs functions as Lambda does: each instance is one bootstrap
// (BinDir/<function>) under its own Runtime Interface Emulator (RIE),
// started on demand and kept warm; an instance runs one invocation at a
// time. A function with reserved concurrency (Reserved) has at most that
// many instances and an invocation beyond them is throttled (ErrThrottled);
// others get up to MaxInstances and then wait for a free one.
type Pool struct {
	BinDir string   // <function> binaries (linux, -tags lambda.norpc)
	RIE    string   // the aws-lambda-rie binary
	Env    []string // every instance's environment (KEY=value)
	// FunctionEnv adds a function's own variables; nil: its timeout and
	// memory from the function table (httpapi.Functions).
	FunctionEnv func(function string) []string
	// Reserved is a function's reserved concurrency (0: none); nil: the
	// function table's.
	Reserved     func(function string) int
	MaxInstances int // per function without reserved concurrency; 0: 4
	// Logs is where an instance's output goes; nil discards it.
	Logs func(function string) io.Writer
	// Start starts a process (default cmd.Start); tests start children from
	// one long-lived thread (testenv.Start).
	Start func(*exec.Cmd) error

	mu   sync.Mutex
	fns  map[string]*fnPool
	hc   *http.Client
	done bool
}

type fnPool struct {
	slots chan struct{} // one per running invocation
	limit int
	// reserved: beyond limit, throttle instead of waiting
	reserved bool
	mu       sync.Mutex
	idle     []*Instance
	all      []*Instance
}

// DefaultFunctionEnv is what Lambda sets for a function deployed with the
// function table's settings: its timeout and memory.
func DefaultFunctionEnv(function string) []string {
	f, _ := httpapi.Lookup(function) // unknown: the HTTP defaults
	return []string{
		"AWS_LAMBDA_FUNCTION_NAME=" + function,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(f.Deadline().Seconds())),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(f.Memory()),
	}
}

func (p *Pool) fn(name string) *fnPool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fns == nil {
		p.fns = map[string]*fnPool{}
		p.hc = &http.Client{}
	}
	fp := p.fns[name]
	if fp == nil {
		f, _ := httpapi.Lookup(name)
		reserved := f.Reserved
		if p.Reserved != nil {
			reserved = p.Reserved(name)
		}
		fp = &fnPool{limit: reserved, reserved: reserved > 0}
		if !fp.reserved {
			fp.limit = p.MaxInstances
			if fp.limit <= 0 {
				fp.limit = 4
			}
		}
		fp.slots = make(chan struct{}, fp.limit)
		p.fns[name] = fp
	}
	return fp
}

// Invoke runs one invocation of function with event, as a synchronous
// Lambda invoke: the function's answer, or an error (ErrThrottled when it
// is at its reserved concurrency).
func (p *Pool) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	fp := p.fn(function)
	if fp.reserved {
		select {
		case fp.slots <- struct{}{}:
		default:
			return nil, fmt.Errorf("%w: %s at %d", ErrThrottled, function, fp.limit)
		}
	} else {
		select {
		case fp.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() { <-fp.slots }()
	fp.mu.Lock()
	var inst *Instance
	if n := len(fp.idle); n > 0 {
		inst, fp.idle = fp.idle[n-1], fp.idle[:n-1]
	}
	fp.mu.Unlock()
	if inst == nil {
		var err error
		if inst, err = p.startInstance(function); err != nil {
			return nil, err
		}
		fp.mu.Lock()
		fp.all = append(fp.all, inst)
		fp.mu.Unlock()
	}
	out, err := invokeURL(ctx, p.hc, inst.URL, event)
	if err != nil {
		// An abandoned invocation may still be running, and an emulator that
		// failed (or a function that crashed) would fail every later call:
		// as Lambda does with a failed execution environment, this instance
		// is not reused; the next invocation starts a fresh one.
		inst.Stop()
		return nil, err
	}
	fp.mu.Lock()
	fp.idle = append(fp.idle, inst)
	fp.mu.Unlock()
	return out, err
}

func (p *Pool) startInstance(function string) (*Instance, error) {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done {
		return nil, fmt.Errorf("gateway: pool closed")
	}
	env := append([]string(nil), p.Env...)
	if p.FunctionEnv != nil {
		env = append(env, p.FunctionEnv(function)...)
	} else {
		env = append(env, DefaultFunctionEnv(function)...)
	}
	var logs io.Writer = io.Discard
	if p.Logs != nil {
		logs = p.Logs(function)
	}
	return StartInstance(p.RIE, filepath.Join(p.BinDir, function), env, logs, p.Start)
}

// Close stops every instance.
func (p *Pool) Close() {
	p.mu.Lock()
	p.done = true
	fns := p.fns
	p.mu.Unlock()
	for _, fp := range fns {
		fp.mu.Lock()
		for _, inst := range fp.all {
			inst.Stop()
		}
		fp.mu.Unlock()
	}
}

// Instance is one bootstrap under one emulator.
type Instance struct {
	URL string // the emulator's invoke URL
	cmd *exec.Cmd

	ports  []int
	exited chan struct{} // closed when the emulator has exited
	once   sync.Once
}

// StartInstance runs bin under the emulator rie with env, its output to
// logs, and waits until the emulator itself listens. start starts the
// process (nil: cmd.Start). An emulator that exits before it listens (its
// port taken by another process in the meantime) is started again on
// other ports.
func StartInstance(rie, bin string, env []string, logs io.Writer, start func(*exec.Cmd) error) (*Instance, error) {
	var err error
	for range 3 {
		var inst *Instance
		if inst, err = startInstance(rie, bin, env, logs, start); err == nil || !errors.Is(err, errExited) {
			return inst, err
		}
	}
	return nil, err
}

var errExited = errors.New("emulator exited before it listened")

func startInstance(rie, bin string, env []string, logs io.Writer, start func(*exec.Cmd) error) (*Instance, error) {
	ps, err := takePorts(2)
	if err != nil {
		return nil, err
	}
	addr, apiAddr := "127.0.0.1:"+strconv.Itoa(ps[0]), "127.0.0.1:"+strconv.Itoa(ps[1])
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr,
		bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logs, logs
	// Its own process group, so that Stop ends the bootstrap as well; and
	// it dies with the process that started it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(cmd); err != nil {
		releasePorts(ps)
		return nil, fmt.Errorf("gateway: start %s: %w", filepath.Base(bin), err)
	}
	inst := &Instance{cmd: cmd, ports: ps, exited: make(chan struct{}),
		URL: "http://" + addr + "/2015-03-31/functions/function/invocations"}
	go func() {
		_ = cmd.Wait()
		close(inst.exited)
	}()
	// Ready when the emulator's own socket listens on both ports: a dial
	// could reach somebody else's listener on a port reused meanwhile.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := procnet.Listening(cmd.Process.Pid, ps[0])
		if ok {
			ok, err = procnet.Listening(cmd.Process.Pid, ps[1])
		}
		switch {
		case err != nil:
			inst.Stop()
			return nil, err
		case ok:
			return inst, nil
		}
		select {
		case <-inst.exited:
			inst.Stop()
			return nil, fmt.Errorf("gateway: %s: %w", filepath.Base(bin), errExited)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			inst.Stop()
			return nil, fmt.Errorf("gateway: %s: emulator did not listen on %s", filepath.Base(bin), addr)
		}
	}
}

// Stop kills the emulator and the bootstrap and waits for them.
func (i *Instance) Stop() {
	i.once.Do(func() {
		_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
		<-i.exited
		releasePorts(i.ports)
	})
}
