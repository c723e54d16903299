package engine

import (
	"context"
	"sort"
	"strings"
	"unicode"
)

// Tags are key-value labels on a stream (and, once consumers exist, on a
// registered consumer). They live in the persisted metadata with the resource
// they label, so they survive restarts with it.

// MaxTagsPerResource is the most tags a stream or consumer may carry.
const MaxTagsPerResource = 50

// defaultListTagsLimit is the page size of ListTagsForStream without a Limit:
// every tag a stream may have, in one page.
const defaultListTagsLimit = MaxTagsPerResource

// AddTagsToStreamInput is the input of AddTagsToStream.
type AddTagsToStreamInput struct {
	StreamRef
	Tags map[string]string
}

// RemoveTagsFromStreamInput is the input of RemoveTagsFromStream.
type RemoveTagsFromStreamInput struct {
	StreamRef
	TagKeys []string
}

// ListTagsForStreamInput is the input of ListTagsForStream.
type ListTagsForStreamInput struct {
	StreamRef
	ExclusiveStartTagKey string
	Limit                *int
}

// ListTagsForStreamOutput is the output of ListTagsForStream.
type ListTagsForStreamOutput struct {
	Tags        []Tag
	HasMoreTags bool
}

// Tag is one key-value pair. An empty value is left out on the wire.
type Tag struct {
	Key   string
	Value string
}

// TagResourceInput is the input of TagResource.
type TagResourceInput struct {
	ResourceARN string
	Tags        map[string]string
}

// UntagResourceInput is the input of UntagResource.
type UntagResourceInput struct {
	ResourceARN string
	TagKeys     []string
}

// ListTagsForResourceInput is the input of ListTagsForResource.
type ListTagsForResourceInput struct {
	ResourceARN string
}

// ListTagsForResourceOutput is the output of ListTagsForResource.
type ListTagsForResourceOutput struct {
	Tags []Tag
}

// resource is what a ResourceARN names: a stream today, a registered
// consumer once consumers exist. The operations on tags and policies work on
// a resource through the pointers to where its state lives, so that a
// consumer only needs a case in resolveResource.
type resource struct {
	kind    string // "stream" or "consumer", as messages name it
	name    string
	account string
	stream  *stream // the stream, or the consumer's stream
	tags    *map[string]string
	policy  *string
}

// streamResource is the resource view of a stream.
func streamResource(s *stream) *resource {
	return &resource{kind: "stream", name: s.meta.Name, account: s.meta.Account, stream: s,
		tags: &s.meta.Tags, policy: &s.meta.Policy}
}

// resolveResource finds the stream or consumer an ARN names among the
// caller's resources. Callers hold e.mu.
func (e *Engine) resolveResource(c Caller, arn string) (*resource, error) {
	if strings.Contains(arn, "/consumer/") {
		streamARN, _, _, ok := splitConsumerARN(arn)
		if !ok {
			return nil, errorf(KindInvalidArgument, "Invalid ResourceARN %s.", arn)
		}
		if _, _, _, ok := parseStreamARN(streamARN); !ok {
			return nil, errorf(KindInvalidArgument, "Invalid ResourceARN %s.", arn)
		}
		s, cm, err := e.resolveConsumer(c, ConsumerRef{ConsumerARN: arn})
		if err != nil {
			return nil, err
		}
		return consumerResource(s, cm), nil
	}
	if _, _, _, ok := parseStreamARN(arn); !ok {
		return nil, errorf(KindInvalidArgument, "Invalid ResourceARN %s.", arn)
	}
	s, err := e.resolve(c, StreamRef{StreamARN: arn})
	if err != nil {
		return nil, err
	}
	return streamResource(s), nil
}

// changeable returns an error unless the resource's stream may have its
// tags or policy changed: not while it is being created or deleted.
func (r *resource) changeable() error {
	switch st := r.stream.meta.Status; st {
	case StatusCreating, StatusDeleting:
		return errStreamNotActive(r.stream.meta.Name, r.stream.meta.Account, st)
	}
	return nil
}

// tagChars reports whether s holds only the characters AWS allows in tag
// keys and values: Unicode letters, digits, white space and _ . / = + - % @ :.
func tagChars(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Zs, r) || strings.ContainsRune("_./=+-%@:", r) {
			continue
		}
		return false
	}
	return true
}

// checkTagText refuses tag keys and values with characters Kinesis does not
// accept. verb is what failed ("add tags to", "remove tags from"). Kinesis
// first checks the documented character set, which includes '%', then
// refuses '%' with a second message: both answers are kept as recorded from
// the service.
func checkTagText(verb string, r *resource, texts []string) error {
	for _, t := range texts {
		if !tagChars(t) {
			return errorf(KindInvalidArgument, "Some tags contain invalid characters. Valid characters: "+
				"Unicode letters, digits, white space, _ . / = + - %% @ :.")
		}
	}
	for _, t := range texts {
		if strings.ContainsRune(t, '%') {
			return errorf(KindInvalidArgument, "Failed to %s %s %s under account %s because some tags contained illegal "+
				"characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@',':'.",
				verb, r.kind, r.name, r.account)
		}
	}
	return nil
}

// checkNewTags validates tags to be added to r, whose current tags are
// existing: characters, the reserved "aws:" prefix and the per-resource count.
func checkNewTags(r *resource, tags, existing map[string]string) error {
	texts := make([]string, 0, 2*len(tags))
	for k, v := range tags {
		texts = append(texts, k, v)
	}
	sort.Strings(texts) // a stable answer when several are wrong
	if err := checkTagText("add tags to", r, texts); err != nil {
		return err
	}
	for k := range tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return errorf(KindInvalidArgument, "Failed to add tags to %s %s under account %s because tag key %s uses the "+
				"prefix aws:, which is reserved for AWS use.", r.kind, r.name, r.account, k)
		}
	}
	n := len(existing)
	for k := range tags {
		if _, ok := existing[k]; !ok {
			n++
		}
	}
	if n > MaxTagsPerResource {
		return errorf(KindInvalidArgument, "Failed to add tags to %s %s under account %s because a given %s cannot have "+
			"more than %d tags associated with it.", r.kind, r.name, r.account, r.kind, MaxTagsPerResource)
	}
	return nil
}

// checkCreateTags validates the tags given to CreateStream, before the
// stream exists.
func checkCreateTags(c Caller, in *CreateStreamInput) error {
	if len(in.Tags) == 0 {
		return nil
	}
	r := &resource{kind: "stream", name: in.StreamName, account: c.Account}
	return checkNewTags(r, in.Tags, nil)
}

// addTags merges tags into r's, overwriting the values of existing keys, and
// saves the metadata. Callers hold e.mu for writing.
func (e *Engine) addTagsLocked(r *resource, tags map[string]string) error {
	if err := r.changeable(); err != nil {
		return err
	}
	if err := checkNewTags(r, tags, *r.tags); err != nil {
		return err
	}
	if *r.tags == nil {
		*r.tags = make(map[string]string, len(tags))
	}
	for k, v := range tags {
		(*r.tags)[k] = v
	}
	return e.saveLocked()
}

// removeTagsLocked deletes keys from r's tags; keys it does not have are
// ignored, as Kinesis ignores them. Callers hold e.mu for writing.
func (e *Engine) removeTagsLocked(r *resource, keys []string) error {
	if err := r.changeable(); err != nil {
		return err
	}
	if err := checkTagText("remove tags from", r, keys); err != nil {
		return err
	}
	for _, k := range keys {
		delete(*r.tags, k)
	}
	if len(*r.tags) == 0 {
		*r.tags = nil
	}
	return e.saveLocked()
}

// sortedTags lists tags by key.
func sortedTags(tags map[string]string) []Tag {
	out := make([]Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// AddTagsToStream adds tags to a stream or overwrites the values of tags it
// has.
func (e *Engine) AddTagsToStream(ctx context.Context, in *AddTagsToStreamInput) error {
	c := e.caller(ctx)
	if err := e.throttle(c, "AddTagsToStream", refName(in.StreamRef)); err != nil { // limits.go
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return err
	}
	return e.addTagsLocked(streamResource(s), in.Tags)
}

// RemoveTagsFromStream removes tags from a stream.
func (e *Engine) RemoveTagsFromStream(ctx context.Context, in *RemoveTagsFromStreamInput) error {
	c := e.caller(ctx)
	if err := e.throttle(c, "RemoveTagsFromStream", refName(in.StreamRef)); err != nil { // limits.go
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return err
	}
	return e.removeTagsLocked(streamResource(s), in.TagKeys)
}

// ListTagsForStream lists a page of a stream's tags in key order, starting
// after ExclusiveStartTagKey.
func (e *Engine) ListTagsForStream(ctx context.Context, in *ListTagsForStreamInput) (*ListTagsForStreamOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "ListTagsForStream", refName(in.StreamRef)); err != nil { // limits.go
		return nil, err
	}
	limit := defaultListTagsLimit
	if in.Limit != nil {
		limit = *in.Limit
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return nil, err
	}
	all := sortedTags(s.meta.Tags)
	i := sort.Search(len(all), func(i int) bool { return all[i].Key > in.ExclusiveStartTagKey })
	page := all[i:]
	out := &ListTagsForStreamOutput{Tags: page}
	if len(page) > limit {
		out.Tags, out.HasMoreTags = page[:limit], true
	}
	return out, nil
}

// TagResource adds tags to the stream or consumer an ARN names.
func (e *Engine) TagResource(ctx context.Context, in *TagResourceInput) error {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.resolveResource(c, in.ResourceARN)
	if err != nil {
		return err
	}
	return e.addTagsLocked(r, in.Tags)
}

// UntagResource removes tags from the stream or consumer an ARN names.
func (e *Engine) UntagResource(ctx context.Context, in *UntagResourceInput) error {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.resolveResource(c, in.ResourceARN)
	if err != nil {
		return err
	}
	return e.removeTagsLocked(r, in.TagKeys)
}

// ListTagsForResource lists all tags of the stream or consumer an ARN names,
// in key order.
func (e *Engine) ListTagsForResource(ctx context.Context, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	c := e.caller(ctx)
	e.mu.RLock()
	defer e.mu.RUnlock()
	r, err := e.resolveResource(c, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return &ListTagsForResourceOutput{Tags: sortedTags(*r.tags)}, nil
}
