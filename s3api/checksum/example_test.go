package checksum_test

import (
	"fmt"

	"github.com/tessera-store/tessera/s3api/checksum"
)

// The FULL_OBJECT CRC of a multipart upload comes from the part CRCs and
// sizes alone; COMPOSITE is the checksum of the part checksums.
func ExampleAlgorithm_FullObjectSum() {
	a := checksum.CRC32C
	p1, p2 := []byte("hello "), []byte("world")
	parts := []checksum.Part{{Sum: a.Sum(p1), Size: int64(len(p1))}, {Sum: a.Sum(p2), Size: int64(len(p2))}}
	full, _ := a.FullObjectSum(parts)
	fmt.Println(checksum.Encode(full), checksum.Encode(a.Sum([]byte("hello world"))))
	comp, _ := a.CompositeValue(parts)
	fmt.Println(comp)
	// Output:
	// yZRlqg== yZRlqg==
	// vUZpoA==-2
}
