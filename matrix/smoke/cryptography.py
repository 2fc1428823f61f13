# Smoke test for cryptography (Rust + OpenSSL inside the wheel): AES-GCM against a published test
# vector and a round trip with tamper detection, Ed25519 against RFC 8032 and a sign/verify round
# trip. Exits non-zero on a wrong result.
import os

import cryptography
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

h = bytes.fromhex

# AES-128-GCM, test case 3 of "The Galois/Counter Mode of Operation (GCM)" (McGrew, Viega)
key = h("feffe9928665731c6d6a8f9467308308")
iv = h("cafebabefacedbaddecaf888")
pt = h("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
       "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")
ct = h("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
       "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985")
tag = h("4d5c2af327cd64a62cf35abd2ba6fab4")
assert AESGCM(key).encrypt(iv, pt, None) == ct + tag

# round trip with a random 256-bit key and associated data; a flipped bit must be rejected
k = AESGCM.generate_key(bit_length=256)
nonce = os.urandom(12)
msg = b"muslcheck " * 100
aad = b"header"
box = AESGCM(k).encrypt(nonce, msg, aad)
assert AESGCM(k).decrypt(nonce, box, aad) == msg
bad = bytearray(box)
bad[5] ^= 1
try:
    AESGCM(k).decrypt(nonce, bytes(bad), aad)
    raise AssertionError("tampered AES-GCM ciphertext was accepted")
except InvalidTag:
    pass

# Ed25519, RFC 8032 section 7.1 test 1 (empty message)
sk = Ed25519PrivateKey.from_private_bytes(
    h("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
from cryptography.hazmat.primitives import serialization as ser
pub = sk.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
assert pub == h("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), pub.hex()
sig = sk.sign(b"")
assert sig == h("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
                "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"), sig.hex()

# generated key: sign, verify, and a changed message must fail verification
sk2 = Ed25519PrivateKey.generate()
s2 = sk2.sign(b"hello musl")
sk2.public_key().verify(s2, b"hello musl")
try:
    sk2.public_key().verify(s2, b"hello glibc")
    raise AssertionError("Ed25519 verified a signature over a different message")
except InvalidSignature:
    pass

try:
    from cryptography.hazmat.backends.openssl.backend import backend
    ossl = backend.openssl_version_text()
except Exception:
    ossl = "?"
print("cryptography %s ok: AES-GCM vector + round trip + tamper, Ed25519 RFC 8032 + round trip (%s)"
      % (cryptography.__version__, ossl))
