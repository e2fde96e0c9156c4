package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tessera-e2e"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// TestTLSStreamingChecksums: over TLS the AWS SDK sends its default
// checksum as an aws-chunked body with a trailer (UNSIGNED-PAYLOAD-TRAILER),
// and minio-go with TrailingHeaders does the same; both must store the
// object and report the checksum.
func TestTLSStreamingChecksums(t *testing.T) {
	cert, key, roots := selfSigned(t, t.TempDir())
	s := newServer(t, serverOpts{tlsCert: cert, tlsKey: key, roots: roots})
	ctx := ctxFor(t, 2*time.Minute)
	c := s.rootAWS(t)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tls")}); err != nil {
		t.Fatal(err)
	}
	data := randBytes(77, 3<<20+17)
	for _, alg := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha256} {
		t.Run("aws/"+string(alg), func(t *testing.T) {
			key := "aws-" + string(alg)
			// A non-seekable body forces the streaming (aws-chunked) encoding.
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tls"), Key: aws.String(key), Body: io.MultiReader(bytes.NewReader(data)),
				ContentLength: aws.Int64(int64(len(data))), ChecksumAlgorithm: alg}); err != nil {
				t.Fatal(err)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tls"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GET: %d bytes, %v", len(got), err)
			}
			if aws.ToString(out.ChecksumCRC32)+aws.ToString(out.ChecksumCRC32C)+aws.ToString(out.ChecksumCRC64NVME)+aws.ToString(out.ChecksumSHA256) == "" {
				t.Errorf("no checksum returned with ChecksumMode ENABLED")
			}
		})
	}
	t.Run("minio/trailing", func(t *testing.T) {
		mc, err := minio.New(s.addr, &minio.Options{
			Creds: credentials.NewStaticV4(rootKey, rootSecret, ""), Region: region, Secure: true,
			BucketLookup: minio.BucketLookupPath, MaxRetries: 1, TrailingHeaders: true, Transport: s.transport(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mc.PutObject(ctx, "tls", "minio", bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C, DisableMultipart: true}); err != nil {
			t.Fatal(err)
		}
		obj, err := mc.GetObject(ctx, "tls", "minio", minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		if got, _ := sha256Of(t, obj); got != sum(data) {
			t.Errorf("GET: content differs")
		}
	})
}
