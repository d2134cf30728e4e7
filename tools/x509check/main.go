// Command x509check judges Istio plug-in CA bundles (the files of the `cacerts` Secret) the way
// istiod does when it loads them, so the TypeScript checks in components/caBundle.ts can be proven
// against Go's crypto/x509 rather than against a re-implementation of it.
//
// It mirrors, in order, istio/istio at 1.30.3:
//   - security/pkg/pki/util/keycertbundle.go `Verify` (called by NewVerifiedKeyCertBundleFromPem):
//     root-cert.pem and cert-chain.pem into cert pools (AppendCertsFromPEM, which skips what it
//     cannot parse), the first block of ca-cert.pem parsed, cert.Verify with those pools and no
//     KeyUsages (which Go reads as serverAuth), the key parsed as istiod's ParsePemEncodedKey does
//     (security/pkg/pki/util/crypto.go), then tls.X509KeyPair(ca-cert, ca-key);
//   - security/pkg/pki/ca/ca.go `NewPluggedCertIstioCAOptions`: the first block of ca-cert.pem must
//     have IsCA ("certificate is not authorized to sign other certificates").
//
// The one addition is VerifyOptions.CurrentTime, taken from the bundle's `now` (RFC 3339), so a
// corpus can be judged at a fixed instant; istiod uses the wall clock. KeyUsages stays empty, not
// ExtKeyUsageAny, because istiod passes none: Go then verifies for serverAuth, which is why an
// intermediate (or root) whose EKU lacks serverAuth fails in istiod.
//
// istiod 1.30.3 is built with Go 1.25 (its go.mod); Go 1.19 judges the same way except where later
// releases tightened parsing: negative serial numbers (refused since Go 1.23), RSA keys under 1024
// bits (since Go 1.24) and the x509sha1 GODEBUG escape hatch (gone in Go 1.24). The corpus in
// test/support/bundleCorpus.ts stays clear of those.
//
// Usage: go build -o /tmp/x509check ./tools/x509check && /tmp/x509check < bundles.json
//
// Input on stdin: a JSON array of {name, caCertPem, caKeyPem, rootCertPem, certChainPem, now?}.
// Output on stdout: one JSON object per line, {name, ok, error}, in input order.
// Standard library only; builds with Go 1.19 (Debian bookworm's golang-go).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

type bundle struct {
	Name         string `json:"name"`
	CaCertPem    string `json:"caCertPem"`
	CaKeyPem     string `json:"caKeyPem"`
	RootCertPem  string `json:"rootCertPem"`
	CertChainPem string `json:"certChainPem"`
	Now          string `json:"now,omitempty"`
}

type verdict struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// parsePemEncodedKey is istiod's ParsePemEncodedKey: only these three block types are accepted.
func parsePemEncodedKey(keyBytes []byte) (interface{}, error) {
	kb, _ := pem.Decode(keyBytes)
	if kb == nil {
		return nil, errors.New("invalid PEM-encoded key")
	}
	switch kb.Type {
	case "EC PRIVATE KEY":
		key, err := x509.ParseECPrivateKey(kb.Bytes)
		if err != nil {
			return nil, fmt.Errorf("failed to parse the ECDSA private key: %v", err)
		}
		return key, nil
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
		if err != nil {
			return nil, fmt.Errorf("failed to parse the RSA private key: %v", err)
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
		if err != nil {
			return nil, fmt.Errorf("failed to parse the PKCS8 private key: %v", err)
		}
		return key, nil
	default:
		return nil, fmt.Errorf("unsupported PEM block type for a private key: %s", kb.Type)
	}
}

// parsePemEncodedCertificate is istiod's ParsePemEncodedCertificate: the first PEM block only.
func parsePemEncodedCertificate(certBytes []byte) (*x509.Certificate, error) {
	cb, _ := pem.Decode(certBytes)
	if cb == nil {
		return nil, errors.New("invalid PEM encoded certificate")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("failed to parse X.509 certificate: %v", err)
	}
	return cert, nil
}

func check(b bundle) error {
	now := time.Now()
	if b.Now != "" {
		t, err := time.Parse(time.RFC3339, b.Now)
		if err != nil {
			return fmt.Errorf("bad now %q: %v", b.Now, err)
		}
		now = t
	}
	certBytes, keyBytes := []byte(b.CaCertPem), []byte(b.CaKeyPem)

	// keycertbundle.go Verify.
	rcp := x509.NewCertPool()
	rcp.AppendCertsFromPEM([]byte(b.RootCertPem))
	icp := x509.NewCertPool()
	icp.AppendCertsFromPEM([]byte(b.CertChainPem))
	opts := x509.VerifyOptions{Intermediates: icp, Roots: rcp, CurrentTime: now}
	cert, err := parsePemEncodedCertificate(certBytes)
	if err != nil {
		return fmt.Errorf("failed to parse cert PEM: %v", err)
	}
	chains, err := cert.Verify(opts)
	if len(chains) == 0 || err != nil {
		return fmt.Errorf("cannot verify the cert with the provided root chain and cert pool with error: %v", err)
	}
	if _, err = parsePemEncodedKey(keyBytes); err != nil {
		return fmt.Errorf("failed to parse private key PEM: %v", err)
	}
	if _, err := tls.X509KeyPair(certBytes, keyBytes); err != nil {
		return fmt.Errorf("the cert does not match the key: %v", err)
	}

	// ca.go NewPluggedCertIstioCAOptions.
	if !cert.IsCA {
		return errors.New("certificate is not authorized to sign other certificates")
	}
	return nil
}

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "x509check: reading stdin: %v\n", err)
		os.Exit(2)
	}
	var bundles []bundle
	if err := json.Unmarshal(in, &bundles); err != nil {
		fmt.Fprintf(os.Stderr, "x509check: stdin is not a JSON array of bundles: %v\n", err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	for _, b := range bundles {
		v := verdict{Name: b.Name, OK: true}
		if err := check(b); err != nil {
			v.OK, v.Error = false, err.Error()
		}
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(os.Stderr, "x509check: writing stdout: %v\n", err)
			os.Exit(2)
		}
	}
}
