package postgres

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// Statements counts (and, from RecordStatements, records) the statements
// sent on behalf of one context, BEGIN and COMMIT included: every pool of
// this package adds to the Statements its context carries. Tests and
// benchmarks use it to hold a request to the round trips it is meant to
// cost and to EXPLAIN every query it sends.
type Statements struct {
	n      atomic.Int64
	record bool
	mu     sync.Mutex
	sent   []Statement
}

// Statement is one statement sent, with its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// N is the number counted so far.
func (s *Statements) N() int64 { return s.n.Load() }

// Sent returns the statements recorded so far (RecordStatements only).
func (s *Statements) Sent() []Statement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Statement(nil), s.sent...)
}

type statementsKey struct{}

// CountStatements returns ctx counting into a new Statements.
func CountStatements(ctx context.Context) (context.Context, *Statements) {
	s := &Statements{}
	return context.WithValue(ctx, statementsKey{}, s), s
}

// RecordStatements returns ctx counting and recording into a new
// Statements.
func RecordStatements(ctx context.Context) (context.Context, *Statements) {
	s := &Statements{record: true}
	return context.WithValue(ctx, statementsKey{}, s), s
}

// statementTracer is the pool's pgx tracer: one context lookup a statement.
type statementTracer struct{}

func (statementTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if s, ok := ctx.Value(statementsKey{}).(*Statements); ok {
		s.n.Add(1)
		if s.record {
			s.mu.Lock()
			s.sent = append(s.sent, Statement{SQL: d.SQL, Args: d.Args})
			s.mu.Unlock()
		}
	}
	return ctx
}

func (statementTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
