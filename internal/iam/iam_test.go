package iam

import (
	"strings"
	"testing"
)

const (
	stream = "arn:aws:kinesis:us-east-1:111111111111:stream/orders"
	alice  = "arn:aws:iam::111111111111:user/alice"
	bob    = "arn:aws:iam::222222222222:user/bob"
)

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	if doc == "" {
		return nil
	}
	p, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	aliceReq := Request{PrincipalARN: alice, PrincipalAccount: "111111111111", Action: "kinesis:PutRecord",
		Resource: stream, ResourceAccount: "111111111111", Context: map[string]string{"aws:SecureTransport": "false", "aws:SourceIp": "10.1.2.3"}}
	bobReq := aliceReq
	bobReq.PrincipalARN, bobReq.PrincipalAccount = bob, "222222222222"
	allowPut := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kinesis:Put*","Resource":"arn:aws:kinesis:*:*:stream/ord?rs"}}`
	allowAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	for _, tc := range []struct {
		name               string
		req                Request
		identity, resource string
		want               string // "" for allowed, else the message's reason
	}{
		{"no policy at all", aliceReq, "", "", "because no identity-based policy allows the kinesis:PutRecord action"},
		{"root identity", func() Request { r := aliceReq; r.Root = true; return r }(), "", "", ""},
		{"identity allows with wildcards", aliceReq, allowPut, "", ""},
		{"action case-insensitive", aliceReq, strings.Replace(allowPut, "kinesis:Put*", "KINESIS:putrecord", 1), "", ""},
		{"resource case-sensitive", aliceReq, strings.Replace(allowPut, "ord?rs", "ORDERS", 1), "", "because no identity-based policy allows the kinesis:PutRecord action"},
		{"other action", func() Request { r := aliceReq; r.Action = "kinesis:GetRecords"; return r }(), allowPut, "", "because no identity-based policy allows the kinesis:GetRecords action"},
		{"identity deny wins", aliceReq, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"kinesis:PutRecord","Resource":"*"}]}`, "",
			"with an explicit deny in an identity-based policy"},
		{"resource deny wins", aliceReq, allowAll, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:*","Resource":"` + stream + `"}}`,
			"with an explicit deny in a resource-based policy"},
		{"NotAction", aliceReq, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"kinesis:Delete*","Resource":"*"}}`, "", ""},
		{"NotResource", aliceReq, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotResource":"` + stream + `"}}`, "", "because no identity-based policy allows the kinesis:PutRecord action"},
		{"same account, resource names user", aliceReq, "", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"kinesis:PutRecord","Resource":"` + stream + `"}}`, ""},
		{"same account, resource names only account", aliceReq, "", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"kinesis:PutRecord","Resource":"` + stream + `"}}`,
			"because no identity-based policy allows the kinesis:PutRecord action"},
		{"cross account without resource policy", bobReq, allowAll, "", "because no resource-based policy allows the kinesis:PutRecord action"},
		{"cross account granted to the account", bobReq, allowAll, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kinesis:PutRecord","Resource":"` + stream + `"}}`, ""},
		{"cross account needs identity too", bobReq, "", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"kinesis:PutRecord","Resource":"` + stream + `"}}`,
			"because no identity-based policy allows the kinesis:PutRecord action"},
		{"cross account, other account named", bobReq, allowAll, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"kinesis:PutRecord","Resource":"` + stream + `"}}`,
			"because no resource-based policy allows the kinesis:PutRecord action"},
		{"NotPrincipal deny", bobReq, allowAll, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":"` + alice + `"},"Action":"*","Resource":"*"}]}`,
			"with an explicit deny in a resource-based policy"},
		{"condition holds", aliceReq, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`, "", ""},
		{"condition fails", aliceReq, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}`, "",
			"because no identity-based policy allows the kinesis:PutRecord action"},
		{"deny on plain transport", aliceReq, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, "",
			"with an explicit deny in an identity-based policy"},
		{"unsupported condition never allows", aliceReq, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}}`, "",
			"because no identity-based policy allows the kinesis:PutRecord action"},
		{"unsupported condition always denies", aliceReq, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}`, "",
			"with an explicit deny in an identity-based policy"},
		{"absent key with negated operator", aliceReq, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:username":"mallory"}}}}`, "", ""},
	} {
		d := Evaluate(tc.req, mustParse(t, tc.identity), mustParse(t, tc.resource))
		if d.Allowed != (tc.want == "") || d.Reason != tc.want {
			t.Errorf("%s: got %+v, want %q", tc.name, d, tc.want)
		}
	}
}

func TestMessage(t *testing.T) {
	req := Request{PrincipalARN: alice, PrincipalAccount: "111111111111", Action: "kinesis:PutRecord", Resource: stream}
	d := Evaluate(req, nil, nil)
	want := "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: kinesis:PutRecord on resource: " +
		stream + " because no identity-based policy allows the kinesis:PutRecord action"
	if got := d.Message(req); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	req.Action, req.Resource = "kinesis:ListStreams", "*"
	want = "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: kinesis:ListStreams because no identity-based policy allows the kinesis:ListStreams action"
	if got := Evaluate(req, nil, nil).Message(req); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, doc := range []string{
		`[]`, `{"Version":"2012-10-17"}`, `{"Version":"1","Statement":[]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Principal":"me"}}`,
	} {
		if _, err := Parse(doc); err == nil {
			t.Errorf("Parse(%s) succeeded", doc)
		}
	}
}
