package fake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math/big"
)

// randReader adapts crypto/rand for key generation.
type randReader struct{}

func (randReader) Read(p []byte) (int, error) { return rand.Read(p) }

func sshString(b []byte) []byte {
	out := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(out, uint32(len(b)))
	copy(out[4:], b)
	return out
}

func sshMPInt(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return sshString(b)
}

// sshRSAPublicKey renders an OpenSSH authorized_keys line (without comment).
func sshRSAPublicKey(k *rsa.PublicKey) string {
	blob := sshString([]byte("ssh-rsa"))
	blob = append(blob, sshMPInt(big.NewInt(int64(k.E)))...)
	blob = append(blob, sshMPInt(k.N)...)
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(blob)
}

func sha256sum(b []byte) [32]byte { return sha256.Sum256(b) }
