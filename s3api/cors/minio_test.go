package cors

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	mcors "github.com/minio/minio-go/v7/pkg/cors"
)

// minioRules is the rule set minio-go v7.4.1's testCors applies.
var minioRules = []mcors.Rule{
	{AllowedOrigin: []string{"https"}, AllowedMethod: []string{"PUT"}, AllowedHeader: []string{"*"}},
	{AllowedOrigin: []string{"http://www.example1.com"}, AllowedMethod: []string{"PUT"}, AllowedHeader: []string{"*"},
		ExposeHeader: []string{"x-amz-server-side-encryption", "x-amz-request-id"}, MaxAgeSeconds: 3600},
	{AllowedOrigin: []string{"http://www.example2.com"}, AllowedMethod: []string{"POST"}, AllowedHeader: []string{"X-My-Special-Header"},
		ExposeHeader: []string{"X-AMZ-Request-ID"}},
	{AllowedOrigin: []string{"http://www.example3.com"}, AllowedMethod: []string{"PUT"}, AllowedHeader: []string{"X-Example-3-Special-Header"},
		MaxAgeSeconds: 10},
	{AllowedOrigin: []string{"*"}, AllowedMethod: []string{"GET"}, AllowedHeader: []string{"*"},
		ExposeHeader: []string{"x-amz-request-id", "X-AMZ-server-side-encryption"}, MaxAgeSeconds: 3600},
	{AllowedOrigin: []string{"http://multiplemethodstest.com"}, AllowedMethod: []string{"POST", "PUT", "DELETE"}, AllowedHeader: []string{"x-abc-*", "x-def-*"}},
	{AllowedOrigin: []string{"http://UPPERCASEEXAMPLE.com"}, AllowedMethod: []string{"DELETE"}},
	{AllowedOrigin: []string{"https://*"}, AllowedMethod: []string{"DELETE"}, AllowedHeader: []string{"x-abc-*", "x-def-*"}},
}

// corsServer answers as the gateway does: OPTIONS through Preflight (403
// AccessForbidden XML on refusal), anything else through Actual, then 200
// (204 for DELETE).
func corsServer(t testing.TB, c *Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			if err := c.Preflight(r.Header, w.Header()); err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("preflight error %v is not *Error", err)
				}
				status, code := http.StatusBadRequest, "BadRequest"
				if errors.Is(err, ErrForbidden) {
					status, code = http.StatusForbidden, "AccessForbidden"
				}
				w.WriteHeader(status)
				fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message></Error>", code, e.Message)
				return
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		c.Actual(r.Method, r.Header, w.Header())
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestMinioCors replays every request of minio-go v7.4.1's testCors table
// and compares status, body and headers as that test does.
func TestMinioCors(t *testing.T) {
	doc, err := mcors.NewConfig(minioRules).ToXML()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse(minio-go rules): %v", err)
	}
	srv := corsServer(t, c)
	objectURL := srv.URL + "/bucket/object"
	bucketURL := srv.URL + "/bucket/"

	const errStrAccessForbidden = `<Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted`
	noCORS := map[string]string{
		"Access-Control-Allow-Credentials": "", "Access-Control-Allow-Methods": "", "Access-Control-Allow-Origin": "",
		"Access-Control-Allow-Headers": "", "Access-Control-Expose-Headers": "", "Access-Control-Max-Age": "",
	}
	example1Preflight := map[string]string{
		"Access-Control-Allow-Origin": "http://www.example1.com", "Access-Control-Allow-Methods": "PUT",
		"Access-Control-Allow-Headers": "x-another-header,x-could-be-anything", "Access-Control-Allow-Credentials": "true",
		"Access-Control-Max-Age": "3600", "Content-Length": "0",
	}
	tests := []struct {
		name        string
		method, url string
		headers     map[string]string
		wantStatus  int
		wantHeaders map[string]string
		wantBody    string
	}{
		{"preflight to object url matches example1 rule", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-another-header,x-could-be-anything"},
			200, example1Preflight, ""},
		{"preflight to bucket url matches example1 rule", "OPTIONS", bucketURL,
			map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-another-header,x-could-be-anything"},
			200, example1Preflight, ""},
		{"preflight matches example2 rule with header given", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://www.example2.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-My-Special-Header"},
			200, map[string]string{"Access-Control-Allow-Origin": "http://www.example2.com", "Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "x-my-special-header", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "", "Content-Length": "0"}, ""},
		{"preflight matches example2 rule with no header given", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://www.example2.com", "Access-Control-Request-Method": "POST"},
			200, map[string]string{"Access-Control-Allow-Origin": "http://www.example2.com", "Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "", "Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "", "Content-Length": "0"}, ""},
		{"preflight matches wildcard origin rule", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://www.couldbeanything.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-custom-header,x-other-custom-header"},
			200, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET",
				"Access-Control-Allow-Headers": "x-custom-header,x-other-custom-header", "Access-Control-Allow-Credentials": "", "Access-Control-Max-Age": "3600", "Content-Length": "0"}, ""},
		{"preflight does not match any rule", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://www.couldbeanything.com", "Access-Control-Request-Method": "DELETE"}, 403, nil, errStrAccessForbidden},
		{"preflight does not match example1 rule because of method", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "POST"}, 403, nil, errStrAccessForbidden},
		{"s3 processes cors rules even when request is not preflight if cors headers present test get", "GET", objectURL,
			map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Headers": "x-another-header,x-could-be-anything", "Access-Control-Request-Method": "PUT"},
			200, map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Origin": "http://www.example1.com",
				"Access-Control-Expose-Headers": "x-amz-server-side-encryption,x-amz-request-id"}, ""},
		{"s3 processes cors rules even when request is not preflight if cors headers present test put", "PUT", objectURL,
			map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "GET"},
			200, map[string]string{"Access-Control-Allow-Credentials": "", "Access-Control-Allow-Origin": "*",
				"Access-Control-Expose-Headers": "x-amz-request-id,x-amz-server-side-encryption"}, ""},
		{"s3 processes cors rules even when request is not preflight but there is no rule match", "GET", objectURL,
			map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Headers": "x-another-header,x-could-be-anything", "Access-Control-Request-Method": "DELETE"},
			200, noCORS, ""},
		{"get request matches wildcard origin rule and returns cors headers", "GET", objectURL,
			map[string]string{"Origin": "http://www.example1.com"},
			200, map[string]string{"Access-Control-Allow-Credentials": "", "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "",
				"Access-Control-Expose-Headers": "x-amz-request-id,X-AMZ-server-side-encryption"}, ""},
		{"head request does not match rule and returns no cors headers", "HEAD", objectURL,
			map[string]string{"Origin": "http://www.nomatchingdomainfound.com"}, 200, noCORS, ""},
		{"put request with origin does not match rule and returns no cors headers", "PUT", objectURL,
			map[string]string{"Origin": "http://www.nomatchingdomainfound.com"}, 200, noCORS, ""},
		{"put request with no origin does not match rule and returns no cors headers", "PUT", objectURL,
			map[string]string{}, 200, noCORS, ""},
		{"preflight for delete request with wildcard origin does not match", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://www.notsecureexample.com", "Access-Control-Request-Method": "DELETE"}, 403, nil, errStrAccessForbidden},
		{"preflight for delete request with wildcard https origin matches secureexample", "OPTIONS", objectURL,
			map[string]string{"Origin": "https://www.secureexample.com", "Access-Control-Request-Method": "DELETE"},
			200, map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "DELETE",
				"Access-Control-Allow-Origin": "https://www.secureexample.com", "Access-Control-Allow-Headers": "", "Access-Control-Expose-Headers": "", "Access-Control-Max-Age": ""}, ""},
		{"preflight for delete request matches secureexample with wildcard https origin and request headers", "OPTIONS", objectURL,
			map[string]string{"Origin": "https://www.secureexample.com", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-abc-1,x-abc-second,x-def-1"},
			200, map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "DELETE",
				"Access-Control-Allow-Origin": "https://www.secureexample.com", "Access-Control-Allow-Headers": "x-abc-1,x-abc-second,x-def-1",
				"Access-Control-Expose-Headers": "", "Access-Control-Max-Age": ""}, ""},
		{"preflight for delete request matches secureexample rejected because request header does not match", "OPTIONS", objectURL,
			map[string]string{"Origin": "https://www.secureexample.com", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-abc-1,x-abc-second,x-def-1,x-does-not-match"},
			403, nil, errStrAccessForbidden},
		{"preflight with https origin is documented by s3 as matching but it does not match", "OPTIONS", objectURL,
			map[string]string{"Origin": "https://www.securebutdoesnotmatch.com", "Access-Control-Request-Method": "PUT"}, 403, nil, errStrAccessForbidden},
		{"put no origin no match returns no cors headers", "PUT", objectURL, map[string]string{}, 200, noCORS, ""},
		{"put with origin match example1 returns cors headers", "PUT", objectURL,
			map[string]string{"Origin": "http://www.example1.com"},
			200, map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Origin": "http://www.example1.com",
				"Access-Control-Allow-Headers": "", "Access-Control-Expose-Headers": "x-amz-server-side-encryption,x-amz-request-id"}, ""},
		{"put with origin and header match example1 returns cors headers", "PUT", objectURL,
			map[string]string{"Origin": "http://www.example1.com", "x-could-be-anything": "myvalue"},
			200, map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Origin": "http://www.example1.com",
				"Access-Control-Allow-Headers": "", "Access-Control-Expose-Headers": "x-amz-server-side-encryption,x-amz-request-id"}, ""},
		{"put no match found returns no cors headers", "PUT", objectURL,
			map[string]string{"Origin": "http://www.unmatchingdomain.com"}, 200, noCORS, ""},
		{"put with origin match example3 returns cors headers", "PUT", objectURL,
			map[string]string{"Origin": "http://www.example3.com", "X-My-Special-Header": "myvalue"},
			200, map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Origin": "http://www.example3.com",
				"Access-Control-Allow-Headers": "", "Access-Control-Expose-Headers": ""}, ""},
		{"preflight matches example1 rule headers case is incorrect", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "X-Another-Header,X-Could-Be-Anything"},
			200, example1Preflight, ""},
		{"preflight matches example1 rule headers are not sorted", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "a-customer-header,b-should-be-last"},
			200, map[string]string{"Access-Control-Allow-Origin": "http://www.example1.com", "Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "a-customer-header,b-should-be-last", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Max-Age": "3600", "Content-Length": "0"}, ""},
		{"preflight with case sensitivity in origin matches uppercase", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://UPPERCASEEXAMPLE.com", "Access-Control-Request-Method": "DELETE"},
			200, map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "DELETE",
				"Access-Control-Allow-Origin": "http://UPPERCASEEXAMPLE.com", "Access-Control-Allow-Headers": "", "Access-Control-Expose-Headers": "", "Access-Control-Max-Age": ""}, ""},
		{"preflight with case sensitivity in origin does not match when lowercase", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://uppercaseexample.com", "Access-Control-Request-Method": "DELETE"}, 403, nil, errStrAccessForbidden},
		{"preflight match upper case with unknown header but no header restrictions", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://UPPERCASEEXAMPLE.com", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-unknown-1"},
			403, nil, errStrAccessForbidden},
		{"preflight for delete request matches multiplemethodstest.com origin and request headers", "OPTIONS", objectURL,
			map[string]string{"Origin": "http://multiplemethodstest.com", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-abc-1"},
			200, map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Origin": "http://multiplemethodstest.com",
				"Access-Control-Allow-Headers": "x-abc-1", "Access-Control-Expose-Headers": "", "Access-Control-Max-Age": ""}, ""},
		{"delete request goes ahead because cors is only for browsers and does not block on the server side", "DELETE", objectURL,
			map[string]string{"Origin": "http://www.justrandom.com"}, 204, nil, ""},
	}
	if len(tests) != 31 {
		t.Fatalf("table has %d cases; minio-go's testCors has 31 requests", len(tests))
	}
	client := srv.Client()
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d_%s", i+2, strings.ReplaceAll(tt.name, " ", "_")), func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("User-Agent", "MinIO-go-FunctionalTest/7.4.1")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && !strings.Contains(string(body), tt.wantBody) {
				t.Fatalf("body %q does not contain %q", body, tt.wantBody)
			}
			for k, v := range tt.wantHeaders {
				got := resp.Header.Get(k)
				if k == "Access-Control-Expose-Headers" {
					got, v = strings.ToLower(got), strings.ToLower(v)
				}
				got = strings.ReplaceAll(got, " ", "")
				if got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestMinioSetGetDelete checks testCorsSetGetDelete's round trip: what
// Marshal returns decodes with minio-go into a value DeepEqual to the one it
// sent.
func TestMinioSetGetDelete(t *testing.T) {
	rules := []mcors.Rule{
		{AllowedOrigin: []string{"http://www.example1.com"}, AllowedMethod: []string{"PUT"}, AllowedHeader: []string{"*"}},
		{AllowedOrigin: []string{"http://www.example2.com"}, AllowedMethod: []string{"POST"}, AllowedHeader: []string{"X-My-Special-Header"}},
		{AllowedOrigin: []string{"*"}, AllowedMethod: []string{"GET"}, AllowedHeader: []string{"*"}},
	}
	sent := mcors.NewConfig(rules)
	doc, err := sent.ToXML()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := mcors.ParseBucketCorsConfig(strings.NewReader(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", sent) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, sent)
	}
}
