package revocation

import "crypto/x509/pkix"

func nonceExtension(value []byte) pkix.Extension {
	return pkix.Extension{Id: oidNonce, Value: value}
}
