package cli

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
)

// DefaultEndpoint is where the client commands connect unless --endpoint or
// RIFFLE_ENDPOINT says otherwise: riffle serve's default listener.
const DefaultEndpoint = "http://127.0.0.1:4567"

// dummyAccessKey and dummySecret sign requests when no credentials are
// configured; Riffle accepts any signature by default on loopback.
const (
	dummyAccessKey = "riffle"
	dummySecret    = "riffle"
)

// globals are the flags every client command shares.
type globals struct {
	io       IO
	endpoint string
	region   string
	caBundle string
	profile  string
}

func (g *globals) register(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&g.endpoint, "endpoint", "", "Kinesis endpoint URL (default $RIFFLE_ENDPOINT, else "+DefaultEndpoint+")")
	f.StringVar(&g.region, "region", "", "signing region (default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1)")
	f.StringVar(&g.caBundle, "ca-bundle", "", "PEM file of certificates to trust for an https endpoint (e.g. from riffle cert); default $AWS_CA_BUNDLE")
	f.StringVar(&g.profile, "profile", "", "profile of the shared credentials file (default $AWS_PROFILE, else default)")
}

// client builds the SDK client from the flags and environment.
func (g *globals) client() (*kinesis.Client, error) {
	env := g.io.Getenv
	endpoint := firstNonEmpty(g.endpoint, env("RIFFLE_ENDPOINT"), DefaultEndpoint)
	if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
		return nil, usagef("--endpoint %q: want a URL starting with http:// or https://", endpoint)
	}
	region := firstNonEmpty(g.region, env("AWS_REGION"), env("AWS_DEFAULT_REGION"), "us-east-1")
	creds, err := g.credentials()
	if err != nil {
		return nil, err
	}
	httpClient := awshttp.NewBuildableClient()
	if ca := firstNonEmpty(g.caBundle, env("AWS_CA_BUNDLE")); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("--ca-bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-bundle %s: no PEM certificates in the file", ca)
		}
		httpClient = httpClient.WithTransportOptions(func(tr *http.Transport) {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{}
			}
			tr.TLSClientConfig.RootCAs = pool
		})
	}
	return kinesis.New(kinesis.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  creds,
		HTTPClient:   httpClient,
	}), nil
}

// credentials follows the AWS CLI's order for the sources a local tool can
// read without network calls: the environment, then the shared credentials
// file, then a dummy pair. It deliberately never asks an instance metadata
// service, which a developer machine does not have.
func (g *globals) credentials() (aws.CredentialsProvider, error) {
	env := g.io.Getenv
	if id, secret := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return credentials.NewStaticCredentialsProvider(id, secret, env("AWS_SESSION_TOKEN")), nil
	}
	profile := firstNonEmpty(g.profile, env("AWS_PROFILE"), "default")
	path := env("AWS_SHARED_CREDENTIALS_FILE")
	if path == "" {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, ".aws", "credentials")
		}
	}
	if path != "" {
		id, secret, token, found, err := readSharedCredentials(path, profile)
		if err != nil {
			return nil, err
		}
		if found {
			return credentials.NewStaticCredentialsProvider(id, secret, token), nil
		}
	}
	if g.profile != "" {
		return nil, usagef("--profile %q: no such profile with keys in %s", g.profile, path)
	}
	return credentials.NewStaticCredentialsProvider(dummyAccessKey, dummySecret, ""), nil
}

// readSharedCredentials reads one profile's keys from an INI credentials
// file. A missing file is not an error.
func readSharedCredentials(path, profile string) (id, secret, token string, found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", "", false, nil
	}
	if err != nil {
		return "", "", "", false, fmt.Errorf("read credentials: %w", err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			in = strings.TrimSpace(line[1:len(line)-1]) == profile
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !in || !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		case "aws_session_token":
			token = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", "", false, fmt.Errorf("read credentials %s: %w", path, err)
	}
	return id, secret, token, id != "" && secret != "", nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// describeError renders an SDK error as "Operation: ErrorType: message",
// dropping the SDK's transport detail (request id, status code) that a
// person does not need to act on the error.
func describeError(err error) string {
	var ae smithy.APIError
	var oe *smithy.OperationError
	if errors.As(err, &ae) {
		msg := ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" {
			msg += ": " + m
		}
		prefix := ""
		if errors.As(err, &oe) {
			prefix = oe.Operation() + ": "
		}
		// Keep context the command added in front of the SDK error.
		if s := err.Error(); oe != nil {
			if i := strings.Index(s, oe.Error()); i > 0 {
				prefix = s[:i] + prefix
			}
		}
		return prefix + msg
	}
	if errors.As(err, &oe) {
		// Transport failures are wrapped by the retryer and the HTTP layer;
		// the network error underneath says what to fix.
		var inner error = oe.Err
		var ne *net.OpError
		var ue *url.Error
		if errors.As(err, &ne) {
			inner = ne
		} else if errors.As(err, &ue) {
			inner = ue
		}
		s := err.Error()
		prefix := ""
		if i := strings.Index(s, oe.Error()); i > 0 {
			prefix = s[:i]
		}
		return prefix + oe.Operation() + ": " + inner.Error()
	}
	return err.Error()
}
