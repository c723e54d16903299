package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// The accounts and keys of the auth tests. admin1/admin2 have no policy and
// act as their account's root; alice and bob are users with policies.
const (
	acct1 = "111111111111"
	acct2 = "222222222222"
)

const authCredentials = `{"credentials": [
  {"access_key_id": "AKIDADMIN1", "secret_access_key": "admin1-secret", "account_id": "111111111111"},
  {"access_key_id": "AKIDADMIN2", "secret_access_key": "admin2-secret", "account_id": "222222222222"},
  {"access_key_id": "AKIDALICE", "secret_access_key": "alice-secret", "account_id": "111111111111", "user": "alice",
   "policy": {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": ["kinesis:Describe*", "kinesis:Put*", "kinesis:DeleteStream"], "Resource": "arn:aws:kinesis:*:*:stream/open-*"},
     {"Effect": "Allow", "Action": "kinesis:ListStreams", "Resource": "*"},
     {"Effect": "Deny", "Action": "kinesis:DeleteStream", "Resource": "*"}]}},
  {"access_key_id": "AKIDBOB", "secret_access_key": "bob-secret", "account_id": "222222222222", "user": "bob",
   "policy": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}}}
]}`

func startAuthServer(t *testing.T) *server {
	t.Helper()
	file := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(file, []byte(authCredentials), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServer(t, "", "--in-memory", "--auth", "sigv4", "--credentials", file)
}

func authClient(s *server, akid, secret string, opts ...func(*kinesis.Options)) *kinesis.Client {
	return kinesis.New(kinesis.Options{Region: region, BaseEndpoint: aws.String(s.endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, "")}, opts...)
}

func wantAPIError(t *testing.T, what string, err error, code, msgPart string) {
	t.Helper()
	if errorCode(err) != code || !strings.Contains(errorMessage(err), msgPart) {
		t.Fatalf("%s: got %v (code %q), want %s containing %q", what, err, errorCode(err), code, msgPart)
	}
}

// signedRaw sends a ListStreams signed at a given time by the SDK's signer,
// in header form or presigned, and returns the status and body.
func signedRaw(t *testing.T, s *server, secret string, at time.Time, presign bool) (int, string) {
	t.Helper()
	body := []byte(`{}`)
	req, _ := http.NewRequest("POST", s.endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "AKIDADMIN1", SecretAccessKey: secret}
	signer := v4.NewSigner()
	if presign {
		req.URL.RawQuery = "X-Amz-Expires=300"
		u, hdr, err := signer.PresignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "kinesis", region, at)
		if err != nil {
			t.Fatal(err)
		}
		req, _ = http.NewRequest("POST", u, bytes.NewReader(body))
		req.Header = hdr.Clone()
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	} else if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "kinesis", region, at); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAuthSignatures checks SigV4 verification: right keys work with the Go
// SDK, boto3 and the AWS CLI; a wrong secret, an unknown key, no signature,
// an expired signature are refused in AWS's words; a presigned URL works.
func TestAuthSignatures(t *testing.T) {
	t.Parallel()
	s := startAuthServer(t)
	ctx := testCtx(t, 2*time.Minute)
	admin := authClient(s, "AKIDADMIN1", "admin1-secret")
	createStream(t, ctx, admin, "open-orders", 1)

	_, err := authClient(s, "AKIDADMIN1", "not-the-secret").ListStreams(ctx, &kinesis.ListStreamsInput{})
	wantAPIError(t, "wrong secret", err, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
	_, err = authClient(s, "AKIDNOBODY", "whatever").ListStreams(ctx, &kinesis.ListStreamsInput{})
	wantAPIError(t, "unknown key", err, "UnrecognizedClientException", "The security token included in the request is invalid.")
	_, err = authClient(s, "AKIDADMIN1", "admin1-secret", func(o *kinesis.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIDADMIN1", "admin1-secret", "a-session-token")
	}).ListStreams(ctx, &kinesis.ListStreamsInput{})
	wantAPIError(t, "session token", err, "UnrecognizedClientException", "The security token included in the request is invalid.")

	resp, err := http.Post(s.endpoint, "application/x-amz-json-1.1", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "UnknownOperationException") {
		t.Fatalf("no target: %d %s", resp.StatusCode, b)
	}
	req, _ := http.NewRequest("POST", s.endpoint, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || string(b) != `{"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}` {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, b)
	}

	if code, body := signedRaw(t, s, "admin1-secret", time.Now().Add(-20*time.Minute), false); code != 400 ||
		!strings.Contains(body, "InvalidSignatureException") || !strings.Contains(body, "Signature expired: ") || !strings.Contains(body, "- 15 min.)") {
		t.Fatalf("expired signature: %d %s", code, body)
	}
	if code, body := signedRaw(t, s, "admin1-secret", time.Now(), true); code != 200 || !strings.Contains(body, "open-orders") {
		t.Fatalf("presigned: %d %s", code, body)
	}
	if code, body := signedRaw(t, s, "not-the-secret", time.Now(), true); code != 400 || !strings.Contains(body, "InvalidSignatureException") {
		t.Fatalf("presigned with a wrong secret: %d %s", code, body)
	}

	// boto3 and the AWS CLI sign their own way.
	script := `
import sys, boto3, botocore
def client(key, secret):
    return boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1}))
assert client("AKIDADMIN1", "admin1-secret").list_streams()["StreamNames"] == ["open-orders"]
client("AKIDADMIN1", "admin1-secret").put_record(StreamName="open-orders", PartitionKey="k", Data=b"from boto3")
try:
    client("AKIDADMIN1", "wrong").list_streams()
    raise SystemExit("wrong secret accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidSignatureException", e.response
print("ok")
`
	cmd := exec.CommandContext(ctx, "python3", "-c", script, s.endpoint)
	cmd.Env = envWithoutAWS()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "ok") {
		t.Fatalf("boto3: %v\n%s%s", err, out.String(), errb.String())
	}
	for _, tc := range []struct{ secret, want string }{{"admin1-secret", `"open-orders"`}, {"wrong", "InvalidSignatureException"}} {
		home := t.TempDir()
		cmd := exec.CommandContext(ctx, "aws", "kinesis", "list-streams", "--endpoint-url", s.endpoint, "--region", region, "--output", "json")
		cmd.Env = append(envWithoutAWS(), "AWS_ACCESS_KEY_ID=AKIDADMIN1", "AWS_SECRET_ACCESS_KEY="+tc.secret, "AWS_PAGER=",
			"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
			"AWS_MAX_ATTEMPTS=1", "HOME="+home)
		combined, _ := cmd.CombinedOutput()
		if !strings.Contains(string(combined), tc.want) {
			t.Fatalf("aws CLI with secret %q: want %s in\n%s", tc.secret, tc.want, combined)
		}
	}
}

// TestAuthPolicies checks authorization: identity policies allow and an
// explicit deny wins, another account's stream is reachable only through
// its resource policy, consumer policies apply to consumer ARNs, and a
// SubscribeToShard over HTTP/2 is verified and authorized.
func TestAuthPolicies(t *testing.T) {
	t.Parallel()
	s := startAuthServer(t)
	ctx := testCtx(t, 2*time.Minute)
	admin := authClient(s, "AKIDADMIN1", "admin1-secret", func(o *kinesis.Options) { o.HTTPClient = &http.Client{Transport: h2cTransport()} })
	alice := authClient(s, "AKIDALICE", "alice-secret")
	bob := authClient(s, "AKIDBOB", "bob-secret")
	createStream(t, ctx, admin, "open-orders", 1)
	createStream(t, ctx, admin, "payroll", 1)
	openARN := "arn:aws:kinesis:us-east-1:" + acct1 + ":stream/open-orders"
	payrollARN := "arn:aws:kinesis:us-east-1:" + acct1 + ":stream/payroll"

	// alice: allowed on open-*, not on payroll; her Deny beats her Allow.
	if _, err := alice.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("open-orders"), PartitionKey: aws.String("k"), Data: []byte("a")}); err != nil {
		t.Fatalf("alice PutRecord open-orders: %v", err)
	}
	_, err := alice.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("payroll"), PartitionKey: aws.String("k"), Data: []byte("a")})
	wantAPIError(t, "alice PutRecord payroll", err, "AccessDeniedException",
		"User: arn:aws:iam::111111111111:user/alice is not authorized to perform: kinesis:PutRecord on resource: "+payrollARN+
			" because no identity-based policy allows the kinesis:PutRecord action")
	// PutRecords (the server's fast path) is authorized the same way.
	entries := []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("b")}}
	if _, err := alice.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("open-orders"), Records: entries}); err != nil {
		t.Fatalf("alice PutRecords open-orders: %v", err)
	}
	_, err = alice.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("payroll"), Records: entries})
	wantAPIError(t, "alice PutRecords payroll", err, "AccessDeniedException",
		"User: arn:aws:iam::111111111111:user/alice is not authorized to perform: kinesis:PutRecords on resource: "+payrollARN+
			" because no identity-based policy allows the kinesis:PutRecords action")
	_, err = alice.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("open-orders")})
	wantAPIError(t, "alice DeleteStream", err, "AccessDeniedException",
		"User: arn:aws:iam::111111111111:user/alice is not authorized to perform: kinesis:DeleteStream on resource: "+openARN+
			" with an explicit deny in an identity-based policy")
	_, err = alice.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("open-orders"), ShardId: aws.String(shardID(0)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	wantAPIError(t, "alice GetShardIterator", err, "AccessDeniedException", "kinesis:GetShardIterator on resource: "+openARN)
	if out, err := alice.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil || len(out.StreamNames) != 2 {
		t.Fatalf("alice ListStreams: %v %v", out, err)
	}

	// bob (account 2, allowed everything by his own policy) cannot reach
	// account 1's stream until its resource policy grants account 2.
	_, err = bob.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: aws.String(openARN), PartitionKey: aws.String("k"), Data: []byte("b")})
	wantAPIError(t, "bob before the resource policy", err, "AccessDeniedException",
		"User: arn:aws:iam::222222222222:user/bob is not authorized to perform: kinesis:PutRecord on resource: "+openARN+
			" because no resource-based policy allows the kinesis:PutRecord action")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},
		"Action":["kinesis:PutRecord","kinesis:DescribeStreamSummary","kinesis:GetShardIterator","kinesis:GetRecords"],"Resource":"` + openARN + `"}]}`
	if _, err := admin.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(openARN), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("PutResourcePolicy: %v", err)
	}
	if _, err := bob.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: aws.String(openARN), PartitionKey: aws.String("k"), Data: []byte("from bob")}); err != nil {
		t.Fatalf("bob PutRecord with the resource policy: %v", err)
	}
	sum, err := bob.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(openARN)})
	if err != nil || aws.ToString(sum.StreamDescriptionSummary.StreamARN) != openARN {
		t.Fatalf("bob DescribeStreamSummary: %v %v", sum, err)
	}
	_, err = bob.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: aws.String(openARN)})
	wantAPIError(t, "bob DeleteStream", err, "AccessDeniedException", "because no resource-based policy allows the kinesis:DeleteStream action")
	// admin2, root of account 2, is granted through the account too.
	admin2 := authClient(s, "AKIDADMIN2", "admin2-secret")
	if _, err := admin2.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: aws.String(openARN), PartitionKey: aws.String("k"), Data: []byte("from admin2")}); err != nil {
		t.Fatalf("admin2 PutRecord: %v", err)
	}
	// The grant is for open-orders only.
	_, err = bob.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: aws.String(payrollARN), PartitionKey: aws.String("k"), Data: []byte("b")})
	wantAPIError(t, "bob payroll", err, "AccessDeniedException", "because no resource-based policy allows")

	// A resource policy's explicit Deny beats alice's identity Allow.
	deny := `{"Version":"2012-10-17","Statement":[` + strings.TrimPrefix(strings.TrimSuffix(policy, "]}"), `{"Version":"2012-10-17","Statement":[`) +
		`,{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"kinesis:PutRecord","Resource":"` + openARN + `"}]}`
	if _, err := admin.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(openARN), Policy: aws.String(deny)}); err != nil {
		t.Fatalf("PutResourcePolicy with a deny: %v", err)
	}
	_, err = alice.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("open-orders"), PartitionKey: aws.String("k"), Data: []byte("a")})
	wantAPIError(t, "alice after the resource deny", err, "AccessDeniedException", "with an explicit deny in a resource-based policy")

	// Consumers: a policy on the consumer ARN grants bob what it names.
	reg, err := admin.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(openARN), ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	consumerARN := aws.ToString(reg.Consumer.ConsumerARN)
	_, err = bob.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(consumerARN)})
	wantAPIError(t, "bob DescribeStreamConsumer", err, "AccessDeniedException", "on resource: "+consumerARN+" because no resource-based policy allows")
	cpolicy := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/bob"},
		"Action":"kinesis:DescribeStreamConsumer","Resource":"` + consumerARN + `"}}`
	if _, err := admin.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(consumerARN), Policy: aws.String(cpolicy)}); err != nil {
		t.Fatalf("PutResourcePolicy on the consumer: %v", err)
	}
	for _, in := range []*kinesis.DescribeStreamConsumerInput{
		{ConsumerARN: aws.String(consumerARN)},
		{StreamARN: aws.String(openARN), ConsumerName: aws.String("app")},
	} {
		if out, err := bob.DescribeStreamConsumer(ctx, in); err != nil || aws.ToString(out.ConsumerDescription.ConsumerARN) != consumerARN {
			t.Fatalf("bob DescribeStreamConsumer with the consumer policy: %v %v", out, err)
		}
	}
	_, err = bob.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(consumerARN), ShardId: aws.String(shardID(0)),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}})
	wantAPIError(t, "bob SubscribeToShard", err, "AccessDeniedException", "kinesis:SubscribeToShard on resource: "+consumerARN)

	// The root of account 1 subscribes over h2c: verified like any request.
	waitConsumerActive(t, ctx, admin, consumerARN)
	out, err := admin.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(consumerARN), ShardId: aws.String(shardID(0)),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}})
	if err != nil {
		t.Fatalf("admin SubscribeToShard over h2c: %v", err)
	}
	es := out.GetStream()
	defer es.Close()
	var got []string
	for ev := range es.Events() {
		if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok {
			for _, r := range e.Value.Records {
				got = append(got, string(r.Data))
			}
		}
		if len(got) >= 4 {
			break
		}
	}
	if strings.Join(got, ",") != "a,b,from bob,from admin2" {
		t.Fatalf("subscription read %q", got)
	}
	wrong := authClient(s, "AKIDADMIN1", "nope", func(o *kinesis.Options) { o.HTTPClient = &http.Client{Transport: h2cTransport()} })
	_, err = wrong.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(consumerARN), ShardId: aws.String(shardID(0)),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}})
	wantAPIError(t, "SubscribeToShard with a wrong secret over h2c", err, "InvalidSignatureException", "The request signature we calculated does not match")

	// GetResourcePolicy returns what was stored, to its owner.
	gp, err := admin.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(consumerARN)})
	if err != nil || !json.Valid([]byte(aws.ToString(gp.Policy))) {
		t.Fatalf("GetResourcePolicy: %v %v", gp, err)
	}
}

func waitConsumerActive(t *testing.T, ctx context.Context, c *kinesis.Client, arn string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeStreamConsumer: %v", err)
		}
		if out.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer still %s", out.ConsumerDescription.ConsumerStatus)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
