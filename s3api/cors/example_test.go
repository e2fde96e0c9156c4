package cors_test

import (
	"fmt"
	"net/http"

	"github.com/tessera-store/tessera/s3api/cors"
)

func ExampleConfig_Preflight() {
	c, err := cors.Parse([]byte(`<CORSConfiguration><CORSRule>
<AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>
<AllowedHeader>x-amz-*</AllowedHeader><MaxAgeSeconds>600</MaxAgeSeconds>
</CORSRule></CORSConfiguration>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	req := http.Header{}
	req.Set("Origin", "https://app.example.com")
	req.Set("Access-Control-Request-Method", "PUT")
	req.Set("Access-Control-Request-Headers", "X-Amz-Date, x-amz-content-sha256")
	out := http.Header{}
	if err := c.Preflight(req, out); err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
		fmt.Printf("%s: %s\n", h, out.Get(h))
	}
	req.Set("Access-Control-Request-Method", "DELETE")
	fmt.Println(c.Preflight(req, http.Header{}) != nil)
	// Output:
	// Access-Control-Allow-Origin: https://app.example.com
	// Access-Control-Allow-Credentials: true
	// Access-Control-Allow-Methods: PUT
	// Access-Control-Allow-Headers: x-amz-date,x-amz-content-sha256
	// Access-Control-Max-Age: 600
	// true
}
