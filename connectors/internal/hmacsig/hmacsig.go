// Package hmacsig holds the HMAC-SHA256 webhook signature code the
// connectors share: a signature is a prefix such as "sha256=" or "v1="
// followed by the hex HMAC-SHA256 of the raw body. The vendor's header
// names, prefixes and sentinel errors stay in each connector.
package hmacsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// HexLen is the length of a hex HMAC-SHA256.
const HexLen = 2 * sha256.Size

// Sum returns the HMAC-SHA256 of body keyed with secret.
func Sum(secret, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return mac.Sum(nil)
}

// Sign returns prefix followed by the hex HMAC-SHA256 of body keyed with
// secret.
func Sign(prefix string, secret, body []byte) string {
	return prefix + hex.EncodeToString(Sum(secret, body))
}

// Check verifies header, prefix (in any case) followed by the hex
// HMAC-SHA256 of body keyed with secret, in constant time. It returns nil
// when it matches, errBad wrapped with the expected form when header does
// not have that form, and errBad itself when it does but does not match.
func Check(secret []byte, header, prefix string, body []byte, errBad error) error {
	if len(header) != len(prefix)+HexLen || !strings.EqualFold(header[:len(prefix)], prefix) {
		return fmt.Errorf("%w: want %s<%d hex digits>", errBad, prefix, HexLen)
	}
	got, err := hex.DecodeString(header[len(prefix):])
	if err != nil {
		return fmt.Errorf("%w: want %s<%d hex digits>", errBad, prefix, HexLen)
	}
	if !hmac.Equal(Sum(secret, body), got) {
		return errBad
	}
	return nil
}
