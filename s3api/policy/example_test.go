package policy_test

import (
	"fmt"

	"github.com/tessera-store/tessera/s3api/policy"
)

func Example() {
	doc := `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/public/*"},
{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::photos/*",
 "Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}`
	p, err := policy.Parse([]byte(doc), "photos")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ip := range []string{"192.0.2.7", "198.51.100.1"} {
		d := p.Evaluate(policy.Request{
			Principal:  "*",
			Action:     policy.ActionFor("HeadObject"),
			Bucket:     "photos",
			Key:        "public/cat.jpg",
			Conditions: map[string][]string{"aws:SourceIp": {ip}},
		})
		fmt.Println(ip, d)
	}
	_, err = policy.Parse([]byte(doc), "videos")
	fmt.Println(err)
	// Output:
	// 192.0.2.7 Allow
	// 198.51.100.1 Deny
	// policy: malformed policy: Policy has invalid resource
}
