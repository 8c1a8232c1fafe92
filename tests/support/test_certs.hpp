// TLS certificates for a test, generated with openssl by make_test_certs.sh
// into a fresh temporary directory that is removed afterwards.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace coronet_test {

class test_certs {
public:
  test_certs() {
    std::string pattern = (std::filesystem::temp_directory_path() / "coronet-certs-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("test_certs: mkdtemp failed");
    dir_ = pattern;
    std::string command = "sh '";
    command += CORONET_TEST_CERTS_SCRIPT;
    command += "' '";
    command += dir_.string();
    command += "'";
    if (std::system(command.c_str()) != 0)
      throw std::runtime_error("test_certs: make_test_certs.sh failed (is openssl installed?)");
  }
  test_certs(const test_certs&) = delete;
  test_certs& operator=(const test_certs&) = delete;
  ~test_certs() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  /// The path of `name` (e.g. "server.pem") in the directory.
  std::string path(const char* name) const { return (dir_ / name).string(); }
  const std::filesystem::path& dir() const noexcept { return dir_; }

private:
  std::filesystem::path dir_;
};

/// One set of certificates for the whole test program, made on first use.
inline const test_certs& certs() {
  static const test_certs c;
  return c;
}

}  // namespace coronet_test
