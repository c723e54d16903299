"""boto3 against a Riffle server: split_shard, merge_shards, update_shard_count,
retention and stream mode, with lineage read back and documented errors.

Usage: python3 boto3_reshard.py ENDPOINT
Exits 1 with a message on the first failed check; prints "ok" on success.
"""
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from rifflecheck import check


def expect_error(code, fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        check(got == code, "%s: got %s (%s), want %s" % (fn.__name__, got, e.response["Error"].get("Message"), code))
        return e.response["Error"].get("Message", "")
    check(False, "%s succeeded, want %s" % (fn.__name__, code))


def main():
    c = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x",
                     aws_secret_access_key="y", config=Config(retries={"max_attempts": 1}))
    name = "boto-reshard"
    c.create_stream(StreamName=name, ShardCount=2)
    c.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    for i in range(20):
        c.put_record(StreamName=name, Data=b"before-%d" % i, PartitionKey="k%d" % i)

    msg = expect_error("InvalidArgumentException", c.split_shard, StreamName=name,
                       ShardToSplit="shardId-000000000000", NewStartingHashKey="1")
    check("StartingHashKey" in msg, "split error message: %r" % msg)
    c.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
    shards = c.list_shards(StreamName=name)["Shards"]
    check([s["ShardId"][-1] for s in shards] == list("0123"), "shards after split: %r" % shards)
    check("EndingSequenceNumber" in shards[0]["SequenceNumberRange"], "parent not closed")
    check(shards[2]["ParentShardId"] == "shardId-000000000000", "child lineage: %r" % shards[2])

    expect_error("InvalidArgumentException", c.merge_shards, StreamName=name,
                 ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000001")
    c.merge_shards(StreamName=name, ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000003")
    latest = c.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    check(sorted(s["ShardId"] for s in latest) == ["shardId-000000000001", "shardId-000000000004"],
          "open shards after merge: %r" % latest)

    # The closed parent ends with its children.
    it = c.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    got = c.get_records(ShardIterator=it)
    check(got.get("NextShardIterator") is None, "closed shard returned a next iterator")
    check([s["ShardId"] for s in got["ChildShards"]] == ["shardId-000000000002", "shardId-000000000003"],
          "ChildShards: %r" % got.get("ChildShards"))

    out = c.update_shard_count(StreamName=name, TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    check(out["CurrentShardCount"] == 2 and out["TargetShardCount"] == 3, "update_shard_count: %r" % out)
    latest = c.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    check(len(latest) == 3, "open shards after update_shard_count: %d" % len(latest))
    expect_error("LimitExceededException", c.update_shard_count, StreamName=name, TargetShardCount=7,
                 ScalingType="UNIFORM_SCALING")

    expect_error("InvalidArgumentException", c.increase_stream_retention_period, StreamName=name,
                 RetentionPeriodHours=9000)
    c.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=100)
    c.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=50)
    d = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    check(d["RetentionPeriodHours"] == 50, "retention: %r" % d["RetentionPeriodHours"])

    c.update_stream_mode(StreamARN=d["StreamARN"], StreamModeDetails={"StreamMode": "ON_DEMAND"})
    d = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    check(d["StreamModeDetails"]["StreamMode"] == "ON_DEMAND", "mode: %r" % d["StreamModeDetails"])
    expect_error("ValidationException", c.split_shard, StreamName=name, ShardToSplit="shardId-000000000005",
                 NewStartingHashKey="12345")
    print("ok")


if __name__ == "__main__":
    main()
