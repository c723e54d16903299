package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Resource policies are IAM policy documents attached to a stream (and, once
// consumers exist, to a consumer). They are validated when put and stored as
// given; enforcing them on each request comes with authentication.

// MaxPolicyBytes bounds a resource policy document, as IAM bounds resource
// policies of other services.
const MaxPolicyBytes = 20 << 10

// emptyPolicy is what GetResourcePolicy returns for a resource without a
// policy: the Policy member is required in the response.
const emptyPolicy = "{}"

// PutResourcePolicyInput is the input of PutResourcePolicy.
type PutResourcePolicyInput struct {
	ResourceARN string
	Policy      string
}

// GetResourcePolicyInput is the input of GetResourcePolicy.
type GetResourcePolicyInput struct {
	ResourceARN string
}

// GetResourcePolicyOutput is the output of GetResourcePolicy.
type GetResourcePolicyOutput struct {
	Policy string
}

// DeleteResourcePolicyInput is the input of DeleteResourcePolicy.
type DeleteResourcePolicyInput struct {
	ResourceARN string
}

// PutResourcePolicy attaches a policy to the stream or consumer an ARN
// names, replacing any policy it had.
func (e *Engine) PutResourcePolicy(ctx context.Context, in *PutResourcePolicyInput) error {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.resolveResource(c, in.ResourceARN)
	if err != nil {
		return err
	}
	if err := r.changeable(); err != nil {
		return err
	}
	if err := checkPolicy(in.Policy, in.ResourceARN); err != nil {
		return err
	}
	*r.policy = in.Policy
	return e.saveLocked()
}

// GetResourcePolicy returns the policy of the stream or consumer an ARN
// names, "{}" if it has none.
func (e *Engine) GetResourcePolicy(ctx context.Context, in *GetResourcePolicyInput) (*GetResourcePolicyOutput, error) {
	c := e.caller(ctx)
	e.mu.RLock()
	defer e.mu.RUnlock()
	r, err := e.resolveResource(c, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if *r.policy == "" {
		return &GetResourcePolicyOutput{Policy: emptyPolicy}, nil
	}
	return &GetResourcePolicyOutput{Policy: *r.policy}, nil
}

// DeleteResourcePolicy removes the policy of the stream or consumer an ARN
// names. Deleting a policy that is not there succeeds, so that retries do.
func (e *Engine) DeleteResourcePolicy(ctx context.Context, in *DeleteResourcePolicyInput) error {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.resolveResource(c, in.ResourceARN)
	if err != nil {
		return err
	}
	if err := r.changeable(); err != nil {
		return err
	}
	if *r.policy == "" {
		return nil
	}
	*r.policy = ""
	return e.saveLocked()
}

// kinesisActions are the actions of the kinesis: namespace, by the name IAM
// knows them by (the operation names).
var kinesisActions = []string{
	"AddTagsToStream", "CreateStream", "DecreaseStreamRetentionPeriod", "DeleteResourcePolicy", "DeleteStream",
	"DeregisterStreamConsumer", "DescribeAccountSettings", "DescribeLimits", "DescribeStream",
	"DescribeStreamConsumer", "DescribeStreamSummary", "DisableEnhancedMonitoring", "EnableEnhancedMonitoring",
	"GetRecords", "GetResourcePolicy", "GetShardIterator", "IncreaseStreamRetentionPeriod", "ListShards",
	"ListStreamConsumers", "ListStreams", "ListTagsForResource", "ListTagsForStream", "MergeShards", "PutRecord",
	"PutRecords", "PutResourcePolicy", "RegisterStreamConsumer", "RemoveTagsFromStream", "SplitShard",
	"StartStreamEncryption", "StopStreamEncryption", "SubscribeToShard", "TagResource", "UntagResource",
	"UpdateAccountSettings", "UpdateMaxRecordSize", "UpdateShardCount", "UpdateStreamMode",
	"UpdateStreamWarmThroughput",
}

// policyVersions are the policy language versions IAM accepts.
var policyVersions = map[string]bool{"2012-10-17": true, "2008-10-17": true}

// policyStatementKeys are the members a statement may have.
var policyStatementKeys = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true, "Action": true, "NotAction": true,
	"Resource": true, "NotResource": true, "Condition": true,
}

// principalKeys are the kinds of principal a policy may name.
var principalKeys = map[string]bool{"AWS": true, "Service": true, "Federated": true, "CanonicalUser": true}

func errPolicy(format string, args ...any) error {
	return errorf(KindInvalidArgument, "Invalid policy document: "+format, args...)
}

// checkPolicy validates a resource policy document for the resource arn: a
// JSON object with Version and a Statement (one or a list), each statement
// with Effect Allow or Deny, a Principal, kinesis actions and resources that
// are this resource (wildcards allowed). The errors name the first problem.
func checkPolicy(doc, arn string) error {
	if len(doc) > MaxPolicyBytes {
		return errorf(KindLimitExceeded, "Policy size %d bytes exceeds the limit of %d bytes.", len(doc), MaxPolicyBytes)
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil || top == nil {
		return errPolicy("the policy is not a JSON object.")
	}
	if dec.More() {
		return errPolicy("unexpected content after the JSON object.")
	}
	for k := range top {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return errPolicy("unknown field %s.", k)
		}
	}
	var version string
	if raw, ok := top["Version"]; !ok {
		return errPolicy("missing required field Version.")
	} else if json.Unmarshal(raw, &version) != nil || !policyVersions[version] {
		return errPolicy("Version must be \"2012-10-17\" or \"2008-10-17\".")
	}
	raw, ok := top["Statement"]
	if !ok {
		return errPolicy("missing required field Statement.")
	}
	var stmts []map[string]json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if json.Unmarshal(raw, &stmts) != nil {
			return errPolicy("Statement must be an object or a list of objects.")
		}
	} else {
		var one map[string]json.RawMessage
		if json.Unmarshal(raw, &one) != nil || one == nil {
			return errPolicy("Statement must be an object or a list of objects.")
		}
		stmts = append(stmts, one)
	}
	if len(stmts) == 0 {
		return errPolicy("Statement must not be empty.")
	}
	sids := make(map[string]bool)
	for i, st := range stmts {
		if err := checkStatement(st, arn, sids); err != nil {
			return errPolicy("Statement[%d]: %s", i, err.Error())
		}
	}
	return nil
}

// checkStatement validates one statement; its errors are completed by
// checkPolicy with the statement's position.
func checkStatement(st map[string]json.RawMessage, arn string, sids map[string]bool) error {
	if st == nil {
		return fmt.Errorf("a statement must be an object.")
	}
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !policyStatementKeys[k] {
			return fmt.Errorf("unknown field %s.", k)
		}
	}
	if raw, ok := st["Sid"]; ok {
		var sid string
		if json.Unmarshal(raw, &sid) != nil {
			return fmt.Errorf("Sid must be a string.")
		}
		if sid != "" && sids[sid] {
			return fmt.Errorf("duplicate Sid %s; statement ids must be unique.", sid)
		}
		sids[sid] = true
	}
	var effect string
	if json.Unmarshal(st["Effect"], &effect) != nil || (effect != "Allow" && effect != "Deny") {
		return fmt.Errorf("Effect must be \"Allow\" or \"Deny\".")
	}
	if err := onlyOne(st, "Principal", "NotPrincipal"); err != nil {
		return err
	}
	for _, k := range []string{"Principal", "NotPrincipal"} {
		if raw, ok := st[k]; ok {
			if err := checkPrincipal(k, raw); err != nil {
				return err
			}
		}
	}
	if err := onlyOne(st, "Action", "NotAction"); err != nil {
		return err
	}
	for _, k := range []string{"Action", "NotAction"} {
		if raw, ok := st[k]; ok {
			actions, err := stringList(k, raw)
			if err != nil {
				return err
			}
			for _, a := range actions {
				if !validAction(a) {
					return fmt.Errorf("invalid action %s: actions must be kinesis:<Operation>, with * and ? as wildcards.", a)
				}
			}
		}
	}
	if err := onlyOne(st, "Resource", "NotResource"); err != nil {
		return err
	}
	for _, k := range []string{"Resource", "NotResource"} {
		if raw, ok := st[k]; ok {
			resources, err := stringList(k, raw)
			if err != nil {
				return err
			}
			for _, res := range resources {
				if !resourceMatches(res, arn) {
					return fmt.Errorf("resource %s must be the ARN of the resource the policy is attached to, %s.", res, arn)
				}
			}
		}
	}
	if raw, ok := st["Condition"]; ok {
		var cond map[string]map[string]json.RawMessage
		if json.Unmarshal(raw, &cond) != nil || cond == nil {
			return fmt.Errorf("Condition must map operators to objects of condition keys.")
		}
	}
	return nil
}

// onlyOne requires exactly one of a statement's paired fields.
func onlyOne(st map[string]json.RawMessage, field, notField string) error {
	_, a := st[field]
	_, b := st[notField]
	switch {
	case !a && !b:
		return fmt.Errorf("missing required field %s.", field)
	case a && b:
		return fmt.Errorf("%s and %s cannot both be given.", field, notField)
	}
	return nil
}

// stringList decodes a policy member that is a string or a non-empty list of
// strings.
func stringList(field string, raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return nil, fmt.Errorf("%s must be a string or a non-empty list of strings.", field)
	}
	return list, nil
}

// checkPrincipal validates a Principal: "*" or an object of principal kinds
// to one or more non-empty identifiers.
func checkPrincipal(field string, raw json.RawMessage) error {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return fmt.Errorf("invalid principal %q: use \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}.", star)
		}
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return fmt.Errorf("%s must be \"*\" or an object of principals.", field)
	}
	kinds := make([]string, 0, len(m))
	for k := range m {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		if !principalKeys[k] {
			return fmt.Errorf("invalid principal type %s in %s.", k, field)
		}
		ids, err := stringList(field+"."+k, m[k])
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id == "" {
				return fmt.Errorf("invalid principal in %s: an empty %s principal.", field, k)
			}
			if k == "AWS" && !validAWSPrincipal(id) {
				return fmt.Errorf("invalid principal in %s: %s.", field, id)
			}
		}
	}
	return nil
}

// validAWSPrincipal reports whether id is "*", a 12-digit account id or an
// IAM/STS ARN.
func validAWSPrincipal(id string) bool {
	if id == "*" || isAccountID(id) {
		return true
	}
	parts := strings.SplitN(id, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && strings.HasPrefix(parts[1], "aws") &&
		(parts[2] == "iam" || parts[2] == "sts") && (parts[4] == "" || isAccountID(parts[4])) && parts[5] != ""
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validAction reports whether a is "*" or kinesis:<pattern> whose pattern
// matches at least one Kinesis action. IAM compares actions without regard
// to case.
func validAction(a string) bool {
	if a == "*" {
		return true
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || !strings.EqualFold(svc, "kinesis") || name == "" {
		return false
	}
	pattern := strings.ToLower(name)
	for _, act := range kinesisActions {
		if wildMatch(pattern, strings.ToLower(act)) {
			return true
		}
	}
	return false
}

// resourceMatches reports whether a policy's resource entry covers the
// resource arn: "*", the ARN itself, or an ARN pattern matching it.
func resourceMatches(res, arn string) bool {
	return res == "*" || wildMatch(res, arn)
}

// wildMatch matches s against an IAM pattern, where * is any run of
// characters and ? any one character. path.Match has those meanings except
// that its wildcards stop at '/', so '/' is swapped for a byte that cannot
// occur in an ARN, and the characters path.Match treats specially are
// escaped.
func wildMatch(pattern, s string) bool {
	const sep = "\x00"
	p := strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "/", sep).Replace(pattern)
	ok, err := path.Match(p, strings.ReplaceAll(s, "/", sep))
	return err == nil && ok
}
