package syncjob_test

import (
	"io"
	"net"
	"sync"
	"time"
)

// latencyProxy forwards TCP connections to upstream and holds every chunk
// of the answer (upstream → client) for delay before passing it on, as
// Toxiproxy's latency toxic does downstream: each request waits delay more
// for its response, and streams keep their throughput (chunks are
// pipelined, not serialised). It stands in for a far-away cold tier.
type latencyProxy struct {
	ln       net.Listener
	upstream string
	delay    time.Duration
	wg       sync.WaitGroup
}

func newLatencyProxy(upstream string, delay time.Duration) (*latencyProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &latencyProxy{ln: ln, upstream: upstream, delay: delay}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *latencyProxy) Addr() string { return p.ln.Addr().String() }

func (p *latencyProxy) Close() { p.ln.Close(); p.wg.Wait() }

func (p *latencyProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *latencyProxy) serve(client net.Conn) {
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		client.Close()
		return
	}
	go func() { // client → upstream as is
		_, _ = io.Copy(up, client)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	type chunk struct {
		b  []byte
		at time.Time
	}
	chunks := make(chan chunk, 1024)
	go func() { // upstream → queue, stamped
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := up.Read(buf)
			if n > 0 {
				chunks <- chunk{buf[:n], time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks { // queue → client, each chunk delay after it arrived
		time.Sleep(time.Until(c.at.Add(p.delay)))
		if _, err := client.Write(c.b); err != nil {
			break
		}
	}
	client.Close()
	up.Close()
}
