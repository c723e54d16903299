package engine

import "context"

// Caller is who a request comes from: the account and region it acts in.
// Stream names are scoped by both, as in Kinesis.
type Caller struct {
	Account string
	Region  string
	// CrossAccount lets ARNs name streams of other accounts (in the same
	// region): set once the request has been authorized against them.
	CrossAccount bool
}

type callerKey struct{}

// WithCaller returns a context carrying the caller of a request. Requests
// without one act as the configured default account and region.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func (e *Engine) caller(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	if c.Account == "" {
		c.Account = e.cfg.AccountID
	}
	if c.Region == "" {
		c.Region = e.cfg.Region
	}
	return c
}
