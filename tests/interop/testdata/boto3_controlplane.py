"""boto3 against a Riffle server: tags, resource policies, account settings,
limits, maximum record size and warm throughput, with their documented errors.

Usage: python3 boto3_controlplane.py ENDPOINT setup|verify
"setup" makes the changes and checks the errors; "verify" (run after a server
restart) only reads. Both print the same JSON summary of the state, which the
Go test compares. Exits 1 with a message on the first failed check.
"""
import json
import sys
import time

from rifflecheck import ClientError, Config, boto3, check

ACCOUNT = "000000000000"
STREAM = "boto-cp"
ONDEMAND = "boto-cp-od"


def arn(name):
    return "arn:aws:kinesis:us-east-1:%s:stream/%s" % (ACCOUNT, name)


POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "ReadFromAnalytics",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:role/analytics"},
        "Action": ["kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:Get*"],
        "Resource": arn(STREAM),
    }],
})


def expect_error(code, fn, what, contains=""):
    try:
        fn()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        msg = e.response["Error"].get("Message", "")
        check(got == code and contains in msg, "%s: got %s %r, want %s containing %r" % (what, got, msg, code, contains))
        return
    check(False, "%s: no error, want %s" % (what, code))


def wait_active(client, name):
    deadline = time.time() + 30
    while True:
        s = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if s["StreamStatus"] == "ACTIVE":
            return
        check(time.time() < deadline, "%s not ACTIVE after 30s: %s" % (name, s["StreamStatus"]))
        time.sleep(0.1)


def setup(client):
    client.create_stream(StreamName=STREAM, ShardCount=1, Tags={"team": "data"})
    wait_active(client, STREAM)
    client.add_tags_to_stream(StreamName=STREAM, Tags={"env": "dev", "tmp": "1", "empty": ""})
    client.remove_tags_from_stream(StreamARN=arn(STREAM), TagKeys=["tmp", "never-there"])
    client.tag_resource(ResourceARN=arn(STREAM), Tags={"owner": "boto"})
    client.untag_resource(ResourceARN=arn(STREAM), TagKeys=["env"])
    page = client.list_tags_for_stream(StreamName=STREAM, Limit=1)
    check(page["HasMoreTags"] and [t["Key"] for t in page["Tags"]] == ["empty"], "first tag page %r" % page)
    page = client.list_tags_for_stream(StreamName=STREAM, Limit=5, ExclusiveStartTagKey="empty")
    check(not page["HasMoreTags"] and [t["Key"] for t in page["Tags"]] == ["owner", "team"], "second tag page %r" % page)

    expect_error("InvalidArgumentException",
                 lambda: client.add_tags_to_stream(StreamName=STREAM, Tags={"k%02d" % i: "v" for i in range(48)}),
                 "51 tags", "cannot have more than 50 tags")
    expect_error("InvalidArgumentException", lambda: client.tag_resource(ResourceARN=arn(STREAM), Tags={"a#b": "v"}),
                 "tag key with '#'", "Some tags contain invalid characters.")
    expect_error("ResourceNotFoundException", lambda: client.list_tags_for_stream(StreamName="boto-missing"),
                 "tags of a missing stream", "Stream boto-missing under account %s not found." % ACCOUNT)
    expect_error("ResourceNotFoundException",
                 lambda: client.list_tags_for_resource(ResourceARN=arn(STREAM) + "/consumer/app:1700000000"),
                 "tags of an unregistered consumer", "Consumer app")
    # The service model bounds TagKeys to 50 entries: botocore refuses more
    # before sending, so that check is left to the model.

    client.put_resource_policy(ResourceARN=arn(STREAM), Policy=POLICY)
    expect_error("InvalidArgumentException",
                 lambda: client.put_resource_policy(ResourceARN=arn(STREAM), Policy='{"Version":"2012-10-17"}'),
                 "policy without statements", "missing required field Statement")
    bad_effect = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Permit", "Principal": "*", "Action": "kinesis:GetRecords", "Resource": arn(STREAM)}]})
    expect_error("InvalidArgumentException", lambda: client.put_resource_policy(ResourceARN=arn(STREAM), Policy=bad_effect),
                 "policy with Effect Permit", 'Effect must be "Allow" or "Deny"')
    other = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "kinesis:GetRecords", "Resource": arn("someone-else")}]})
    expect_error("InvalidArgumentException", lambda: client.put_resource_policy(ResourceARN=arn(STREAM), Policy=other),
                 "policy for another stream", "must be the ARN of the resource")
    expect_error("ResourceNotFoundException",
                 lambda: client.delete_resource_policy(ResourceARN=arn("boto-missing")),
                 "policy of a missing stream", "Stream boto-missing under account %s not found." % ACCOUNT)

    settings = client.describe_account_settings()["MinimumThroughputBillingCommitment"]
    check(settings["Status"] == "DISABLED", "initial account settings %r" % settings)
    client.create_stream(StreamName=ONDEMAND, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait_active(client, ONDEMAND)
    expect_error("InvalidArgumentException",
                 lambda: client.update_stream_warm_throughput(StreamName=ONDEMAND, WarmThroughputMiBps=64),
                 "warm throughput without the commitment", "MinimumThroughputBillingCommitment")
    up = client.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
    cm = up["MinimumThroughputBillingCommitment"]
    check(cm["Status"] == "ENABLED" and (cm["EarliestAllowedEndAt"] - cm["StartedAt"]).total_seconds() == 86400,
          "enabled commitment %r" % cm)
    # Disabling within the first 24 hours only schedules the end; enabling
    # again cancels it.
    cm = client.update_account_settings(MinimumThroughputBillingCommitment={"Status": "DISABLED"})["MinimumThroughputBillingCommitment"]
    check(cm["Status"] == "ENABLED_UNTIL_EARLIEST_ALLOWED_END", "early disable %r" % cm)
    cm = client.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})["MinimumThroughputBillingCommitment"]
    check(cm["Status"] == "ENABLED", "re-enable %r" % cm)

    wt = client.update_stream_warm_throughput(StreamARN=arn(ONDEMAND), WarmThroughputMiBps=128)
    check(wt["StreamName"] == ONDEMAND and wt["StreamARN"] == arn(ONDEMAND) and wt["WarmThroughput"]["TargetMiBps"] == 128,
          "update_stream_warm_throughput %r" % wt)
    expect_error("InvalidArgumentException",
                 lambda: client.update_stream_warm_throughput(StreamName=STREAM, WarmThroughputMiBps=64),
                 "warm throughput on a provisioned stream", "ON_DEMAND")
    expect_error("LimitExceededException",
                 lambda: client.update_stream_warm_throughput(StreamName=ONDEMAND, WarmThroughputMiBps=10241),
                 "warm throughput over 10 GiB/s", "10240")

    client.update_max_record_size(StreamARN=arn(STREAM), MaxRecordSizeInKiB=4096)
    expect_error("ResourceNotFoundException",
                 lambda: client.update_max_record_size(StreamARN=arn("boto-missing"), MaxRecordSizeInKiB=2048),
                 "max record size of a missing stream", "Stream boto-missing under account %s not found." % ACCOUNT)
    big = b"b" * (4 << 20)
    put = client.put_record(StreamName=STREAM, PartitionKey="big", Data=big)
    check(put["SequenceNumber"].isdigit(), "4 MiB put_record %r" % put)
    expect_error("ValidationException", lambda: client.put_record(StreamName=STREAM, PartitionKey="big", Data=big + b"!"),
                 "record over the stream's 4 MiB maximum", "4194304")


def summary(client):
    tags = client.list_tags_for_resource(ResourceARN=arn(STREAM))["Tags"]
    by_stream = client.list_tags_for_stream(StreamName=STREAM)["Tags"]
    check(tags == by_stream, "list_tags_for_resource %r != list_tags_for_stream %r" % (tags, by_stream))
    policy = client.get_resource_policy(ResourceARN=arn(STREAM))["Policy"]
    check(json.loads(policy) == json.loads(POLICY), "policy %r" % policy)
    cm = client.describe_account_settings()["MinimumThroughputBillingCommitment"]
    limits = client.describe_limits()
    s = client.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
    od = client.describe_stream_summary(StreamName=ONDEMAND)["StreamDescriptionSummary"]
    check("WarmThroughput" not in s, "provisioned stream reports WarmThroughput %r" % s.get("WarmThroughput"))
    shard = client.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
    it = client.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = client.get_records(ShardIterator=it)["Records"]
    return {
        "Tags": {t["Key"]: t.get("Value", "") for t in tags},
        "Policy": policy,
        "Commitment": cm["Status"],
        "CommitmentStarted": cm["StartedAt"].isoformat(),
        "Limits": [limits["ShardLimit"], limits["OpenShardCount"], limits["OnDemandStreamCount"], limits["OnDemandStreamCountLimit"]],
        "MaxRecordSizeInKiB": s["MaxRecordSizeInKiB"],
        "WarmThroughput": od.get("WarmThroughput"),
        "RecordSizes": [len(r["Data"]) for r in recs],
    }


def main():
    endpoint, phase = sys.argv[1], sys.argv[2]
    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60),
    )
    if phase == "setup":
        setup(client)
    out = summary(client)
    check(out["Tags"] == {"empty": "", "owner": "boto", "team": "data"}, "tags %r" % out["Tags"])
    check(out["Commitment"] == "ENABLED", "commitment %r" % out["Commitment"])
    check(out["Limits"] == [500, 5, 1, 50], "limits %r" % out["Limits"])
    check(out["MaxRecordSizeInKiB"] == 4096, "MaxRecordSizeInKiB %r" % out["MaxRecordSizeInKiB"])
    check(out["WarmThroughput"] == {"TargetMiBps": 128, "CurrentMiBps": 128}, "WarmThroughput %r" % out["WarmThroughput"])
    check(out["RecordSizes"] == [4 << 20], "records %r" % out["RecordSizes"])
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
