package engine

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an engine error. The API layer maps each kind to an AWS
// error type and HTTP status in one catalog; the engine only picks the kind and
// AWS's message wording.
type Kind int

// The kinds of error the engine returns to clients.
const (
	KindInternal Kind = iota
	KindResourceNotFound
	KindResourceInUse
	KindInvalidArgument
	KindLimitExceeded
	KindExpiredIterator
	KindExpiredNextToken
	KindValidation
	KindProvisionedThroughputExceeded
	KindAccessDenied
)

// Error is an error meant for the client: a kind and AWS's message.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

// KindOf returns the kind of err, KindInternal for any error that is not an
// *Error (such as a storage failure).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// The messages below follow the wording AWS returns, as recorded by peers that
// captured real responses (kinesalite) and the AWS API reference.

func errStreamNotFound(name, account string) error {
	return errorf(KindResourceNotFound, "Stream %s under account %s not found.", name, account)
}

func errStreamExists(name, account string) error {
	return errorf(KindResourceInUse, "Stream %s under account %s already exists.", name, account)
}

func errStreamNotActive(name, account, status string) error {
	return errorf(KindResourceInUse, "Stream %s under account %s not ACTIVE, instead in state %s", name, account, status)
}

func errShardNotFound(shardID, stream, account string) error {
	return errorf(KindResourceNotFound, "Shard %s in stream %s under account %s does not exist", shardID, stream, account)
}

func errShardLimit(account, region string, current, limit, extra int) error {
	return errorf(KindLimitExceeded, "This request would exceed the shard limit for the account %s in %s. "+
		"Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted "+
		"from this request: %d. Refer to the AWS Service Limits page "+
		"(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to "+
		"request higher limits.", account, region, current, limit, extra)
}

var errInvalidIterator = &Error{Kind: KindInvalidArgument, Message: "Invalid ShardIterator."}

func errExpiredIterator(created, now time.Time) error {
	return errorf(KindExpiredIterator, "Iterator expired. The iterator was created at time %s while right now it is "+
		"%s which is further in the future than the tolerated delay of %d milliseconds.",
		amzTime(created), amzTime(now), IteratorTTL.Milliseconds())
}

// amzTime formats a time the way Kinesis prints it in messages:
// "Thu Jan 22 01:22:02 UTC 2015".
func amzTime(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 15:04:05 UTC 2006")
}
