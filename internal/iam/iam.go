// Package iam evaluates IAM policy documents the way AWS does for a single
// request: identity-based policies (attached to an access key in the
// credentials file) and resource-based policies (attached to a stream or a
// consumer with PutResourcePolicy).
//
// The rules, from IAM's policy evaluation logic, without the parts Riffle has
// no counterpart for (SCPs, permission boundaries, session policies):
//
//   - An explicit Deny in any applicable policy wins.
//   - Within one account, an Allow in the identity policy, or in the
//     resource policy naming the caller (its user ARN, or "*"), allows.
//     A resource policy naming only the account delegates to the account's
//     identity policies, so it does not allow on its own.
//   - Across accounts, both sides must allow: the caller's identity policy,
//     and the resource policy naming the caller or its account.
//   - Otherwise the request is implicitly denied.
//
// Actions match case-insensitively, resources case-sensitively; both with *
// (any run of characters) and ? (one character). NotAction, NotResource and
// NotPrincipal invert their match. Conditions support the common string, ARN,
// Bool, IP address and Null operators (with IfExists); a condition this
// package cannot evaluate never makes an Allow apply, and always makes a Deny
// apply, so that an unsupported policy fails closed.
package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path"
	"sort"
	"strings"
)

// Policy is a parsed policy document.
type Policy struct {
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect string // "Allow" or "Deny"
	// Principal and NotPrincipal are nil when absent (identity policies).
	Principal, NotPrincipal *Principals
	Action, NotAction       []string
	Resource, NotResource   []string
	Condition               map[string]map[string][]string // operator → key → values
}

// Principals is the principal element of a statement.
type Principals struct {
	Any bool     // "*" or {"AWS": "*"}
	AWS []string // account ids and IAM ARNs
}

// Parse parses a policy document: Version, and a Statement that is one
// object or a list of them.
func Parse(doc string) (*Policy, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var top struct {
		Version   string
		Statement json.RawMessage
	}
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("policy is not a JSON object: %w", err)
	}
	if top.Version != "2012-10-17" && top.Version != "2008-10-17" {
		return nil, fmt.Errorf("policy Version must be \"2012-10-17\" or \"2008-10-17\", not %q", top.Version)
	}
	var raws []json.RawMessage
	if trimmed := bytes.TrimSpace(top.Statement); bytes.HasPrefix(trimmed, []byte("[")) {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
	} else if len(trimmed) > 0 {
		raws = []json.RawMessage{trimmed}
	}
	if len(raws) == 0 {
		return nil, errors.New("policy has no Statement")
	}
	p := &Policy{}
	for i, raw := range raws {
		st, err := parseStatement(raw)
		if err != nil {
			return nil, fmt.Errorf("policy Statement[%d]: %w", i, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage) (Statement, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return Statement{}, errors.New("a statement must be an object")
	}
	var st Statement
	json.Unmarshal(m["Sid"], &st.Sid)
	if json.Unmarshal(m["Effect"], &st.Effect) != nil || (st.Effect != "Allow" && st.Effect != "Deny") {
		return st, errors.New("Effect must be \"Allow\" or \"Deny\"")
	}
	var err error
	if st.Action, err = strings1(m, "Action"); err != nil {
		return st, err
	}
	if st.NotAction, err = strings1(m, "NotAction"); err != nil {
		return st, err
	}
	if (st.Action == nil) == (st.NotAction == nil) {
		return st, errors.New("exactly one of Action and NotAction is required")
	}
	if st.Resource, err = strings1(m, "Resource"); err != nil {
		return st, err
	}
	if st.NotResource, err = strings1(m, "NotResource"); err != nil {
		return st, err
	}
	if (st.Resource == nil) == (st.NotResource == nil) {
		return st, errors.New("exactly one of Resource and NotResource is required")
	}
	if st.Principal, err = principals(m["Principal"]); err != nil {
		return st, err
	}
	if st.NotPrincipal, err = principals(m["NotPrincipal"]); err != nil {
		return st, err
	}
	if raw, ok := m["Condition"]; ok {
		var cond map[string]map[string]json.RawMessage
		if err := json.Unmarshal(raw, &cond); err != nil {
			return st, errors.New("Condition must map operators to objects of condition keys")
		}
		st.Condition = map[string]map[string][]string{}
		for op, keys := range cond {
			st.Condition[op] = map[string][]string{}
			for k, v := range keys {
				vals, err := scalars(v)
				if err != nil {
					return st, fmt.Errorf("Condition %s %s: %w", op, k, err)
				}
				st.Condition[op][k] = vals
			}
		}
	}
	return st, nil
}

// strings1 decodes a member that is a string or a list of strings; nil if
// absent.
func strings1(m map[string]json.RawMessage, key string) ([]string, error) {
	raw, ok := m[key]
	if !ok {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return nil, fmt.Errorf("%s must be a string or a non-empty list of strings", key)
	}
	return list, nil
}

// scalars decodes a condition value: a string, number or boolean, or a list
// of them, as strings.
func scalars(raw json.RawMessage) ([]string, error) {
	var list []any
	if json.Unmarshal(raw, &list) != nil {
		var one any
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		list = []any{one}
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case bool, float64:
			out = append(out, fmt.Sprint(v))
		default:
			return nil, errors.New("condition values must be strings, numbers or booleans")
		}
	}
	return out, nil
}

func principals(raw json.RawMessage) (*Principals, error) {
	if raw == nil {
		return nil, nil
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, fmt.Errorf("invalid principal %q", star)
		}
		return &Principals{Any: true}, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, errors.New("Principal must be \"*\" or an object")
	}
	p := &Principals{}
	for kind, v := range m {
		ids, err := strings1(map[string]json.RawMessage{kind: v}, kind)
		if err != nil {
			return nil, err
		}
		if kind != "AWS" {
			continue // service and federated principals never sign requests here
		}
		for _, id := range ids {
			if id == "*" {
				p.Any = true
			} else {
				p.AWS = append(p.AWS, id)
			}
		}
	}
	return p, nil
}

// Request is one authorization question.
type Request struct {
	// PrincipalARN is the caller: arn:aws:iam::<account>:user/<name>, or
	// arn:aws:iam::<account>:root for an account's root identity.
	PrincipalARN     string
	PrincipalAccount string
	// Root callers have no identity policy: like an account's root user,
	// their own account allows them everything.
	Root bool
	// Action is service:Operation, e.g. kinesis:PutRecord.
	Action string
	// Resource is the ARN acted on, or "*" for actions without resources.
	Resource string
	// ResourceAccount owns Resource; empty means the caller's account.
	ResourceAccount string
	// Context holds the request's condition keys (aws:SourceIp, ...).
	Context map[string]string
}

// Decision is the outcome of an evaluation.
type Decision struct {
	Allowed bool
	// Reason completes AWS's AccessDeniedException message when denied:
	// "with an explicit deny in an identity-based policy", "because no
	// resource-based policy allows the kinesis:X action", ...
	Reason string
}

// Message is AWS's AccessDeniedException message for a denied request.
func (d Decision) Message(req Request) string {
	on := ""
	if req.Resource != "*" && req.Resource != "" {
		on = " on resource: " + req.Resource
	}
	return "User: " + req.PrincipalARN + " is not authorized to perform: " + req.Action + on + " " + d.Reason
}

// Evaluate decides req against the caller's identity policy (nil: none) and
// the resource's policy (nil: none).
func Evaluate(req Request, identity, resource *Policy) Decision {
	idDeny, idAllow := evaluate(req, identity, false)
	resDeny, resAllow := evaluate(req, resource, true)
	switch {
	case idDeny:
		return Decision{Reason: "with an explicit deny in an identity-based policy"}
	case resDeny:
		return Decision{Reason: "with an explicit deny in a resource-based policy"}
	}
	idAllowed := req.Root || idAllow
	noIdentity := Decision{Reason: "because no identity-based policy allows the " + req.Action + " action"}
	if req.ResourceAccount == "" || req.ResourceAccount == req.PrincipalAccount {
		if idAllowed || (resAllow && resourceNamesCaller(req, resource)) {
			return Decision{Allowed: true}
		}
		return noIdentity
	}
	if !resAllow {
		return Decision{Reason: "because no resource-based policy allows the " + req.Action + " action"}
	}
	if !idAllowed {
		return noIdentity
	}
	return Decision{Allowed: true}
}

// evaluate reports whether any statement of p denies, and whether any
// allows, req. Resource policies' statements apply only to the principals
// they name.
func evaluate(req Request, p *Policy, isResource bool) (deny, allow bool) {
	if p == nil {
		return false, false
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		if isResource && !principalApplies(st, req) {
			continue
		}
		if !actionApplies(st, req.Action) || !resourceApplies(st, req.Resource) {
			continue
		}
		if st.Effect == "Deny" {
			if conditionsHold(st.Condition, req.Context, true) {
				deny = true
			}
		} else if conditionsHold(st.Condition, req.Context, false) {
			allow = true
		}
	}
	return deny, allow
}

// resourceNamesCaller reports whether an allowing statement of a same-account
// resource policy names the caller itself (its ARN or "*"), which allows
// without an identity policy; naming only the account does not.
func resourceNamesCaller(req Request, p *Policy) bool {
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect != "Allow" || st.Principal == nil || !actionApplies(st, req.Action) ||
			!resourceApplies(st, req.Resource) || !conditionsHold(st.Condition, req.Context, false) {
			continue
		}
		if st.Principal.Any {
			return true
		}
		for _, id := range st.Principal.AWS {
			if id == req.PrincipalARN {
				return true
			}
		}
	}
	return false
}

func principalApplies(st *Statement, req Request) bool {
	switch {
	case st.Principal != nil:
		return st.Principal.matches(req)
	case st.NotPrincipal != nil:
		return !st.NotPrincipal.matches(req)
	}
	return false // a resource policy statement without a principal applies to no one
}

func (p *Principals) matches(req Request) bool {
	if p.Any {
		return true
	}
	for _, id := range p.AWS {
		if id == req.PrincipalARN || id == req.PrincipalAccount || id == "arn:aws:iam::"+req.PrincipalAccount+":root" {
			return true
		}
	}
	return false
}

func actionApplies(st *Statement, action string) bool {
	if st.Action != nil {
		return anyMatch(st.Action, action, true)
	}
	return !anyMatch(st.NotAction, action, true)
}

func resourceApplies(st *Statement, resource string) bool {
	if st.Resource != nil {
		return anyMatch(st.Resource, resource, false)
	}
	return !anyMatch(st.NotResource, resource, false)
}

func anyMatch(patterns []string, s string, foldCase bool) bool {
	for _, p := range patterns {
		if foldCase {
			if Match(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if Match(p, s) {
			return true
		}
	}
	return false
}

// Match matches s against an IAM pattern, where * is any run of characters
// (including none, and across '/' and ':') and ? is any one character.
func Match(pattern, s string) bool {
	// path.Match has these meanings except that its wildcards stop at '/':
	// swap '/' for a byte no ARN holds, and escape its other specials.
	const sep = "\x00"
	p := strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "/", sep).Replace(pattern)
	ok, err := path.Match(p, strings.ReplaceAll(s, "/", sep))
	return err == nil && ok
}

// conditionsHold reports whether every condition of a statement holds. A
// condition that cannot be evaluated holds for a Deny and fails for an
// Allow (forDeny), so that it never grants more than written.
func conditionsHold(cond map[string]map[string][]string, ctx map[string]string, forDeny bool) bool {
	ops := make([]string, 0, len(cond))
	for op := range cond {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		for key, vals := range cond[op] {
			v, present := ctx[lowerKey(ctx, key)]
			ok, supported := evalCondition(op, v, present, vals)
			if !supported {
				ok = forDeny
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// lowerKey finds a context key case-insensitively, as IAM compares
// condition key names.
func lowerKey(ctx map[string]string, key string) string {
	for k := range ctx {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}

// evalCondition evaluates one operator on one key: v (present or not)
// against the policy's values.
func evalCondition(op, v string, present bool, vals []string) (ok, supported bool) {
	if op == "Null" {
		if len(vals) != 1 {
			return false, false
		}
		return (vals[0] == "true") == !present, true
	}
	base, ifExists := strings.CutSuffix(op, "IfExists")
	negated := strings.Contains(base, "Not")
	var match func(pattern, v string) bool
	switch base {
	case "StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals":
		match = func(p, v string) bool { return p == v }
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "StringNotLike", "ArnLike", "ArnNotLike":
		match = Match
	case "Bool":
		match = strings.EqualFold
	case "IpAddress", "NotIpAddress":
		match = ipMatch
	default:
		return false, false
	}
	if !present {
		// IAM: a missing key fails positive operators and satisfies
		// negated ones; IfExists makes it satisfy any.
		return ifExists || negated, true
	}
	any := false
	for _, p := range vals {
		if match(p, v) {
			any = true
			break
		}
	}
	return any != negated, true
}

func ipMatch(cidr, ip string) bool {
	addr := net.ParseIP(ip)
	if addr == nil {
		return false
	}
	if !strings.Contains(cidr, "/") {
		return addr.Equal(net.ParseIP(cidr))
	}
	_, n, err := net.ParseCIDR(cidr)
	return err == nil && n.Contains(addr)
}
