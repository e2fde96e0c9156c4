package policy

import "strings"

// Action kinds: which resource ARN form an action applies to.
const (
	bucketLevel = 1 << iota // arn:aws:s3:::bucket
	objectLevel             // arn:aws:s3:::bucket/key
)

// actions lists the S3 actions a bucket policy may name, lowercased, with
// the resource kind each applies to. An Action that names none of them (or
// whose wildcard matches none) is "Policy has invalid action".
var actions = map[string]int{
	"s3:abortmultipartupload":             objectLevel,
	"s3:bypassgovernanceretention":        objectLevel,
	"s3:createbucket":                     bucketLevel,
	"s3:deletebucket":                     bucketLevel,
	"s3:deletebucketownershipcontrols":    bucketLevel,
	"s3:deletebucketpolicy":               bucketLevel,
	"s3:deletebucketwebsite":              bucketLevel,
	"s3:deleteobject":                     objectLevel,
	"s3:deleteobjecttagging":              objectLevel,
	"s3:deleteobjectversion":              objectLevel,
	"s3:deleteobjectversiontagging":       objectLevel,
	"s3:getaccelerateconfiguration":       bucketLevel,
	"s3:getanalyticsconfiguration":        bucketLevel,
	"s3:getbucketacl":                     bucketLevel,
	"s3:getbucketcors":                    bucketLevel,
	"s3:getbucketlocation":                bucketLevel,
	"s3:getbucketlogging":                 bucketLevel,
	"s3:getbucketnotification":            bucketLevel,
	"s3:getbucketobjectlockconfiguration": bucketLevel,
	"s3:getbucketownershipcontrols":       bucketLevel,
	"s3:getbucketpolicy":                  bucketLevel,
	"s3:getbucketpolicystatus":            bucketLevel,
	"s3:getbucketpublicaccessblock":       bucketLevel,
	"s3:getbucketrequestpayment":          bucketLevel,
	"s3:getbuckettagging":                 bucketLevel,
	"s3:getbucketversioning":              bucketLevel,
	"s3:getbucketwebsite":                 bucketLevel,
	"s3:getencryptionconfiguration":       bucketLevel,
	"s3:getinventoryconfiguration":        bucketLevel,
	"s3:getlifecycleconfiguration":        bucketLevel,
	"s3:getmetricsconfiguration":          bucketLevel,
	"s3:getobject":                        objectLevel,
	"s3:getobjectacl":                     objectLevel,
	"s3:getobjectattributes":              objectLevel,
	"s3:getobjectlegalhold":               objectLevel,
	"s3:getobjectretention":               objectLevel,
	"s3:getobjecttagging":                 objectLevel,
	"s3:getobjecttorrent":                 objectLevel,
	"s3:getobjectversion":                 objectLevel,
	"s3:getobjectversionacl":              objectLevel,
	"s3:getobjectversionattributes":       objectLevel,
	"s3:getobjectversiontagging":          objectLevel,
	"s3:getreplicationconfiguration":      bucketLevel,
	"s3:listallmybuckets":                 bucketLevel,
	"s3:listbucket":                       bucketLevel,
	"s3:listbucketmultipartuploads":       bucketLevel,
	"s3:listbucketversions":               bucketLevel,
	"s3:listmultipartuploadparts":         objectLevel,
	"s3:putaccelerateconfiguration":       bucketLevel,
	"s3:putanalyticsconfiguration":        bucketLevel,
	"s3:putbucketacl":                     bucketLevel,
	"s3:putbucketcors":                    bucketLevel,
	"s3:putbucketlogging":                 bucketLevel,
	"s3:putbucketnotification":            bucketLevel,
	"s3:putbucketobjectlockconfiguration": bucketLevel,
	"s3:putbucketownershipcontrols":       bucketLevel,
	"s3:putbucketpolicy":                  bucketLevel,
	"s3:putbucketpublicaccessblock":       bucketLevel,
	"s3:putbucketrequestpayment":          bucketLevel,
	"s3:putbuckettagging":                 bucketLevel,
	"s3:putbucketversioning":              bucketLevel,
	"s3:putbucketwebsite":                 bucketLevel,
	"s3:putencryptionconfiguration":       bucketLevel,
	"s3:putinventoryconfiguration":        bucketLevel,
	"s3:putlifecycleconfiguration":        bucketLevel,
	"s3:putmetricsconfiguration":          bucketLevel,
	"s3:putobject":                        objectLevel,
	"s3:putobjectacl":                     objectLevel,
	"s3:putobjectlegalhold":               objectLevel,
	"s3:putobjectretention":               objectLevel,
	"s3:putobjecttagging":                 objectLevel,
	"s3:putobjectversionacl":              objectLevel,
	"s3:putobjectversiontagging":          objectLevel,
	"s3:putreplicationconfiguration":      bucketLevel,
	"s3:replicatedelete":                  objectLevel,
	"s3:replicateobject":                  objectLevel,
	"s3:replicatetags":                    objectLevel,
	"s3:restoreobject":                    objectLevel,
}

// ops maps S3 operation names (as in the API reference) to the action a
// policy must allow for them.
var ops = map[string]string{
	"AbortMultipartUpload":               "s3:AbortMultipartUpload",
	"CompleteMultipartUpload":            "s3:PutObject",
	"CopyObject":                         "s3:PutObject",
	"CreateBucket":                       "s3:CreateBucket",
	"CreateMultipartUpload":              "s3:PutObject",
	"DeleteBucket":                       "s3:DeleteBucket",
	"DeleteBucketCors":                   "s3:PutBucketCORS",
	"DeleteBucketEncryption":             "s3:PutEncryptionConfiguration",
	"DeleteBucketLifecycle":              "s3:PutLifecycleConfiguration",
	"DeleteBucketPolicy":                 "s3:DeleteBucketPolicy",
	"DeleteBucketReplication":            "s3:PutReplicationConfiguration",
	"DeleteBucketTagging":                "s3:PutBucketTagging",
	"DeleteBucketWebsite":                "s3:DeleteBucketWebsite",
	"DeleteObject":                       "s3:DeleteObject",
	"DeleteObjectVersion":                "s3:DeleteObjectVersion",
	"DeleteObjects":                      "s3:DeleteObject",
	"DeleteObjectTagging":                "s3:DeleteObjectTagging",
	"DeleteObjectVersionTagging":         "s3:DeleteObjectVersionTagging",
	"GetBucketAcl":                       "s3:GetBucketAcl",
	"GetBucketCors":                      "s3:GetBucketCORS",
	"GetBucketEncryption":                "s3:GetEncryptionConfiguration",
	"GetBucketLifecycleConfiguration":    "s3:GetLifecycleConfiguration",
	"GetBucketLocation":                  "s3:GetBucketLocation",
	"GetBucketNotificationConfiguration": "s3:GetBucketNotification",
	"GetBucketPolicy":                    "s3:GetBucketPolicy",
	"GetBucketPolicyStatus":              "s3:GetBucketPolicyStatus",
	"GetBucketReplication":               "s3:GetReplicationConfiguration",
	"GetBucketTagging":                   "s3:GetBucketTagging",
	"GetBucketVersioning":                "s3:GetBucketVersioning",
	"GetBucketWebsite":                   "s3:GetBucketWebsite",
	"GetObject":                          "s3:GetObject",
	"GetObjectVersion":                   "s3:GetObjectVersion",
	"GetObjectAcl":                       "s3:GetObjectAcl",
	"GetObjectAttributes":                "s3:GetObjectAttributes",
	"GetObjectLegalHold":                 "s3:GetObjectLegalHold",
	"GetObjectLockConfiguration":         "s3:GetBucketObjectLockConfiguration",
	"GetObjectRetention":                 "s3:GetObjectRetention",
	"GetObjectTagging":                   "s3:GetObjectTagging",
	"GetObjectVersionTagging":            "s3:GetObjectVersionTagging",
	"HeadBucket":                         "s3:ListBucket",
	"HeadObject":                         "s3:GetObject",
	"ListBuckets":                        "s3:ListAllMyBuckets",
	"ListMultipartUploads":               "s3:ListBucketMultipartUploads",
	"ListObjects":                        "s3:ListBucket",
	"ListObjectsV2":                      "s3:ListBucket",
	"ListObjectVersions":                 "s3:ListBucketVersions",
	"ListParts":                          "s3:ListMultipartUploadParts",
	"PostObject":                         "s3:PutObject",
	"PutBucketAcl":                       "s3:PutBucketAcl",
	"PutBucketCors":                      "s3:PutBucketCORS",
	"PutBucketEncryption":                "s3:PutEncryptionConfiguration",
	"PutBucketLifecycleConfiguration":    "s3:PutLifecycleConfiguration",
	"PutBucketNotificationConfiguration": "s3:PutBucketNotification",
	"PutBucketPolicy":                    "s3:PutBucketPolicy",
	"PutBucketReplication":               "s3:PutReplicationConfiguration",
	"PutBucketTagging":                   "s3:PutBucketTagging",
	"PutBucketVersioning":                "s3:PutBucketVersioning",
	"PutBucketWebsite":                   "s3:PutBucketWebsite",
	"PutObject":                          "s3:PutObject",
	"PutObjectAcl":                       "s3:PutObjectAcl",
	"PutObjectLegalHold":                 "s3:PutObjectLegalHold",
	"PutObjectLockConfiguration":         "s3:PutBucketObjectLockConfiguration",
	"PutObjectRetention":                 "s3:PutObjectRetention",
	"PutObjectTagging":                   "s3:PutObjectTagging",
	"PutObjectVersionTagging":            "s3:PutObjectVersionTagging",
	"RestoreObject":                      "s3:RestoreObject",
	"SelectObjectContent":                "s3:GetObject",
	"UploadPart":                         "s3:PutObject",
	"UploadPartCopy":                     "s3:PutObject",
}

// ActionFor returns the policy action an S3 operation needs ("GetObject" ->
// "s3:GetObject", "HeadObject" -> "s3:GetObject", "ListObjectsV2" ->
// "s3:ListBucket", "UploadPart" -> "s3:PutObject", ...), or "" for an
// unknown operation. Operation names are those of the S3 API reference.
// Versioned forms: a GET/HEAD/DELETE naming a versionId needs the
// ...Version action; the caller picks "GetObjectVersion",
// "DeleteObjectVersion", "GetObjectVersionTagging" in that case.
// CopyObject and UploadPartCopy also need s3:GetObject on the source; the
// caller evaluates that separately.
func ActionFor(op string) string { return ops[op] }

// knownAction reports whether a lowercased action (or action pattern)
// names at least one S3 action, and the union of their resource kinds.
func knownAction(a string) (kinds int, ok bool) {
	if a == "*" || a == "s3:*" {
		return bucketLevel | objectLevel, true
	}
	if !strings.ContainsAny(a, "*?") {
		k, ok := actions[a]
		return k, ok
	}
	for name, k := range actions {
		if wildcard(a, name) {
			kinds |= k
			ok = true
		}
	}
	return kinds, ok
}
