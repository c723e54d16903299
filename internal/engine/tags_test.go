package engine

import (
	"fmt"
	"reflect"
	"testing"
)

func listTags(t *testing.T, e *Engine, in ListTagsForStreamInput) *ListTagsForStreamOutput {
	t.Helper()
	return must[*ListTagsForStreamOutput](t)(e.ListTagsForStream(ctx, &in))
}

func TestTagsAddListRemove(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "tagged", 1)
		ref := StreamRef{StreamName: "tagged"}
		if got := listTags(t, v.e, ListTagsForStreamInput{StreamRef: ref}); len(got.Tags) != 0 || got.HasMoreTags || got.Tags == nil {
			t.Fatalf("new stream tags: %+v (want an empty, non-nil list)", got)
		}
		if err := v.e.AddTagsToStream(ctx, &AddTagsToStreamInput{StreamRef: ref, Tags: map[string]string{
			"team": "data", "env": "dev", "empty": "", "ü0 _./=+-@:": "ok",
		}}); err != nil {
			t.Fatal(err)
		}
		// Adding an existing key overwrites its value.
		if err := v.e.AddTagsToStream(ctx, &AddTagsToStreamInput{StreamRef: ref, Tags: map[string]string{"env": "prod"}}); err != nil {
			t.Fatal(err)
		}
		want := []Tag{{"empty", ""}, {"env", "prod"}, {"team", "data"}, {"ü0 _./=+-@:", "ok"}}
		if got := listTags(t, v.e, ListTagsForStreamInput{StreamRef: ref}); !reflect.DeepEqual(got.Tags, want) || got.HasMoreTags {
			t.Fatalf("tags: %+v", got)
		}
		// Paging: Limit and ExclusiveStartTagKey.
		p1 := listTags(t, v.e, ListTagsForStreamInput{StreamRef: ref, Limit: ptr(2)})
		if !reflect.DeepEqual(p1.Tags, want[:2]) || !p1.HasMoreTags {
			t.Fatalf("page 1: %+v", p1)
		}
		p2 := listTags(t, v.e, ListTagsForStreamInput{StreamRef: ref, Limit: ptr(2), ExclusiveStartTagKey: p1.Tags[1].Key})
		if !reflect.DeepEqual(p2.Tags, want[2:]) || p2.HasMoreTags {
			t.Fatalf("page 2: %+v", p2)
		}
		// Removing a key that is not there is ignored.
		if err := v.e.RemoveTagsFromStream(ctx, &RemoveTagsFromStreamInput{StreamRef: ref, TagKeys: []string{"team", "nope"}}); err != nil {
			t.Fatal(err)
		}
		v.restart()
		want = []Tag{{"empty", ""}, {"env", "prod"}, {"ü0 _./=+-@:", "ok"}}
		if got := listTags(t, v.e, ListTagsForStreamInput{StreamRef: ref}); !reflect.DeepEqual(got.Tags, want) {
			t.Fatalf("tags after restart: %+v", got.Tags)
		}
		// By ARN, the same tags.
		arn := "arn:aws:kinesis:us-east-1:000000000000:stream/tagged"
		got := must[*ListTagsForResourceOutput](t)(v.e.ListTagsForResource(ctx, &ListTagsForResourceInput{ResourceARN: arn}))
		if !reflect.DeepEqual(got.Tags, want) {
			t.Fatalf("ListTagsForResource: %+v", got.Tags)
		}
	})
}

func TestTagResourceByARN(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "res", 1)
		arn := "arn:aws:kinesis:us-east-1:000000000000:stream/res"
		if err := v.e.TagResource(ctx, &TagResourceInput{ResourceARN: arn, Tags: map[string]string{"a": "1", "b": "2"}}); err != nil {
			t.Fatal(err)
		}
		if err := v.e.UntagResource(ctx, &UntagResourceInput{ResourceARN: arn, TagKeys: []string{"a"}}); err != nil {
			t.Fatal(err)
		}
		v.restart()
		got := listTags(t, v.e, ListTagsForStreamInput{StreamRef: StreamRef{StreamName: "res"}})
		if !reflect.DeepEqual(got.Tags, []Tag{{"b", "2"}}) {
			t.Fatalf("tags: %+v", got.Tags)
		}

		// Unknown streams, other accounts and consumers (not registered yet).
		err := v.e.TagResource(ctx, &TagResourceInput{ResourceARN: "arn:aws:kinesis:us-east-1:000000000000:stream/nope", Tags: map[string]string{"a": "1"}})
		wantKind(t, err, KindResourceNotFound, "Stream nope under account 000000000000 not found.")
		_, err = v.e.ListTagsForResource(ctx, &ListTagsForResourceInput{ResourceARN: "arn:aws:kinesis:us-east-1:111111111111:stream/res"})
		wantKind(t, err, KindResourceNotFound, "Stream res under account 111111111111 not found.")
		_, err = v.e.ListTagsForResource(ctx, &ListTagsForResourceInput{ResourceARN: arn + "/consumer/app:1700000000"})
		wantKind(t, err, KindResourceNotFound, "Consumer app under stream res under account 000000000000 not found.")
		_, err = v.e.ListTagsForResource(ctx, &ListTagsForResourceInput{ResourceARN: "arn:aws:kinesis:us-east-1:000000000000:table/x"})
		wantKind(t, err, KindInvalidArgument, "Invalid ResourceARN")
	})
}

func TestTagRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "rules", 1)
		ref := StreamRef{StreamName: "rules"}
		add := func(tags map[string]string) error {
			return v.e.AddTagsToStream(ctx, &AddTagsToStreamInput{StreamRef: ref, Tags: tags})
		}
		wantKind(t, add(map[string]string{"bad*key": "v"}), KindInvalidArgument, "Some tags contain invalid characters.")
		wantKind(t, add(map[string]string{"k": "tab\there"}), KindInvalidArgument, "Some tags contain invalid characters.")
		wantKind(t, add(map[string]string{"k": "50%"}), KindInvalidArgument,
			"Failed to add tags to stream rules under account 000000000000 because some tags contained illegal characters.")
		wantKind(t, add(map[string]string{"aws:owner": "me"}), KindInvalidArgument, "reserved")
		wantKind(t, v.e.RemoveTagsFromStream(ctx, &RemoveTagsFromStreamInput{StreamRef: ref, TagKeys: []string{"a%"}}),
			KindInvalidArgument, "Failed to remove tags from stream rules")

		// 50 tags in all; re-adding existing keys does not count twice.
		tags := map[string]string{}
		for i := range 50 {
			tags[fmt.Sprintf("k%02d", i)] = "v"
		}
		if err := add(tags); err != nil {
			t.Fatalf("50 tags: %v", err)
		}
		if err := add(map[string]string{"k00": "again"}); err != nil {
			t.Fatalf("overwrite at 50 tags: %v", err)
		}
		wantKind(t, add(map[string]string{"k50": "v"}), KindInvalidArgument,
			"Failed to add tags to stream rules under account 000000000000 because a given stream cannot have more than 50 tags associated with it.")
		if got := listTags(t, v.e, ListTagsForStreamInput{StreamRef: ref}); len(got.Tags) != 50 || got.HasMoreTags {
			t.Fatalf("after refused add: %d tags, more=%v", len(got.Tags), got.HasMoreTags)
		}

		// CreateStream checks the tags it is given.
		many := map[string]string{}
		for i := range 51 {
			many[fmt.Sprintf("k%02d", i)] = ""
		}
		err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "toomany", ShardCount: ptr(1), Tags: many})
		wantKind(t, err, KindInvalidArgument, "cannot have more than 50 tags")
		err = v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "badtag", ShardCount: ptr(1), Tags: map[string]string{"a#": ""}})
		wantKind(t, err, KindInvalidArgument, "Some tags contain invalid characters.")
		if err := v.e.CreateStream(ctx, &CreateStreamInput{StreamName: "withtags", ShardCount: ptr(1), Tags: map[string]string{"a": "b"}}); err != nil {
			t.Fatal(err)
		}
		if got := listTags(t, v.e, ListTagsForStreamInput{StreamRef: StreamRef{StreamName: "withtags"}}); !reflect.DeepEqual(got.Tags, []Tag{{"a", "b"}}) {
			t.Fatalf("CreateStream tags: %+v", got.Tags)
		}
		_, err = v.e.DescribeStreamSummary(ctx, &DescribeStreamSummaryInput{StreamRef: StreamRef{StreamName: "toomany"}})
		wantKind(t, err, KindResourceNotFound, "toomany")
	})
}
