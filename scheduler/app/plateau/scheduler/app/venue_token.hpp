// Venue credentials for the signaling channel: a random bearer token shown once, kept only as a
// salted hash.
//
// Hash: keyed BLAKE2b (libsodium crypto_generichash, 32-byte digest) with a random 16-byte salt as
// the key, compared in constant time. Not crypto_pwhash (Argon2): that is for low-entropy
// passwords, where a slow hash buys time against guessing. A token carries 256 random bits, so
// guessing is hopeless anyway, and a deliberately slow, memory-hard hash (tens of MiB per check)
// on every signaling connect would only hand attackers a cheap way to exhaust the server.
#pragma once

#include <string>
#include <string_view>

namespace plateau::scheduler::app {

// "pvt_" + 43 characters of URL-safe base64 (32 bytes from plateau::random).
std::string NewVenueToken();
// "blake2b$<salt base64>$<digest base64>".
std::string HashVenueToken(std::string_view token);
// Constant-time check of `token` against a stored HashVenueToken value; false for any malformed
// stored value.
bool VenueTokenMatches(std::string_view stored_hash, std::string_view token);

}  // namespace plateau::scheduler::app
