package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/riffle-streams/riffle/internal/engine"
	"github.com/riffle-streams/riffle/internal/iam"
	"github.com/riffle-streams/riffle/internal/sigv4"
)

// Authentication and authorization (`--auth sigv4 --credentials FILE`).
//
// Every request's SigV4 signature is verified against the secret of its
// access key; the key's account_id is the account the request acts in, and
// the credential scope's region its region. The request is then authorized
// with IAM's rules (package iam) against the key's identity policy and the
// resource policy of the stream or consumer it names. A key without a policy
// acts as its account's root user: everything in its own account, and what
// other accounts' resource policies grant it.
//
// Without --auth (the development default) any signature is accepted and
// the account comes from a 12-digit access key id (see callerOf).

// Credential is one entry of the credentials file.
type Credential struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	AccountID       string `json:"account_id"`
	// User names the IAM user in ARNs and AccessDeniedException messages
	// (arn:aws:iam::<account>:user/<user>); the access key id if empty.
	User string `json:"user,omitempty"`
	// Policy is an IAM identity policy document; without one the key acts
	// as the account's root user.
	Policy json.RawMessage `json:"policy,omitempty"`
}

// credentialsFile is the JSON layout of --credentials.
type credentialsFile struct {
	Credentials []Credential `json:"credentials"`
}

// Auth authenticates and authorizes requests. It is safe for concurrent
// use and immutable once built.
type Auth struct {
	keys     map[string]*principal
	verifier sigv4.Verifier
}

// principal is the identity behind an access key.
type principal struct {
	accessKeyID string
	secret      string
	account     string
	user        string // empty for a root identity
	arn         string
	policy      *iam.Policy // nil for a root identity
}

var (
	accessKeyRE = regexp.MustCompile(`^[A-Za-z0-9_+=.@-]{1,128}$`)
	userNameRE  = regexp.MustCompile(`^[A-Za-z0-9_+=,.@-]{1,64}$`)
)

// LoadCredentials reads a credentials file and returns the Auth it
// configures. Errors name the entry at fault but never a secret.
func LoadCredentials(path string) (*Auth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	var f credentialsFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		// json's messages quote offsets and field names, not values.
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	a, err := NewAuth(f.Credentials)
	if err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return a, nil
}

// NewAuth returns an Auth for the given credentials, reporting every
// problem at once.
func NewAuth(creds []Credential) (*Auth, error) {
	a := &Auth{keys: make(map[string]*principal, len(creds))}
	var errs []error
	bad := func(i int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("credentials[%d]: "+format, append([]any{i}, args...)...))
	}
	if len(creds) == 0 {
		errs = append(errs, errors.New("no credentials: the file must list at least one access key"))
	}
	for i, c := range creds {
		if !accessKeyRE.MatchString(c.AccessKeyID) {
			bad(i, "access_key_id %q: 1 to 128 letters, digits or _+=.@-", c.AccessKeyID)
			continue
		}
		if _, dup := a.keys[c.AccessKeyID]; dup {
			bad(i, "access_key_id %s appears twice", c.AccessKeyID)
		}
		if c.SecretAccessKey == "" {
			bad(i, "access key %s has no secret_access_key", c.AccessKeyID)
		}
		if !accountKeyRE.MatchString(c.AccountID) {
			bad(i, "access key %s: account_id %q must be 12 digits", c.AccessKeyID, c.AccountID)
		}
		p := &principal{accessKeyID: c.AccessKeyID, secret: c.SecretAccessKey, account: c.AccountID}
		if len(c.Policy) > 0 && string(c.Policy) != "null" {
			pol, err := iam.Parse(string(c.Policy))
			if err != nil {
				bad(i, "access key %s: %v", c.AccessKeyID, err)
			} else if err := identityOnly(pol); err != nil {
				bad(i, "access key %s: %v", c.AccessKeyID, err)
			}
			p.policy = pol
			p.user = c.User
			if p.user == "" {
				p.user = c.AccessKeyID
			}
			if !userNameRE.MatchString(p.user) {
				bad(i, "access key %s: user %q: 1 to 64 letters, digits or _+=,.@-", c.AccessKeyID, p.user)
			}
			p.arn = "arn:aws:iam::" + c.AccountID + ":user/" + p.user
		} else {
			if c.User != "" {
				bad(i, "access key %s: user %q needs a policy (a key without one is its account's root user)", c.AccessKeyID, c.User)
			}
			p.arn = "arn:aws:iam::" + c.AccountID + ":root"
		}
		a.keys[c.AccessKeyID] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	a.verifier = sigv4.Verifier{
		Service: "kinesis",
		Secret: func(id string) (string, bool) {
			p, ok := a.keys[id]
			if !ok {
				return "", false
			}
			return p.secret, true
		},
	}
	return a, nil
}

// identityOnly rejects Principal in an identity policy, as IAM does.
func identityOnly(p *iam.Policy) error {
	for i, st := range p.Statements {
		if st.Principal != nil || st.NotPrincipal != nil {
			return fmt.Errorf("policy Statement[%d]: an identity policy cannot name a Principal", i)
		}
	}
	return nil
}

// authState is what authentication and authorization learned about a
// request, carried in its context.
type authState struct {
	p          *principal
	region     string
	authorized bool // every resource the request names was authorized
}

type authKey struct{}

func authOf(ctx context.Context) *authState {
	s, _ := ctx.Value(authKey{}).(*authState)
	return s
}

// authenticate verifies the signature of r (whose body is body) and returns
// r with the principal in its context.
func (a *Auth) authenticate(r *http.Request, body []byte) (*http.Request, *apiError) {
	sig, err := a.verifier.Verify(r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return nil, &apiError{Type: se.Code, Status: http.StatusBadRequest, Message: se.Message}
		}
		return nil, errInternal
	}
	st := &authState{p: a.keys[sig.AccessKeyID], region: sig.Region}
	return r.WithContext(context.WithValue(r.Context(), authKey{}, st)), nil
}

// authorize decides whether the authenticated caller of r may run op with
// the (validated) request req, and returns r marked as authorized.
func (h *Handler) authorize(r *http.Request, op string, req map[string]any) (*http.Request, *apiError) {
	st := authOf(r.Context())
	if st == nil {
		return r, nil // development mode: no authorization
	}
	resource := h.resourceOf(st, op, req)
	areq := iam.Request{
		PrincipalARN:     st.p.arn,
		PrincipalAccount: st.p.account,
		Root:             st.p.policy == nil,
		Action:           "kinesis:" + op,
		Resource:         resource,
		Context:          conditionContext(r, st),
	}
	var resPolicy *iam.Policy
	if resource != "*" {
		if parts := strings.SplitN(resource, ":", 6); len(parts) == 6 {
			areq.ResourceAccount = parts[4]
		}
		if doc, ok := h.eng.ResourcePolicy(resource); ok && doc != "" {
			p, err := iam.Parse(doc)
			if err != nil {
				// PutResourcePolicy validated it; a policy that no longer
				// parses grants nothing.
				h.opts.Logger.Error("unreadable resource policy", "resource", resource, "err", err)
			}
			resPolicy = p
		}
	}
	if d := iam.Evaluate(areq, st.p.policy, resPolicy); !d.Allowed {
		return nil, &apiError{Type: "AccessDeniedException", Status: http.StatusBadRequest, Message: d.Message(areq)}
	}
	done := *st
	done.authorized = true
	return r.WithContext(context.WithValue(r.Context(), authKey{}, &done)), nil
}

// conditionContext is the request's IAM condition keys.
func conditionContext(r *http.Request, st *authState) map[string]string {
	ctx := map[string]string{
		"aws:SecureTransport":  fmt.Sprint(r.TLS != nil),
		"aws:PrincipalAccount": st.p.account,
		"aws:PrincipalArn":     st.p.arn,
		"aws:RequestedRegion":  st.region,
	}
	if st.p.user != "" {
		ctx["aws:username"] = st.p.user
		ctx["aws:PrincipalType"] = "User"
	} else {
		ctx["aws:PrincipalType"] = "Account"
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ctx["aws:SourceIp"] = host
	}
	return ctx
}

// accountWide are the operations that act on no particular resource, which
// IAM authorizes on "*".
var accountWide = map[string]bool{
	"ListStreams": true, "DescribeLimits": true, "DescribeAccountSettings": true, "UpdateAccountSettings": true,
}

// resourceOf is the ARN an operation acts on, as IAM authorizes it: the
// stream, the consumer, or "*". A request naming nothing usable is
// authorized on "*" (only a policy allowing every resource lets it reach
// the engine, which then rejects it).
func (h *Handler) resourceOf(st *authState, op string, req map[string]any) string {
	str := func(k string) string { s, _ := req[k].(string); return s }
	streamARN := func() string {
		if arn := str("StreamARN"); arn != "" {
			return arn
		}
		if name := str("StreamName"); name != "" {
			return "arn:aws:kinesis:" + st.region + ":" + st.p.account + ":stream/" + name
		}
		return ""
	}
	orStar := func(s string) string {
		if s == "" {
			return "*"
		}
		return s
	}
	switch {
	case accountWide[op]:
		return "*"
	case op == "TagResource" || op == "UntagResource" || op == "ListTagsForResource" ||
		op == "PutResourcePolicy" || op == "GetResourcePolicy" || op == "DeleteResourcePolicy":
		return orStar(str("ResourceARN"))
	case op == "DescribeStreamConsumer" || op == "DeregisterStreamConsumer" || op == "SubscribeToShard":
		if arn := str("ConsumerARN"); arn != "" {
			return arn
		}
		s, name := str("StreamARN"), str("ConsumerName")
		if s == "" || name == "" {
			return "*"
		}
		if arn, ok := h.eng.ConsumerARN(s, name); ok {
			return arn
		}
		// No such consumer: authorize on its name; the engine reports it
		// missing if allowed.
		return s + "/consumer/" + name
	case op == "GetRecords":
		if arn := str("StreamARN"); arn != "" {
			return arn
		}
		arn, _ := h.eng.IteratorStreamARN(str("ShardIterator"))
		return orStar(arn)
	case op == "ListShards" && str("NextToken") != "" && streamARN() == "":
		if name, ok := h.eng.ListShardsTokenStream(str("NextToken")); ok {
			return "arn:aws:kinesis:" + st.region + ":" + st.p.account + ":stream/" + name
		}
		return "*"
	}
	return orStar(streamARN())
}

// callerFromAuth is the engine caller of an authenticated request.
func callerFromAuth(st *authState) engine.Caller {
	return engine.Caller{Account: st.p.account, Region: st.region, CrossAccount: st.authorized}
}
