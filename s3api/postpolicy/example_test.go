package postpolicy_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/tessera-store/tessera/s3api/postpolicy"
)

// Example shows the handler's flow for a SigV2-signed browser upload.
func Example() {
	const ak, secret = "AKID", "SECRET"
	policy := base64.StdEncoding.EncodeToString([]byte(`{"expiration": "2030-01-01T00:00:00Z",
		"conditions": [{"bucket": "photos"}, ["starts-with", "$key", "user/"], ["content-length-range", 1, 1024]]}`))
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(policy))

	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("key", "user/${filename}")
	w.WriteField("AWSAccessKeyId", ak)
	w.WriteField("policy", policy)
	w.WriteField("signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	fw, _ := w.CreateFormFile("file", "cat.txt")
	fw.Write([]byte("meow"))
	w.Close()
	r, _ := http.NewRequest("POST", "http://127.0.0.1/photos", &body)
	r.Header.Set("Content-Type", w.FormDataContentType())

	ctx := context.Background()
	f, err := postpolicy.Parse(ctx, r, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	f.Bucket = "photos" // from the URL
	creds := func(context.Context, string) (string, error) { return secret, nil }
	who, err := f.Verify(ctx, creds, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	data, err := io.ReadAll(f.File) // the PUT path streams it instead
	fmt.Println(who, f.Key, string(data), err)
	// Output: AKID user/cat.txt meow <nil>
}
