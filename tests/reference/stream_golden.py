#!/usr/bin/env python3
"""Independent check of linres's stream derivation and generator (see src/rng.rs, golden test).

Recomputes, without any linres or Rust code:
  1. the stream seed blake3("linres stream v1\\0" + canonical JSON) with Python's `blake3` package;
  2. the first three u64 outputs of ChaCha8 (RFC 7539 block function, 8 rounds, nonce 0, counter 0,
     two little-endian u32 words per u64) from that seed.
Usage: pip install blake3 && python3 tests/reference/stream_golden.py
"""
import json
import struct

import blake3


def rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)


def chacha_block(key, counter, rounds=8):
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574, *struct.unpack("<8I", key),
             counter & 0xFFFFFFFF, counter >> 32, 0, 0]
    w = state[:]
    for _ in range(rounds // 2):
        quarter(w, 0, 4, 8, 12); quarter(w, 1, 5, 9, 13); quarter(w, 2, 6, 10, 14); quarter(w, 3, 7, 11, 15)
        quarter(w, 0, 5, 10, 15); quarter(w, 1, 6, 11, 12); quarter(w, 2, 7, 8, 13); quarter(w, 3, 4, 9, 14)
    return [(a + b) & 0xFFFFFFFF for a, b in zip(w, state)]


text = json.dumps({"master_seed": 20200302, "params": {"d": 10, "kind": "paper", "n": 1000},
                   "seed": 0, "stream": "data"}, separators=(",", ":"), sort_keys=True)
seed = blake3.blake3(b"linres stream v1\0" + text.encode()).digest()
words = chacha_block(seed, 0)
print("seed ", seed.hex())
print("words", [words[2 * i] | (words[2 * i + 1] << 32) for i in range(3)])
