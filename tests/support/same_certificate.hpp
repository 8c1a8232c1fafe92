// Whether a TLS peer presented the certificate of a PEM file.
#pragma once

#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <string>

namespace coronet_test {

/// True if `cert` (null: none presented) is the first certificate in `pem_file`.
inline bool same_certificate(X509* cert, const std::string& pem_file) {
  std::FILE* f = std::fopen(pem_file.c_str(), "r");
  REQUIRE(f != nullptr);
  X509* expected = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  REQUIRE(expected != nullptr);
  const bool same = cert != nullptr && X509_cmp(cert, expected) == 0;
  X509_free(expected);
  return same;
}

}  // namespace coronet_test
