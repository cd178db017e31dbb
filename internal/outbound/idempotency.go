package outbound

import "context"

type idempotencyKey struct{}

// WithIdempotencyKey returns a context whose requests carry an
// Idempotency-Key header with key, whatever the caller's headers say: a
// workflow step sends "<run id>.<step id>" on every attempt (SPEC 12), so
// that an upstream can make its retries safe.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, key)
}

// idempotencyKeyOf returns the key WithIdempotencyKey put in ctx.
func idempotencyKeyOf(ctx context.Context) string {
	k, _ := ctx.Value(idempotencyKey{}).(string)
	return k
}
