package policy

import "testing"

// BenchmarkEvaluate measures one decision against minio-go's public policy
// and against a ten-statement policy with conditions (the per-request cost
// on a bucket that has a policy).
func BenchmarkEvaluate(b *testing.B) {
	docs := map[string]string{
		"public": minioPolicies[4],
		"10stmt-conditions": stmt(`[
{"Sid":"1","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::` + bucket + `/pub/*"},
{"Sid":"2","Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::` + bucket + `","Condition":{"StringLike":{"s3:prefix":"pub/*"}}},
{"Sid":"3","Effect":"Allow","Principal":{"AWS":"alice"},"Action":"s3:*","Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"]},
{"Sid":"4","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::` + bucket + `/pub/secret?"},
{"Sid":"5","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
{"Sid":"6","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}},
{"Sid":"7","Effect":"Deny","NotPrincipal":{"AWS":"alice"},"NotAction":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::` + bucket + `/ro/*"},
{"Sid":"8","Effect":"Deny","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::` + bucket + `","Condition":{"NumericGreaterThan":{"s3:max-keys":"100"}}},
{"Sid":"9","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"StringEqualsIgnoreCase":{"aws:UserAgent":"BadBot"}}},
{"Sid":"10","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/ref/*","Condition":{"StringNotEquals":{"aws:Referer":"http://evil"}}}
]`),
	}
	req := Request{Principal: "*", Action: "s3:GetObject", Bucket: bucket, Key: "pub/some/object.txt",
		Conditions: map[string][]string{"aws:SourceIp": {"10.1.2.3"}, "aws:SecureTransport": {"true"}, "aws:UserAgent": {"MinIO (linux; amd64) minio-go/v7.4.1"}}}
	for _, name := range []string{"public", "10stmt-conditions"} {
		b.Run(name, func(b *testing.B) {
			p, err := Parse([]byte(docs[name]), bucket)
			if err != nil {
				b.Fatal(err)
			}
			if p.Evaluate(req) != Allowed {
				b.Fatal("not allowed")
			}
			b.SetBytes(1)
			b.ReportAllocs()
			for b.Loop() {
				p.Evaluate(req)
			}
		})
	}
}

// BenchmarkParse measures PutBucketPolicy's validation of minio-go's public
// policy.
func BenchmarkParse(b *testing.B) {
	doc := []byte(minioPolicies[4])
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, bucket); err != nil {
			b.Fatal(err)
		}
	}
}
