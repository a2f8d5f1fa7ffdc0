// etcd-client talks to etcd the way a Go client that makes a connection per call would: each request makes a new TLS
// connection with the client files it names (read at that moment, as a freshly started etcdctl reads them), verified
// by Go's crypto/tls and crypto/x509 like kube-apiserver's, and sends one call through etcd's gRPC gateway on the
// client port: "put" (POST /v3/kv/put) or "health" (a linearizable read of the key "health" through that member, POST
// /v3/kv/range, which is what `etcdctl endpoint health` asks). One process serves a whole test: starting etcdctl for
// each call cost ~36 ms of CPU, more than the call.
//
// Requests are JSON lines on stdin; each gets one JSON line on stdout. The endpoints are tried in turn from one after
// the last used, and only for the connection (as etcdctl's balancer picks an endpoint it can reach); once a connection
// is made the call is sent once, never retried, so a failure is reported as it happened.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

type request struct {
	Op               string   `json:"op"`
	Key              string   `json:"key"`
	Value            string   `json:"value"`
	Endpoints        []string `json:"endpoints"`
	CACert           string   `json:"cacert"`
	Cert             string   `json:"cert"`
	KeyFile          string   `json:"keyFile"`
	DialTimeoutMs    int      `json:"dialTimeoutMs"`
	CommandTimeoutMs int      `json:"commandTimeoutMs"`
}

type reply struct {
	OK       bool   `json:"ok"`
	Endpoint string `json:"endpoint,omitempty"`
	Error    string `json:"error,omitempty"`
}

var next int

func clientConfig(r request) (*tls.Config, error) {
	pem, err := os.ReadFile(r.CACert)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate in it", r.CACert)
	}
	pair, err := tls.LoadX509KeyPair(r.Cert, r.KeyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// connect makes a TLS connection to the first endpoint that takes one, starting after the last one used.
func connect(r request, config *tls.Config) (*tls.Conn, string, error) {
	var failures []string
	for i := range r.Endpoints {
		endpoint := r.Endpoints[(next+i)%len(r.Endpoints)]
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, "", err
		}
		c := config.Clone()
		c.ServerName = u.Hostname()
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Duration(r.DialTimeoutMs) * time.Millisecond}, "tcp", u.Host, c)
		if err == nil {
			next = (next + i + 1) % len(r.Endpoints)
			return conn, endpoint, nil
		}
		failures = append(failures, fmt.Sprintf("%s: %v", endpoint, err))
	}
	return nil, "", errors.New(strings.Join(failures, "; "))
}

func call(r request) reply {
	if r.Op != "put" && r.Op != "health" {
		return reply{Error: fmt.Sprintf("unknown op %q: put or health", r.Op)}
	}
	if len(r.Endpoints) == 0 {
		return reply{Error: "no endpoints"}
	}
	config, err := clientConfig(r)
	if err != nil {
		return reply{Error: err.Error()}
	}
	conn, endpoint, err := connect(r, config)
	if err != nil {
		return reply{Error: err.Error()}
	}
	defer conn.Close()
	used := false
	transport := &http.Transport{
		DisableKeepAlives: true,
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) {
			if used {
				return nil, errors.New("the call's one connection is already used")
			}
			used = true
			return conn, nil
		},
	}
	path, fields := "/v3/kv/put", map[string]string{
		"key":   base64.StdEncoding.EncodeToString([]byte(r.Key)),
		"value": base64.StdEncoding.EncodeToString([]byte(r.Value)),
	}
	if r.Op == "health" {
		path, fields = "/v3/kv/range", map[string]string{"key": base64.StdEncoding.EncodeToString([]byte("health"))}
	}
	body, _ := json.Marshal(fields)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.CommandTimeoutMs)*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+path, bytes.NewReader(body))
	if err != nil {
		return reply{Endpoint: endpoint, Error: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return reply{Endpoint: endpoint, Error: err.Error()}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var parsed struct {
		Header *struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(answer, &parsed) != nil || parsed.Header == nil {
		return reply{Endpoint: endpoint, Error: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(answer)))}
	}
	return reply{OK: true, Endpoint: endpoint}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			_ = out.Encode(reply{Error: "bad request: " + err.Error()})
			continue
		}
		_ = out.Encode(call(r))
	}
}
