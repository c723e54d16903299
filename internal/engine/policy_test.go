package engine

import (
	"strings"
	"testing"
)

const policyARN = "arn:aws:kinesis:us-east-1:000000000000:stream/guarded"

// readPolicy is a valid policy letting another account read the stream.
const readPolicy = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "CrossAccountRead",
    "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "444455556666"]},
    "Action": ["kinesis:DescribeStreamSummary", "kinesis:Get*", "kinesis:ListShards"],
    "Resource": "arn:aws:kinesis:us-east-1:000000000000:stream/guarded",
    "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}
  }]
}`

func TestResourcePolicyLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, v *env) {
		create(t, v.e, "guarded", 1)
		get := func() string {
			t.Helper()
			return must[*GetResourcePolicyOutput](t)(v.e.GetResourcePolicy(ctx, &GetResourcePolicyInput{ResourceARN: policyARN})).Policy
		}
		if p := get(); p != "{}" {
			t.Fatalf("policy of a new stream: %q, want {}", p)
		}
		if err := v.e.PutResourcePolicy(ctx, &PutResourcePolicyInput{ResourceARN: policyARN, Policy: readPolicy}); err != nil {
			t.Fatal(err)
		}
		v.restart()
		if p := get(); p != readPolicy {
			t.Fatalf("policy after restart: %q", p)
		}
		if err := v.e.DeleteResourcePolicy(ctx, &DeleteResourcePolicyInput{ResourceARN: policyARN}); err != nil {
			t.Fatal(err)
		}
		// A second delete succeeds too.
		if err := v.e.DeleteResourcePolicy(ctx, &DeleteResourcePolicyInput{ResourceARN: policyARN}); err != nil {
			t.Fatal(err)
		}
		v.restart()
		if p := get(); p != "{}" {
			t.Fatalf("policy after delete and restart: %q", p)
		}
		err := v.e.PutResourcePolicy(ctx, &PutResourcePolicyInput{ResourceARN: "arn:aws:kinesis:us-east-1:000000000000:stream/nope", Policy: readPolicy})
		wantKind(t, err, KindResourceNotFound, "Stream nope under account 000000000000 not found.")
		_, err = v.e.GetResourcePolicy(ctx, &GetResourcePolicyInput{ResourceARN: policyARN + "/consumer/app:1"})
		wantKind(t, err, KindResourceNotFound, "Consumer app")
	})
}

func TestCheckPolicy(t *testing.T) {
	ok := []string{
		readPolicy,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:*","Resource":"*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},` +
			`"Action":"KINESIS:putrecord?","Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"*"},"NotAction":"kinesis:Delete*",` +
			`"NotResource":"arn:aws:kinesis:*:*:stream/guard?d"}]}`,
	}
	for _, p := range ok {
		if err := checkPolicy(p, policyARN); err != nil {
			t.Errorf("valid policy refused: %v\n%s", err, p)
		}
	}
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	const base = `"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kinesis:GetRecords","Resource":"` + policyARN + `"`
	bad := []struct{ doc, msg string }{
		{`not json`, "not a JSON object"},
		{`[]`, "not a JSON object"},
		{`{"Version":"2012-10-17","Statement":[]}{}`, "unexpected content"},
		{`{"Statement":[{` + base + `}]}`, "missing required field Version"},
		{`{"Version":"2020-01-01","Statement":[{` + base + `}]}`, "Version must be"},
		{`{"Version":"2012-10-17"}`, "missing required field Statement"},
		{`{"Version":"2012-10-17","Statement":[]}`, "Statement must not be empty"},
		{`{"Version":"2012-10-17","Statement":"x"}`, "Statement must be an object"},
		{`{"Version":"2012-10-17","Statement":[{` + base + `}],"Extra":1}`, "unknown field Extra"},
		{stmt(`{` + strings.Replace(base, `"Allow"`, `"Maybe"`, 1) + `}`), `Statement[0]: Effect must be "Allow" or "Deny"`},
		{stmt(`{` + base + `,"Bogus":1}`), "unknown field Bogus"},
		{stmt(`{"Effect":"Allow","Action":"kinesis:GetRecords","Resource":"*"}`), "missing required field Principal"},
		{stmt(`{` + base + `,"NotPrincipal":"*"}`), "Principal and NotPrincipal cannot both be given"},
		{stmt(`{"Effect":"Allow","Principal":"someone","Action":"kinesis:GetRecords","Resource":"*"}`), "invalid principal"},
		{stmt(`{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"kinesis:GetRecords","Resource":"*"}`), "invalid principal type Robot"},
		{stmt(`{"Effect":"Allow","Principal":{"AWS":"not-an-arn"},"Action":"kinesis:GetRecords","Resource":"*"}`), "invalid principal in Principal: not-an-arn"},
		{stmt(`{"Effect":"Allow","Principal":"*","Resource":"*"}`), "missing required field Action"},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), "invalid action s3:GetObject"},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"kinesis:Fly","Resource":"*"}`), "invalid action kinesis:Fly"},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}`), "Action must be a string or a non-empty list"},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"kinesis:GetRecords"}`), "missing required field Resource"},
		{stmt(`{"Effect":"Allow","Principal":"*","Action":"kinesis:GetRecords","Resource":"arn:aws:kinesis:us-east-1:000000000000:stream/other"}`),
			"resource arn:aws:kinesis:us-east-1:000000000000:stream/other must be the ARN of the resource"},
		{stmt(`{"Sid":"a",` + base + `},{"Sid":"a",` + base + `}`), "Statement[1]: duplicate Sid a"},
		{stmt(`{` + base + `,"Condition":"x"}`), "Condition must map operators"},
	}
	for _, b := range bad {
		err := checkPolicy(b.doc, policyARN)
		if err == nil {
			t.Errorf("invalid policy accepted: %s", b.doc)
			continue
		}
		if KindOf(err) != KindInvalidArgument || !strings.Contains(err.Error(), b.msg) || !strings.HasPrefix(err.Error(), "Invalid policy document: ") {
			t.Errorf("policy %s: got %v (kind %d), want InvalidArgument containing %q", b.doc, err, KindOf(err), b.msg)
		}
	}
	big := stmt(`{"Sid":"` + strings.Repeat("x", MaxPolicyBytes) + `",` + base + `}`)
	if err := checkPolicy(big, policyARN); KindOf(err) != KindLimitExceeded {
		t.Errorf("oversized policy: %v", err)
	}
}
