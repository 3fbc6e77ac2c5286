package engine

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// A lease is held by an owner string, and TryLock lets an owner take a
// lease it already holds. Two holders that share an owner string therefore
// both get the lease: owners must be unique across every job of every
// replica, which a pointer and a clock reading are not (two jobs River
// starts at once can read the same nanosecond; a CI run once mirrored an
// item twice with both of its syncs inside the lease). A random prefix per
// process and a counter are unique.

var (
	leaseOwnerPrefix = func() string {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic("engine: no randomness for lease owners: " + err.Error())
		}
		return hex.EncodeToString(b[:])
	}()
	leaseOwnerSeq atomic.Uint64
)

// newLeaseOwner returns an owner no other call, in this process or any
// other, returns.
func newLeaseOwner() string {
	return leaseOwnerPrefix + "-" + strconv.FormatUint(leaseOwnerSeq.Add(1), 10)
}
