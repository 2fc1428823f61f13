# Smoke test for argon2-cffi (argon2-cffi-bindings: the C reference implementation via cffi):
# hash a password, verify it, and check that a wrong password raises VerifyMismatchError.
# Exits non-zero on a wrong result.
from importlib.metadata import version

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from argon2.low_level import Type, hash_secret_raw

ph = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=2)
digest = ph.hash("correct horse battery staple")
assert digest.startswith("$argon2id$v=19$m=19456,t=2,p=2$"), digest
assert ph.verify(digest, "correct horse battery staple") is True
try:
    ph.verify(digest, "Tr0ub4dor&3")
    raise AssertionError("a wrong password verified")
except VerifyMismatchError:
    pass
assert not ph.check_needs_rehash(digest)

# the raw hash is deterministic for fixed inputs (two calls, and the same through threads p=2)
a = hash_secret_raw(b"password", b"somesalt", time_cost=2, memory_cost=65536, parallelism=1,
                    hash_len=32, type=Type.I)
b = hash_secret_raw(b"password", b"somesalt", time_cost=2, memory_cost=65536, parallelism=1,
                    hash_len=32, type=Type.I)
assert a == b and len(a) == 32
# phc-winner-argon2 README example: argon2i, t=2, m=2^16, p=1, "password"/"somesalt"
assert a.hex() == "c1628832147d9720c5bd1cfd61367078729f6dfb6f8fea9ff98158e0d7816ed0", a.hex()

print("argon2-cffi %s ok: hash/verify/mismatch, argon2i reference vector" % version("argon2-cffi"))
