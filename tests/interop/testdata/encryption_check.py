"""boto3 against a Riffle server: start_stream_encryption and
stop_stream_encryption, the EncryptionType of puts, describes and reads, and
the documented error cases.

Usage: python3 encryption_check.py ENDPOINT STREAM CONTROL SECRET
Writes CONTROL before encryption starts, SECRET and SECRET-2 while it is on,
then stops it. Exits 1 with a message on the first failed check, else prints
a JSON summary for the Go test, which greps the data directory afterwards.
"""
import json
import sys
import time

from rifflecheck import ClientError, Config, boto3, check


def wait_active(client, stream):
    deadline = time.time() + 30
    while True:
        s = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        if s["StreamStatus"] == "ACTIVE":
            return s
        check(time.time() < deadline, "stream not ACTIVE after 30s: %s" % s["StreamStatus"])
        time.sleep(0.05)


def expect_error(code, fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        check(got == code, "%s(%r): %s, want %s" % (fn.__name__, kwargs, got, code))
        return e.response["Error"].get("Message", "")
    check(False, "%s(%r) succeeded, want %s" % (fn.__name__, kwargs, code))


def main():
    endpoint, stream, control, secret = sys.argv[1:5]
    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30),
    )
    client.create_stream(StreamName=stream, ShardCount=1)
    s = wait_active(client, stream)
    check(s.get("EncryptionType") == "NONE" and "KeyId" not in s, "new stream: %r" % s)

    put = client.put_record(StreamName=stream, PartitionKey="pk", Data=control.encode())
    check("EncryptionType" not in put, "put to an unencrypted stream: %r" % put)

    expect_error("InvalidArgumentException", client.start_stream_encryption,
                 StreamName=stream, EncryptionType="NONE", KeyId="alias/aws/kinesis")
    expect_error("InvalidArgumentException", client.start_stream_encryption,
                 StreamName=stream, EncryptionType="KMS", KeyId="no such key")
    msg = expect_error("ResourceNotFoundException", client.start_stream_encryption,
                       StreamName="missing", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    check(msg == "Stream missing under account 000000000000 not found.", "message %r" % msg)
    expect_error("ResourceNotFoundException", client.stop_stream_encryption,
                 StreamName="missing", EncryptionType="KMS", KeyId="alias/aws/kinesis")

    arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    client.start_stream_encryption(StreamARN=arn, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    s = wait_active(client, stream)
    check(s.get("EncryptionType") == "KMS" and s.get("KeyId") == "alias/aws/kinesis", "after start: %r" % s)
    d = client.describe_stream(StreamName=stream)["StreamDescription"]
    check(d.get("EncryptionType") == "KMS" and d.get("KeyId") == "alias/aws/kinesis", "describe_stream after start: %r" % d)

    put = client.put_record(StreamName=stream, PartitionKey="pk", Data=secret.encode())
    check(put.get("EncryptionType") == "KMS", "put to an encrypted stream: %r" % put)
    puts = client.put_records(StreamName=stream, Records=[{"PartitionKey": "pk", "Data": (secret + "-2").encode()}])
    check(puts.get("EncryptionType") == "KMS" and puts.get("FailedRecordCount", 0) == 0, "put_records: %r" % puts)

    it = client.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000",
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = client.get_records(ShardIterator=it)["Records"]
    check(all(r["PartitionKey"] == "pk" for r in recs), "partition keys %r" % [r["PartitionKey"] for r in recs])

    client.stop_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    s = wait_active(client, stream)
    check(s.get("EncryptionType") == "NONE" and "KeyId" not in s, "after stop: %r" % s)

    print(json.dumps({
        "Records": [r["Data"].decode() for r in recs],
        "Encrypted": [r.get("EncryptionType", "") for r in recs],
    }))


if __name__ == "__main__":
    main()
