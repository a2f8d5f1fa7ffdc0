// x509-judge verifies certificates the way Go programs do (etcd, kube-apiserver, kubelet, client-go and talosctl all
// use crypto/x509): it reads a JSON list of checks on stdin and prints one verdict per check, as JSON, on stdout.
// Each check names the roots a consumer trusts, the key usage it asks for and the host names or IPs it dials.
package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"time"
)

type check struct {
	Name  string   `json:"name"`
	Leaf  string   `json:"leaf"`
	Roots string   `json:"roots"`
	Usage string   `json:"usage"` // "server" or "client"
	Names []string `json:"names"` // DNS names or IPs the consumer dials
	At    string   `json:"at"`    // RFC 3339
}

type verdict struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func judge(c check) error {
	block, _ := pem.Decode([]byte(c.Leaf))
	if block == nil {
		return fmt.Errorf("leaf: no PEM block")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(c.Roots)) {
		return fmt.Errorf("roots: no certificate")
	}
	at, err := time.Parse(time.RFC3339, c.At)
	if err != nil {
		return err
	}
	usage := map[string]x509.ExtKeyUsage{"server": x509.ExtKeyUsageServerAuth, "client": x509.ExtKeyUsageClientAuth}[c.Usage]
	if usage == x509.ExtKeyUsageAny {
		return fmt.Errorf("usage: expected server or client, got %q", c.Usage)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return err
	}
	for _, name := range c.Names {
		if err := leaf.VerifyHostname(name); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	var checks []check
	if err := json.NewDecoder(os.Stdin).Decode(&checks); err != nil {
		fmt.Fprintln(os.Stderr, "x509-judge: stdin:", err)
		os.Exit(2)
	}
	out := make([]verdict, 0, len(checks))
	for _, c := range checks {
		v := verdict{Name: c.Name, OK: true}
		if err := judge(c); err != nil {
			v.OK, v.Error = false, err.Error()
		}
		out = append(out, v)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(2)
	}
}
