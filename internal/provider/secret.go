package provider

import (
	"crypto/rand"
	"math/big"
)

const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// GeneratePassword returns a random password of n characters from an alphabet
// every database engine and shell accepts unquoted (no look-alike characters).
func GeneratePassword(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // the OS has no entropy source: nothing is safe
		}
		b[i] = passwordAlphabet[v.Int64()]
	}
	return string(b)
}
