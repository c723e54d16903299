"""boto3 against a Riffle server: create, put_records, list_shards (paginator),
get_shard_iterator, get_records and an error case.

Usage: python3 boto3_check.py ENDPOINT STREAM
Exits 1 with a message on the first failed check, else prints a JSON summary
for the Go test to check.
"""
import hashlib
import json
import sys
import time

from rifflecheck import ClientError, Config, boto3, check


def shard_for(partition_key, n):
    key = int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")
    for i in range(n):
        if key <= (i + 1) * 2**128 // n - 1:
            return "shardId-%012d" % i
    raise AssertionError("hash key out of range")


def main():
    endpoint, stream = sys.argv[1], sys.argv[2]
    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30),
    )
    shard_count = 3
    client.create_stream(StreamName=stream, ShardCount=shard_count)
    deadline = time.time() + 30
    while True:
        s = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        if s["StreamStatus"] == "ACTIVE":
            break
        check(time.time() < deadline, "stream not ACTIVE after 30s: %s" % s["StreamStatus"])
        time.sleep(0.1)

    entries = [{"Data": ("boto-%02d" % i).encode(), "PartitionKey": "pk-%d" % (i % 7)} for i in range(40)]
    entries.append({"Data": b"\x00\xff binary \x80", "PartitionKey": "bin", "ExplicitHashKey": str(2**128 - 1)})
    put = client.put_records(StreamName=stream, Records=entries)
    check(put.get("FailedRecordCount", 0) == 0, "FailedRecordCount %r" % put.get("FailedRecordCount"))
    check(len(put["Records"]) == len(entries), "%d results for %d entries" % (len(put["Records"]), len(entries)))
    for e, r in zip(entries, put["Records"]):
        want = shard_for(e["PartitionKey"], shard_count) if "ExplicitHashKey" not in e else "shardId-%012d" % (shard_count - 1)
        check(r.get("ShardId") == want, "entry %r went to %r, want %s" % (e["Data"], r.get("ShardId"), want))
        check(r.get("SequenceNumber", "").isdigit(), "entry %r sequence number %r" % (e["Data"], r.get("SequenceNumber")))

    # The paginator sends StreamName with every request, so (as on AWS, which
    # refuses StreamName with NextToken) it is used with one page; NextToken
    # paging is done by hand below.
    pages = list(client.get_paginator("list_shards").paginate(StreamName=stream))
    shard_ids = [s["ShardId"] for p in pages for s in p["Shards"]]
    check(shard_ids == ["shardId-%012d" % i for i in range(shard_count)], "paginator listed %r" % shard_ids)
    paged, kwargs = [], {"StreamName": stream, "MaxResults": 1}
    for _ in range(10):
        out = client.list_shards(**kwargs)
        paged += [s["ShardId"] for s in out["Shards"]]
        if "NextToken" not in out:
            break
        kwargs = {"NextToken": out["NextToken"], "MaxResults": 1}
    check(paged == shard_ids, "NextToken paging listed %r" % paged)

    read = []
    for sid in shard_ids:
        it = client.get_shard_iterator(StreamName=stream, ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(1000):
            out = client.get_records(ShardIterator=it, Limit=7)
            check(len(out["Records"]) <= 7, "Limit 7 returned %d" % len(out["Records"]))
            for r in out["Records"]:
                read.append({"shard": sid, "data": r["Data"].hex(), "key": r["PartitionKey"], "seq": r["SequenceNumber"]})
            it = out["NextShardIterator"]
            if not out["Records"] and out["MillisBehindLatest"] == 0:
                break
    acked = {e["Data"].hex(): (r["ShardId"], r["SequenceNumber"]) for e, r in zip(entries, put["Records"])}
    got = {r["data"]: (r["shard"], r["seq"]) for r in read}
    check(len(read) == len(entries), "read %d records, put %d" % (len(read), len(entries)))
    check(got == acked, "records read back differ from the acknowledgements")
    for key in set(e["PartitionKey"] for e in entries):
        want = [e["Data"].hex() for e in entries if e["PartitionKey"] == key]
        check([r["data"] for r in read if r["key"] == key] == want, "order of key %s not kept" % key)

    try:
        client.describe_stream(StreamName="nope")
        check(False, "describe_stream of a missing stream succeeded")
    except ClientError as e:
        code = e.response["Error"]["Code"]
        message = e.response["Error"]["Message"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(code == "ResourceNotFoundException", "error code %r" % code)
        check(message == "Stream nope under account 000000000000 not found.", "error message %r" % message)
        check(status == 400, "error status %r" % status)
    try:
        client.get_records(ShardIterator="garbled-iterator")
        check(False, "get_records with a garbled iterator succeeded")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "InvalidArgumentException", "garbled iterator: %r" % e.response["Error"]["Code"])

    print(json.dumps({"shards": shard_ids, "records": len(read), "binary": got.get(b"\x00\xff binary \x80".hex())}))


if __name__ == "__main__":
    main()
